"""GoodMem wire shapes: request bodies (camelCase in, snake_case attributes) and response builders.

Why it is written this way (spec ``docs/compat/goodmem.md`` §1.3, §5, §7, §8):

* Bodies are camelCase; the SDK omits unset fields and never sends ``null`` for them, and free-form
  dicts (``metadata``, ``labels``, ``postProcessor.config``) arrive verbatim. Unknown keys are ignored
  (newer clients send fields this server does not know).
* Responses must carry every field the SDK marks required, even when zero/false/empty, or the SDK raises
  a pydantic ``ValidationError``; timestamps are integer milliseconds; bytes are standard padded base64.
* GoodMem ids are UUIDs and the SDK pastes them raw into paths, so the server validates them (400).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from memhub.core.errors import InvalidInput
from memhub.core.models import Job, JobStatus, Record, Space

DEFAULT_CHUNKING: dict[str, Any] = {
    "recursive": {
        "chunkSize": 512,
        "chunkOverlap": 64,
        "keepStrategy": "KEEP_END",
        "lengthMeasurement": "CHARACTER_COUNT",
    }
}
CHARS_PER_TOKEN = 4  # TOKEN_COUNT sizes are turned into memhub's character sizes with this ratio
MIN_CHUNK, MAX_CHUNK, MAX_OVERLAP = 50, 20_000, 5_000  # DocumentInput's bounds

PROCESSING_STATUS: dict[JobStatus, str] = {
    JobStatus.PENDING: "PENDING",
    JobStatus.PROCESSING: "PROCESSING",
    JobStatus.SUCCEEDED: "COMPLETED",
    JobStatus.FAILED: "FAILED",
}
JOB_STATUS: dict[JobStatus, str] = {
    JobStatus.PENDING: "BACKGROUND_JOB_PENDING",
    JobStatus.PROCESSING: "BACKGROUND_JOB_RUNNING",
    JobStatus.SUCCEEDED: "BACKGROUND_JOB_SUCCEEDED",
    JobStatus.FAILED: "BACKGROUND_JOB_FAILED",
}


class Body(BaseModel):
    """camelCase on the wire, also accepted by field name; unknown keys ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class SpaceEmbedderIn(Body):
    embedder_id: str
    default_retrieval_weight: float = 1.0


class SpaceCreate(Body):
    name: str = Field(min_length=1, max_length=256)
    labels: dict[str, str] = Field(default_factory=dict)
    space_embedders: list[SpaceEmbedderIn] = Field(default_factory=list)
    default_chunking_config: dict[str, Any] | None = None
    owner_id: str | None = None
    space_id: str | None = None


class EmbedderCreate(Body):
    display_name: str = Field(min_length=1)
    provider_type: str
    endpoint_url: str
    model_identifier: str
    dimensionality: int = Field(ge=1)
    distribution_type: str = "DENSE"
    description: str | None = None
    api_path: str | None = None
    max_sequence_length: int | None = None
    supported_modalities: list[str] = Field(default_factory=lambda: ["TEXT"])
    labels: dict[str, str] = Field(default_factory=dict)
    version: str | None = None
    monitoring_endpoint: str | None = None
    embedder_id: str | None = None


class MemoryCreate(Body):
    space_id: str
    content_type: str = ""
    original_content: str | None = None
    original_content_b64: str | None = None
    original_content_ref: str | None = None
    memory_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    chunking_config: dict[str, Any] | None = None
    extract_page_images: bool = False


class BatchCreate(Body):
    requests: list[dict[str, Any]]


class BatchGet(Body):
    memory_ids: list[str]
    include_content: bool = False
    include_processing_history: bool = False


class FilterSelector(Body):
    space_id: str
    status_filter: str | None = None
    filter: str | None = None


class DeleteSelector(Body):
    memory_id: str | None = None
    filter_selector: FilterSelector | None = None


class BatchDelete(Body):
    requests: list[DeleteSelector]


class EmbedderWeight(Body):
    embedder_id: str
    weight: float


class SpaceKey(Body):
    space_id: str
    embedder_weights: list[EmbedderWeight] | None = None
    filter: str | None = None


class ContextItem(Body):
    text: str | None = None
    binary: dict[str, Any] | None = None


class PostProcessor(Body):
    name: str
    config: dict[str, Any] = Field(default_factory=dict)


class RetrieveRequest(Body):
    message: str = Field(min_length=1, max_length=10_000)
    space_keys: list[SpaceKey] = Field(min_length=1)
    context: list[ContextItem] = Field(default_factory=list)
    requested_size: int | None = None
    fetch_memory: bool = True
    fetch_memory_content: bool = False
    post_processor: PostProcessor | None = None
    output_budget: dict[str, Any] | None = None


# ---------------------------------------------------------------------------------------------------
# values


def check_uuid(value: str, what: str) -> str:
    """The canonical lowercase form of a UUID; :class:`InvalidInput` (400) otherwise."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput(f"{what} must be a UUID, got {value[:80]!r}") from None


def millis(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def decode_b64(text: str, what: str) -> bytes:
    """Standard base64, leniently: missing padding and the URL-safe alphabet are accepted too."""
    cleaned = "".join(text.split()).replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{what} is not valid base64") from None


def encode_b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def job_number(job_id: str) -> int:
    """GoodMem's ``jobId`` is an int64; memhub's is a UUID, folded into 63 bits for display."""
    return uuid.UUID(job_id).int % (1 << 63)


# ---------------------------------------------------------------------------------------------------
# chunking configuration


def chunk_sizes(config: dict[str, Any]) -> tuple[int, int]:
    """A GoodMem chunking configuration → memhub's ``(chunk_size, chunk_overlap)`` in characters.

    Exactly one variant: ``recursive`` (size/overlap), ``sentence`` (max size, no overlap) or ``none``
    (the whole text as one chunk, up to memhub's largest chunk).
    """
    if len(config) != 1 or not isinstance(next(iter(config.values())), dict):
        raise InvalidInput("chunkingConfig must have exactly one of recursive, sentence, none")
    kind, body = next(iter(config.items()))
    scale = CHARS_PER_TOKEN if body.get("lengthMeasurement") == "TOKEN_COUNT" else 1
    try:
        if kind == "recursive":
            size, overlap = int(body["chunkSize"]) * scale, int(body.get("chunkOverlap", 0)) * scale
        elif kind == "sentence":
            size, overlap = int(body["maxChunkSize"]) * scale, 0
        elif kind == "none":
            size, overlap = MAX_CHUNK, 0
        else:
            raise InvalidInput(f"unknown chunkingConfig variant {kind!r}")
    except (KeyError, TypeError, ValueError):
        raise InvalidInput(f"chunkingConfig.{kind} is missing a size or has a non-integer one") from None
    if size < 1 or overlap < 0:
        raise InvalidInput("chunk sizes must be positive")
    size = min(max(size, MIN_CHUNK), MAX_CHUNK)
    return size, min(overlap, size - 1, MAX_OVERLAP)


def echo_chunking(config: dict[str, Any]) -> dict[str, Any]:
    """The config as the SDK must read it back: one variant with all its required keys."""
    kind, body = next(iter(config.items()))
    if kind == "recursive":
        defaults = {"chunkOverlap": 0, "keepStrategy": "KEEP_END", "lengthMeasurement": "CHARACTER_COUNT"}
        return {"recursive": {**defaults, **body}}
    if kind == "sentence":
        defaults = {"minChunkSize": 0, "lengthMeasurement": "CHARACTER_COUNT"}
        return {"sentence": {**defaults, **body}}
    return {"none": {}}


# ---------------------------------------------------------------------------------------------------
# responses


def space_json(space: Space) -> dict[str, Any]:
    """A memhub space as a GoodMem Space; GoodMem-only fields live under ``metadata["goodmem"]``."""
    extra = space.metadata.get("goodmem") or {}
    created = millis(space.created_at)
    owner = extra.get("ownerId") or space.tenant_id
    embedders = [
        {
            "spaceId": space.id,
            "embedderId": e["embedderId"],
            "defaultRetrievalWeight": e.get("defaultRetrievalWeight", 1.0),
            "createdAt": created,
            "updatedAt": created,
            "createdById": owner,
            "updatedById": owner,
        }
        for e in extra.get("spaceEmbedders", [])
    ]
    return {
        "spaceId": space.id,
        "name": space.name,
        "labels": extra.get("labels", {}),
        "spaceEmbedders": embedders,
        "defaultChunkingConfig": extra.get("defaultChunkingConfig", DEFAULT_CHUNKING),
        "createdAt": created,
        "updatedAt": created,
        "ownerId": owner,
        "createdById": owner,
        "updatedById": owner,
    }


def embedder_json(record: Record) -> dict[str, Any]:
    data = record.data
    return {
        **data,
        "embedderId": record.id,
        "createdAt": millis(record.created_at),
        "updatedAt": millis(record.updated_at),
        "createdById": data["ownerId"],
        "updatedById": data["ownerId"],
    }


def memory_json(
    record: Record,
    job: Job | None,
    *,
    content: bytes | None = None,
    history: bool = False,
) -> dict[str, Any]:
    """A GoodMem Memory from its record (the GoodMem-only fields) and its memhub job (the status)."""
    data = record.data
    status = PROCESSING_STATUS[job.status] if job is not None else "PENDING"  # job not queued yet
    pages = data.get("pageImages") or {}
    out: dict[str, Any] = {
        "memoryId": record.id,
        "spaceId": data["spaceId"],
        "contentType": data["contentType"],
        "processingStatus": status,
        "pageImageStatus": pages.get("status", "UNSPECIFIED"),
        "pageImageCount": pages.get("count", 0),
        "metadata": data.get("metadata", {}),
        "originalContentLength": data["length"],
        "originalContentSha256": data["sha256"],
        "originalContentRef": data.get("ref"),
        "chunkingConfig": data["chunkingConfig"],
        "createdAt": millis(record.created_at),
        "updatedAt": millis(job.updated_at if job is not None else record.updated_at),
        "createdById": data["ownerId"],
        "updatedById": data["ownerId"],
    }
    if content is not None:
        out["originalContent"] = encode_b64(content)
    if history and job is not None:
        out["processingHistory"] = {"latestJob": _job_summary(job)}
    return out


def _job_summary(job: Job) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "jobId": job_number(job.id),
        "jobType": "document",
        "status": JOB_STATUS[job.status],
        "attempts": job.attempts,
        "maxAttempts": max(job.attempts, 1),
        "updatedAt": millis(job.updated_at),
    }
    if job.last_error:
        summary["lastError"] = job.last_error
    return summary
