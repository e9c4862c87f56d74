"""GUMem on the wire: its request bodies, its error shape and its ``Authorization`` header.

See ``routes.py`` for why errors are always in GUMem's shape (:class:`GumemRoute`) and how the words map.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.responses import Response

from memhub.api.compat.adapter import error_route
from memhub.api.deps import authenticate_key
from memhub.api.errors import ApiError
from memhub.core.errors import (
    Unauthenticated,
)
from memhub.core.models import (
    Tenant,
)

AUTH_SCHEMES = frozenset({"api-key", "bearer"})  # Bearer: the qoni client's scheme for the same keys
_LOCATIONS = frozenset({"body", "query", "path", "header"})


# ---------------------------------------------------------------------------------------------------
# errors


def render_error(error: ApiError) -> Response:
    """GUMem's error shape: a string ``detail`` (the SDK's exception message) plus a machine code."""
    fields = error.details.get("fields") or []
    detail = _field_message(fields[0]) if fields else error.message
    code: dict[str, Any] = {"code": error.code}
    if fields:
        code["fields"] = fields
    body = {"detail": detail, "success": False, "error": code}
    return JSONResponse(body, status_code=error.status, headers=error.headers or None)


def _field_message(field: Mapping[str, Any]) -> str:
    """``body.user_id`` + ``missing`` → ``user_id is required``: the wording the GUMem docs use."""
    head, _, rest = str(field.get("loc", "")).partition(".")
    where = rest if head in _LOCATIONS else str(field.get("loc", ""))
    if field.get("type") == "missing":
        return f"{where} is required"
    message = str(field.get("message", "invalid value"))
    return f"{where}: {message}" if where else message


GumemRoute = error_route(render_error, name="gumem")
"""Every GUMem route answers its errors in GUMem's shape, never in the native envelope."""


# ---------------------------------------------------------------------------------------------------
# request bodies


def as_utc(value: datetime) -> datetime:
    """The SDK sends naive datetimes without a zone; GUMem reads them as UTC."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
Text = Annotated[str, AfterValidator(_not_blank)]
ShortText = Annotated[str, Field(max_length=256)]
ProcessingStatus = Literal["pending", "chunked", "processed", "failed"]


class _Body(BaseModel):
    # The SDK sends the caller's dict verbatim, so unknown keys are ignored rather than refused.
    model_config = ConfigDict(extra="ignore")


class SessionCreate(_Body):
    """``POST /api/sessions``. ``user_id`` is checked by the service (non-empty, ≤ 256)."""

    user_id: str
    title: str | None = Field(None, max_length=512)
    metadata: dict[str, Any] | None = None
    session_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,128}$", description="Caller-chosen id.")


class GumMessage(_Body):
    """One message as the SDK sends it."""

    role: str = Field(min_length=1, max_length=64)
    content: Text
    id: str | None = None
    metadata: dict[str, Any] | None = None
    timestamp: UtcDatetime | None = None
    created_at: UtcDatetime | None = None
    status: ProcessingStatus | None = None


class AddMessages(_Body):
    """``POST /api/sessions/{id}/messages``; ``sync`` (qoni) waits for processing."""

    messages: list[GumMessage] = Field(min_length=1)
    user_id: str | None = None
    sync: bool = False


class ContextBody(_Body):
    """``POST …/context``: ``recall_config`` in any key casing; ``metadata_filters`` (qoni) merged in."""

    recall_config: dict[str, Any] | None = None
    metadata_filters: dict[str, Any] | None = None


class RecallConfig(BaseModel):
    """The ``recall_config`` knobs memhub honours (keys already normalised); others are ignored."""

    model_config = ConfigDict(extra="ignore", strict=True)

    message_recent_limit: int = Field(20, ge=0, le=200)
    proposition_top_k: int = Field(10, ge=0, le=100)
    observation_semantic_top_k: int = Field(5, ge=0, le=100)
    enable_long_term_recall: bool = True


RECALL_KEYS = {name.replace("_", ""): name for name in RecallConfig.model_fields}
FILTERS_KEY = "metadatafilters"


class ActionCreate(_Body):
    """``POST /api/user/actions``."""

    user_id: str
    timestamp: UtcDatetime
    content: Text
    log_id: str | None = None
    session_id: str | None = None
    device_id: ShortText | None = None
    app: ShortText | None = None
    platform: ShortText | None = None
    event_type: ShortText | None = None
    page: ShortText | None = None
    anchors: dict[str, str] | None = None
    metadata: dict[str, Any] | None = None
    entities: list[str] | None = None


# ---------------------------------------------------------------------------------------------------
# authentication


def caller_tenant(request: Request, authorization: Annotated[str | None, Header()] = None) -> Tenant:
    """``Authorization: Api-Key <key>`` → the key's tenant (same check and rate limit as every door)."""
    scheme, _, secret = (authorization or "").strip().partition(" ")
    if scheme.lower() not in AUTH_SCHEMES or not secret.strip():
        raise Unauthenticated("missing API key: send 'Authorization: Api-Key <key>'")
    return authenticate_key(request, secret.strip())


TenantDep = Annotated[Tenant, Depends(caller_tenant)]
