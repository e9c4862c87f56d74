"""The few response shapes that are HTTP envelopes rather than domain nouns.

Domain objects (``Memory``, ``Job``, ``SearchResult``…) are parsed into ``memhub.core.models`` and never
re-declared here. What remains are the answers that only exist on the wire: the 202 acknowledgement of
a submission, ``/v1/info`` and ``/health``. They ignore unknown fields so an older SDK keeps working
against a newer server that adds some.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from memhub.core.models import Counts, Job, JobStatus


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Submission(_Envelope):
    """The answer to an add: the job that will process the input.

    ``created`` is False when the same input had been submitted before (submissions are idempotent by
    content). After ``wait=True``, ``status`` is final and ``job`` holds the finished job with the ids of
    the memories it produced.
    """

    job_id: str
    status: JobStatus
    created: bool
    job: Job | None = None

    @property
    def memory_ids(self) -> list[str]:
        """The memories the job produced (empty until it succeeded and was waited for)."""
        return list(self.job.memory_ids) if self.job is not None else []


class EmbedderInfo(_Envelope):
    """The embedding model a server uses."""

    model: str
    dim: int


class ServerInfo(_Envelope):
    """``GET /v1/info``: what the server runs and how much the caller's tenant holds."""

    version: str
    backend: str
    embedder: EmbedderInfo
    counts: Counts = Field(default_factory=Counts)


class Health(_Envelope):
    """``GET /health``: liveness, no authentication needed."""

    status: str
    version: str | None = None
