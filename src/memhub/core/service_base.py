"""What every use-case mixin of ``MemoryService`` shares: its state, its input checks, its space lookup.

``MemoryService`` (``service.py``) is composed of mixins, one per group of use cases
(``service_tenancy``, ``service_ingest``, ``service_jobs``, ``service_memories``, ``service_sessions``,
``service_records``). Mixins rather than collaborator objects because every door calls
``service.<use case>(...)`` directly: with mixins each method keeps its one signature and docstring, where
collaborators would need a forwarding copy of every signature on ``MemoryService``. Each mixin derives
from :class:`ServiceBase`, which *declares* the attributes ``MemoryService.__init__`` sets, so mypy checks
every mixin on its own; attributes only one group uses (the key cache, the retriever, the submit hook) are
declared on that group's mixin.

:meth:`ServiceBase.resolve_space` lives here, not with the other space use cases, because ingestion,
search, listing, sessions and jobs all resolve the caller's space name first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import InvalidInput, LimitExceeded, NotFound
from .models import Space
from .ports import Clock, Store

DEFAULT_SPACE = "default"


@dataclass(frozen=True)
class Limits:
    """Per-request limits the service enforces whatever door a request came through."""

    max_messages_per_request: int = 500
    max_content_chars: int = 100_000
    max_document_chars: int = 5_000_000
    max_page_size: int = 1000
    max_search_limit: int = 200
    max_metadata_bytes: int = 16_384
    max_blob_bytes: int = 50_000_000
    max_pdf_pages: int = 1000
    max_pdf_inflated_bytes: int = 256_000_000
    max_pdf_pixels: int = 500_000_000
    pdf_memory_mb: int = 1024
    pdf_cpu_seconds: int = 60
    pdf_tenant_concurrency: int = 1
    pdf_processes: int = 2


class ServiceBase:
    """The state ``MemoryService.__init__`` sets, declared for the mixins, and their shared helpers."""

    store: Store
    clock: Clock
    limits: Limits

    def resolve_space(self, tenant_id: str, name_or_id: str | None) -> Space:
        """A space by name or id; ``None`` means the tenant's default space."""
        name = name_or_id or DEFAULT_SPACE
        space = self.store.find_space(tenant_id, name)
        if space is not None:
            return space
        if name == DEFAULT_SPACE:
            self.store.ensure_tenant(self.store.get_tenant(tenant_id).name, self.clock.now())
            found = self.store.find_space(tenant_id, name)
            if found is not None:
                return found
        try:
            return self.store.get_space(tenant_id, name)
        except NotFound:
            raise NotFound(f"no space named or with id {name!r}") from None

    # ------------------------------------------------------------------------------------------
    # validation helpers

    def _check_content(self, field: str, text: str) -> None:
        if len(text) > self.limits.max_content_chars:
            raise LimitExceeded(
                f"{field} is {len(text)} characters; the limit is {self.limits.max_content_chars}"
            )

    def _check_metadata(self, metadata: dict[str, Any] | None) -> None:
        if metadata is None:
            return
        if not isinstance(metadata, dict):
            raise InvalidInput("metadata must be a JSON object")
        size = len(json.dumps(metadata, default=str))
        if size > self.limits.max_metadata_bytes:
            raise LimitExceeded(
                f"metadata is {size} bytes as JSON; the limit is {self.limits.max_metadata_bytes}"
            )

    def _check_page_size(self, limit: int) -> None:
        if not 1 <= limit <= self.limits.max_page_size:
            raise InvalidInput(f"limit must be between 1 and {self.limits.max_page_size}")


def check_name(field: str, value: str) -> None:
    if not value or not value.strip():
        raise InvalidInput(f"{field} must not be empty")
    if len(value) > 256:
        raise InvalidInput(f"{field} is longer than 256 characters")
