"""Memsy request bodies and their validation (spec: docs/compat/memsy.md §4).

The SDK validates nothing client-side, so every rule Memsy's hosted API enforces is enforced here and
answered with a 422 that the SDK turns into ``MemsyAPIError`` (a str ``detail``). The limits are Memsy's,
not memhub's (memhub accepts longer content); they are part of the protocol a Memsy client was written
against. Unknown keys are ignored, as Memsy does, so newer clients keep working.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from memhub.core.errors import PermissionDenied
from memhub.core.models import Tenant

EventKindName = Literal["user_message", "assistant_message", "tool_result", "app_event"]
MAX_EVENTS = 1000
MAX_STATUS_IDS = 500
_SESSION_ID = re.compile(r"[A-Za-z0-9_\-:.@/]{1,256}")


def _strip_nul(value: object) -> object:
    """NUL bytes are stripped from every string (PostgreSQL cannot store them; Memsy drops them too)."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def _required(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain a non-whitespace character")
    return value


def _blank_to_none(value: object) -> object:
    value = _strip_nul(value)
    return None if isinstance(value, str) and not value.strip() else value


def _search_session(value: object) -> object:
    """An empty string counts as unset (the SDK documents this); anything else must be searchable."""
    value = _blank_to_none(value)
    if value is not None and not (isinstance(value, str) and _SESSION_ID.fullmatch(value)):
        raise ValueError("must match [A-Za-z0-9_-:.@/]{1,256}")
    return value


Text = Annotated[str, BeforeValidator(_strip_nul), AfterValidator(_required)]
Id = Annotated[str, BeforeValidator(_strip_nul), Field(max_length=256), AfterValidator(_required)]
OptionalId = Annotated[Annotated[str, Field(max_length=256)] | None, BeforeValidator(_blank_to_none)]
SessionFilter = Annotated[str | None, BeforeValidator(_search_session)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class EventIn(_Body):
    """One event of ``POST /ingest``; optional keys are omitted by the SDK when unset."""

    actor_id: Id
    session_id: Id
    kind: EventKindName
    content: Annotated[str, BeforeValidator(_strip_nul), Field(max_length=7999), AfterValidator(_required)]
    role_id: OptionalId = None
    team_id: OptionalId = None
    ts: datetime | None = None
    metadata: Annotated[Annotated[str, Field(max_length=4096)] | None, BeforeValidator(_strip_nul)] = None


class IngestIn(_Body):
    events: Annotated[list[EventIn], Field(min_length=1, max_length=MAX_EVENTS)]


class StatusIn(_Body):
    event_ids: Annotated[list[str], Field(max_length=MAX_STATUS_IDS)]


class SearchIn(_Body):
    query: Text
    limit: Annotated[int, Field(ge=1, le=100)] = 10
    threshold: float = 0.0
    include_source_events: bool = False
    actor_id: OptionalId = None
    session_id: SessionFilter = None
    exclude_session_id: SessionFilter = None
    role_ids: list[str] | None = None
    team_ids: list[str] | None = None

    @model_validator(mode="after")
    def _one_session_filter(self) -> SearchIn:
        if self.session_id and self.exclude_session_id:
            raise ValueError("session_id and exclude_session_id are mutually exclusive")
        return self

    def clamped_threshold(self) -> float:
        """Memsy accepts any number; scores live in [0, 1], so the threshold is clamped there."""
        return min(1.0, max(0.0, self.threshold))


class RecordIn(_Body):
    """``POST /orgs`` | ``/roles`` | ``/teams``: the org the record belongs to, its name and focus."""

    org_id: Id
    name: Text
    focus: Text


class RecordPatch(_Body):
    """``PATCH``: only the keys the caller sent change (the SDK sends ``{}`` for no change)."""

    name: Text | None = None
    focus: Text | None = None
    promotion_prompt: Text | None = None


class OrgMismatch(PermissionDenied):
    """An ``org_id`` other than the caller's: Memsy answers 403 (``AuthorizationError``), not 404."""

    code = "org_mismatch"


def check_org(tenant: Tenant, org_id: str | None, created: Callable[[str], bool]) -> str:
    """The org a request names: the key's own org (the tenant's name) unless ``org_id`` says otherwise.

    A tenant may hold several Memsy orgs (``orgs.create`` with any id): besides its own org, an
    ``org_id`` must be one the tenant created (``created``), else 403 ``org_mismatch`` — the answer
    Memsy gives for an org outside the key's scope. Orgs are the tenant's records, so another tenant's
    org of the same name is a different org, never reachable with this key.
    """
    if org_id is None or org_id == tenant.name:
        return tenant.name
    if not created(org_id):
        raise OrgMismatch(
            f"org_id {org_id!r} is not an org of this key: create it with orgs.create, or use {tenant.name!r}"
        )
    return org_id
