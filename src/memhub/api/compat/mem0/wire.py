"""mem0 on the wire: the request bodies its clients send, and the ``Authorization: Token`` header.

Bodies ignore keys they do not know (each client version sends its own extras: ``output_format``,
``version``, ``async_mode``, ``org_id``…). Keys that would change what mem0 does and memhub cannot honour
are declared here so the router can refuse them by name (:data:`UNHONOURED_ADD`, ``…_SEARCH``,
``…_LIST``) instead of dropping them silently.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from memhub.api.deps import authenticate_key
from memhub.core.errors import Unauthenticated
from memhub.core.models import Tenant

ENTITY_FIELDS = ("user_id", "agent_id", "app_id", "run_id")
AUTH_SCHEMES = frozenset({"token", "bearer"})
MAX_BATCH = 1000  # mem0's own limit per batch request


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Entities(_Body):
    """The four ids mem0 scopes a memory by; any of them may be absent."""

    user_id: str | None = Field(None, min_length=1, max_length=200)
    agent_id: str | None = Field(None, min_length=1, max_length=200)
    app_id: str | None = Field(None, min_length=1, max_length=200)
    run_id: str | None = Field(None, min_length=1, max_length=200)


class Message(_Body):
    role: str = Field(min_length=1, max_length=64)
    content: str
    name: str | None = Field(None, max_length=256)


def _as_message_list(value: Any) -> Any:
    """A bare string is one user message and a bare object one message (the npm client sends them so)."""
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, dict):
        return [value]
    return value


class AddBody(Entities):
    """``POST /v3/memories/add/`` (2.x) and ``POST /v1/memories/`` (1.x, ``async_mode``)."""

    messages: Annotated[list[Message], BeforeValidator(_as_message_list)] = Field(min_length=1)
    filters: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    infer: bool = True
    async_mode: bool | None = None
    timestamp: int | float | None = Field(None, ge=0)
    expiration_date: str | None = None
    custom_instructions: str | None = None
    agent_custom_instructions: str | None = None
    custom_categories: list[Any] | None = None
    structured_data_schema: dict[str, Any] | None = None
    includes: str | None = None
    excludes: str | None = None
    immutable: bool | None = None


UNHONOURED_ADD = {
    "expiration_date": "expiring memories",
    "custom_instructions": "per-call extraction instructions",
    "agent_custom_instructions": "per-call extraction instructions",
    "custom_categories": "custom categories",
    "structured_data_schema": "structured data extraction",
    "includes": "include/exclude extraction hints",
    "excludes": "include/exclude extraction hints",
    "immutable": "immutable memories",
}


class SearchBody(Entities):
    """``POST /v3/memories/search/`` (2.x), ``/v2/memories/search/`` and ``/v1/memories/search/`` (1.x)."""

    query: str = Field(min_length=1)
    filters: dict[str, Any] | None = None
    top_k: int = Field(10, ge=1, le=1000)
    limit: int | None = Field(None, ge=1, le=1000)  # 1.x's name for top_k
    threshold: float | None = Field(None, ge=0.0, le=1.0)
    rerank: bool = False
    keyword_search: bool | None = None
    fields: list[str] | None = None
    categories: list[str] | None = None
    metadata: dict[str, Any] | None = None
    show_expired: bool | None = None
    latest_only: bool | None = None
    reference_date: int | float | str | None = None


UNHONOURED_SEARCH = {"reference_date": "time-travel search (reference_date)"}


class ListBody(Entities):
    """``POST /v3/memories/`` (2.x) and ``POST /v2/memories/`` (1.x): a filtered listing."""

    filters: dict[str, Any] | None = None
    page: int | None = Field(None, ge=1)
    page_size: int | None = Field(None, ge=1)
    categories: list[str] | None = None
    metadata: dict[str, Any] | None = None
    start_date: str | None = None
    end_date: str | None = None
    show_expired: bool | None = None
    latest_only: bool | None = None


UNHONOURED_LIST = {"start_date": "date-range listing", "end_date": "date-range listing"}


class UpdateBody(_Body):
    """``PUT /v1/memories/{id}/``: new text and/or metadata."""

    text: str | None = Field(None, min_length=1)
    metadata: dict[str, Any] | None = None
    timestamp: int | float | str | None = None
    expiration_date: str | None = None


UNHONOURED_UPDATE = {"timestamp": "changing a memory's time", "expiration_date": "expiring memories"}


class BatchUpdateItem(_Body):
    memory_id: str = Field(min_length=1, max_length=256)
    text: str | None = Field(None, min_length=1)
    metadata: dict[str, Any] | None = None


class BatchUpdate(_Body):
    memories: list[BatchUpdateItem] = Field(min_length=1, max_length=MAX_BATCH)


class BatchDeleteItem(_Body):
    memory_id: str = Field(min_length=1, max_length=256)


class BatchDelete(_Body):
    memories: list[BatchDeleteItem] = Field(min_length=1, max_length=MAX_BATCH)


def caller_tenant(request: Request, authorization: Annotated[str | None, Header()] = None) -> Tenant:
    """``Authorization: Token <key>`` → the memhub key's tenant (same check and rate limit as every door).

    ``Mem0-User-ID`` (an md5 of the key the clients add) names nobody here and is ignored.
    """
    scheme, _, secret = (authorization or "").strip().partition(" ")
    if scheme.lower() not in AUTH_SCHEMES or not secret.strip():
        raise Unauthenticated("missing API key: send 'Authorization: Token <memhub key>'")
    return authenticate_key(request, secret.strip())


TenantDep = Annotated[Tenant, Depends(caller_tenant)]
