"""The GUMem wire protocol (``steamory-agent-kit-gum`` 0.1.0 on PyPI), served at ``settings.gumem_prefix``.

Spec: ``shared/compat/gumem.md``. Six routes, ``Authorization: Api-Key <key>``, snake_case bodies, every
2xx answer an envelope ``{"success": true, "message": ..., "data": {...}}``, every error
``{"detail": "<string>"}``. Everything here is translation; the use cases are ``MemoryService``'s
``create_session`` / ``add_messages`` / ``recent_messages`` / ``search`` / ``list_memories`` /
``add_action``.

Why the choices below:

* **Words.** The API key selects the memhub tenant; ``user_id`` is the memhub user; a GUMem session is a
  memhub session, a message a message event, a user action an action event. A message's ``status`` is
  its job's status (``pending`` until the worker is done, then ``processed`` or ``failed``): memhub
  chunks, embeds and extracts in one step, so ``chunked`` is accepted on input but never reported.
* **Recall parts.** ``messages`` = the session's most recent messages (``MessageRecentLimit``, after
  ``MetadataFilters``); ``observations`` = this session's episodes (turns and actions) relevant to the
  query; ``propositions`` = the user's facts from *all* their sessions, by relevance to the query (or,
  without one, the user's facts as the service lists them). Facts are searched by ``user_id``, not by
  session, which is what lets a new session recall what an earlier one taught.
* **MetadataFilters** are an exact-match AND filter; they are passed to the service as plain
  ``{key: value}`` equality filters, so messages, episodes and facts (whose metadata carries their source
  message's metadata) are narrowed by the one filter implementation in ``core/filters.py``.
* **Fields memhub has no column for** (a session's ``title``; an action's ``event_type``, ``page``,
  ``anchors``, ``entities``, …) are kept under one reserved metadata key, ``gumem``, so nothing the
  caller sent is lost and nothing collides with the caller's own metadata keys.
* **Message timestamps.** GUMem says an absent ``timestamp`` means "now". memhub makes a submission
  idempotent by hashing its content, so two identical messages without id or timestamp (a user saying
  "yes" twice) would otherwise collapse into one; stamping them with the receive time keeps them apart,
  while a message with a caller ``id`` stays idempotent on re-send.
* **Errors in GUMem's shape, always.** FastAPI's exception handlers are app-wide and the native API
  renders its own envelope, so these routes use :class:`GumemRoute`, which renders whatever a handler
  raises; :func:`render_error` is also exported for the app's per-prefix renderer (404, 405, 413, 500
  raised outside a route). Statuses come from ``api/errors.py`` so every door agrees on them. The SDK
  raises ``GumApiError`` for any non-2xx and uses a *string* ``detail`` as its message, so ``detail`` is
  always one human-readable sentence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from memhub._version import __version__
from memhub.api.deps import ServiceDep, authenticate_key
from memhub.api.errors import ApiError, from_core_error, from_http_exception, from_validation_error
from memhub.core.errors import (
    Conflict,
    InvalidInput,
    MemhubError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from memhub.core.models import (
    ActionInput,
    Event,
    Job,
    JobStatus,
    Memory,
    MemoryKind,
    MessageInput,
    SearchRequest,
    Session,
    Tenant,
)
from memhub.core.service import MemoryService
from memhub.settings import Settings

log = logging.getLogger("memhub.api.gumem")

EXTRA_KEY = "gumem"  # metadata key holding the protocol fields memhub has no column for
AUTH_SCHEMES = frozenset({"api-key", "bearer"})  # Bearer: the qoni client's scheme for the same keys
SYNC_BUDGET_SECONDS = 25.0  # ``sync: true`` waits at most this long (the SDK's own timeout is 30 s)
SYNC_POLL_SECONDS = 0.05

# memhub's job lifecycle in GUMem's words (memhub has no separate "chunked" step).
MESSAGE_STATUS: dict[JobStatus, str] = {
    JobStatus.PENDING: "pending",
    JobStatus.PROCESSING: "pending",
    JobStatus.SUCCEEDED: "processed",
    JobStatus.FAILED: "failed",
}
_SETTLED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
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


class GumemRoute(APIRoute):
    """A route whose every error is rendered in GUMem's shape, never in the native envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as exc:
                return render_error(from_validation_error(exc.errors()))
            except ValidationError as exc:  # an input model built inside a handler
                return render_error(from_validation_error(exc.errors()))
            except StarletteHTTPException as exc:
                return render_error(from_http_exception(exc, request.method, request.url.path))
            except MemhubError as exc:
                error = from_core_error(exc)
                if error.status == 500:
                    log.error("unmapped core error %s on %s", type(exc).__name__, request.url.path)
                return render_error(error)

        return guarded


# ---------------------------------------------------------------------------------------------------
# request bodies


def _as_utc(value: datetime) -> datetime:
    """The SDK sends naive datetimes without a zone; GUMem reads them as UTC."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
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


_RECALL_KEYS = {name.replace("_", ""): name for name in RecallConfig.model_fields}
_FILTERS_KEY = "metadatafilters"


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


# ---------------------------------------------------------------------------------------------------
# routes


def create_router(settings: Settings) -> APIRouter:
    """The GUMem routes, relative to the mount prefix (``settings.gumem_prefix``, default ``/gumem``).

    ``settings`` is part of every adapter's signature; this one has no setting of its own besides the
    prefix, which the app applies when it mounts the router.
    """
    api = APIRouter(route_class=GumemRoute, tags=["GUMem compatibility"])
    api.add_api_route("/healthz", health, methods=["GET"], summary="Liveness (no key needed)")
    api.add_api_route("/api/sessions", create_session, methods=["POST"], summary="Create a session")
    api.add_api_route(
        "/api/sessions/{session_id}/messages", add_messages, methods=["POST"], summary="Add messages"
    )
    api.add_api_route(
        "/api/sessions/{session_id}/context", get_context, methods=["GET"], summary="Recall (defaults)"
    )
    api.add_api_route(
        "/api/sessions/{session_id}/context",
        post_context,
        methods=["POST"],
        summary="Recall with recall_config",
    )
    api.add_api_route("/api/user/actions", create_action, methods=["POST"], summary="Record a user action")
    return api


router = create_router  # the name the adapter convention uses; ``create_app`` calls ``create_router``


def mount_prefix(settings: Settings) -> str:
    """``gumem_prefix`` as ``/name``; never the root, where its error shape would answer for every path."""
    prefix = "/" + settings.gumem_prefix.strip().strip("/")
    if prefix == "/":
        raise InvalidInput("gumem_prefix must name a path such as /gumem, not the root")
    return prefix


def health() -> dict[str, Any]:
    """No key needed, so load balancers can probe it; the SDK returns this JSON unchanged."""
    return {"success": True, "status": "ok", "data": {"status": "ok", "version": __version__}}


def create_session(body: SessionCreate, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    """Create a session; a caller-chosen ``session_id`` that exists for the same user is returned as is."""
    metadata = dict(body.metadata or {})
    if body.title is not None:
        metadata[EXTRA_KEY] = {"title": body.title}
    try:
        session = service.create_session(
            tenant.id, user_id=body.user_id, session_id=body.session_id, metadata=metadata
        )
    except Conflict:
        if body.session_id is None:
            raise
        session = service.get_session(tenant.id, body.session_id)
        if session.user_id != body.user_id:
            raise Conflict("session_id is already used by another user") from None
    return _envelope("session created", _session_data(session))


def add_messages(
    session_id: str, body: AddMessages, tenant: TenantDep, service: ServiceDep
) -> dict[str, Any]:
    """Store the messages (durably, before answering) and queue their processing."""
    session = service.get_session(tenant.id, session_id)
    if body.user_id is not None and body.user_id != session.user_id:
        raise PermissionDenied("session belongs to another user")
    now = service.now()
    inputs = [_message_input(m, now) for m in body.messages]
    submitted = service.add_messages(tenant.id, inputs, user_id=session.user_id, session_id=session.id)
    job = _settled(service, tenant.id, submitted.job) if body.sync else submitted.job
    status = MESSAGE_STATUS[job.status]
    messages = [
        {
            "id": m.id,
            "role": m.role,
            "status": status,
            "timestamp": _iso(i.timestamp or job.created_at),
            "created_at": _iso(m.created_at or i.timestamp or job.created_at),
        }
        for m, i in zip(body.messages, inputs, strict=True)
    ]
    data = {
        "session_id": session.id,
        "accepted": len(messages),
        "job_id": job.id,
        "status": status,
        "duplicate": not submitted.created,
        "messages": messages,
    }
    return _envelope(f"{len(messages)} messages accepted", data)


def _message_input(message: GumMessage, now: datetime) -> MessageInput:
    """GUMem's message as memhub's; ``created_at`` stands in for a missing ``timestamp``."""
    when = message.timestamp or message.created_at or (None if message.id else now)
    return MessageInput(
        role=message.role,
        content=message.content,
        id=message.id,
        timestamp=when,
        metadata=message.metadata or {},
    )


def _settled(service: MemoryService, tenant_id: str, job: Job) -> Job:
    """Wait for the job to finish, at most ``SYNC_BUDGET_SECONDS`` (for ``sync: true``)."""
    deadline = time.monotonic() + SYNC_BUDGET_SECONDS
    while job.status not in _SETTLED and time.monotonic() < deadline:
        time.sleep(SYNC_POLL_SECONDS)
        job = service.get_job(tenant_id, job.id)
    return job


def get_context(
    session_id: str,
    tenant: TenantDep,
    service: ServiceDep,
    query: str | None = None,
    details: str | None = None,
) -> dict[str, Any]:
    """``get_memory`` without ``recall_config``: the defaults."""
    return _recall(service, tenant.id, session_id, query, details, ContextBody())


def post_context(
    session_id: str,
    tenant: TenantDep,
    service: ServiceDep,
    query: str | None = None,
    details: str | None = None,
    body: ContextBody | None = None,
) -> dict[str, Any]:
    """``get_memory`` with ``recall_config`` (an empty body means the defaults)."""
    return _recall(service, tenant.id, session_id, query, details, body or ContextBody())


def create_action(body: ActionCreate, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    """Record a user action; it becomes a searchable memory of that user (and of its session, if any)."""
    session_id = _action_session(service, tenant.id, body)
    action = ActionInput(
        action=body.event_type or "action",
        content=body.content,
        id=body.log_id,
        timestamp=body.timestamp,
        metadata=_action_metadata(body),
    )
    submitted = service.add_action(tenant.id, action, user_id=body.user_id, session_id=session_id)
    data = {
        "log_id": body.log_id or submitted.job.id,
        "user_id": body.user_id,
        "session_id": body.session_id,
        "timestamp": _iso(body.timestamp),
        "status": MESSAGE_STATUS[submitted.job.status],
        "duplicate": not submitted.created,
    }
    return _envelope("action recorded", data)


def _action_session(service: MemoryService, tenant_id: str, body: ActionCreate) -> str | None:
    """The action's session if it exists (it must be the same user's); an unknown one is only noted."""
    if body.session_id is None:
        return None
    try:
        session = service.get_session(tenant_id, body.session_id)
    except NotFound:
        return None
    if session.user_id != body.user_id:
        raise PermissionDenied("session belongs to another user")
    return session.id


def _action_metadata(body: ActionCreate) -> dict[str, Any]:
    """The caller's metadata, plus every structured GUMem field under ``gumem`` (nothing is dropped)."""
    fields = body.model_dump(
        include={"session_id", "device_id", "app", "platform", "event_type", "page", "anchors", "entities"},
        exclude_none=True,
    )
    return {**(body.metadata or {}), EXTRA_KEY: fields} if fields else dict(body.metadata or {})


# ---------------------------------------------------------------------------------------------------
# recall


def _recall(
    service: MemoryService,
    tenant_id: str,
    session_id: str,
    query: str | None,
    details: str | None,
    body: ContextBody,
) -> dict[str, Any]:
    session = service.get_session(tenant_id, session_id)
    verbose = _flag(details)
    config = _recall_config(body.recall_config)
    filters = _metadata_filters(body.metadata_filters, body.recall_config)
    text = (query or "").strip()
    messages = service.recent_messages(tenant_id, session.id, config.message_recent_limit, filters=filters)
    observations = _observations(service, tenant_id, session, text, config, filters)
    propositions = _propositions(service, tenant_id, session, text, config, filters)
    statuses = _statuses(service, tenant_id, messages)
    data: dict[str, Any] = {
        "session_id": session.id,
        "user_id": session.user_id,
        "query": text or None,
        "messages": [_message_item(e, statuses[e.job_id], verbose) for e in messages],
        "observations": [_memory_item(m, score, verbose) for m, score in observations],
        "propositions": [_memory_item(m, score, verbose) for m, score in propositions],
        "context": _context_text(messages, observations, propositions),
    }
    if verbose:
        data["recall"] = {**config.model_dump(), "metadata_filters": filters or {}}
    return _envelope("memory retrieved", data)


def _flag(value: str | None) -> bool:
    """``details`` as the SDK sends it (``true``/``false``), plus ``1``/``0``; absent = false."""
    if value is None or value.lower() in _FALSE:
        return False
    if value.lower() in _TRUE:
        return True
    raise InvalidInput("details must be true or false")


def _recall_config(raw: Mapping[str, Any] | None) -> RecallConfig:
    """Match keys in any casing (``MessageRecentLimit``, ``message_recent_limit``, ``messageRecentLimit``)."""
    known = {}
    for key, value in (raw or {}).items():
        name = _RECALL_KEYS.get(_normalised(key))
        if name is not None:
            known[name] = value
    try:
        return RecallConfig.model_validate(known)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"recall_config.{where}: {first['msg']}") from None


def _normalised(key: str) -> str:
    return key.replace("_", "").lower()


def _metadata_filters(
    top_level: Mapping[str, Any] | None, recall: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """``MetadataFilters`` (recall_config wins per key over a top-level ``metadata_filters``), validated."""
    merged: dict[str, Any] = {}
    for source in (top_level, *(v for k, v in (recall or {}).items() if _normalised(k) == _FILTERS_KEY)):
        if source is None:
            continue
        if not isinstance(source, Mapping):
            raise InvalidInput("MetadataFilters must be an object")
        merged.update(source)
    for key, value in merged.items():
        _check_filter(key, value)
    return merged or None


def _check_filter(key: str, value: Any) -> None:
    """Flat exact-match pairs only: a ``$`` key or an object value would be a core filter operator."""
    if not key or key.startswith("$"):
        raise InvalidInput("MetadataFilters keys must be non-empty strings not starting with '$'")
    if not isinstance(value, (str, int, float, bool)):
        raise InvalidInput("MetadataFilters values must be strings, numbers, or booleans")


def _observations(
    service: MemoryService,
    tenant_id: str,
    session: Session,
    query: str,
    config: RecallConfig,
    filters: dict[str, Any] | None,
) -> list[tuple[Memory, float | None]]:
    """This session's episodes relevant to the query (none without one: ``messages`` has the turns)."""
    if not query or config.observation_semantic_top_k == 0:
        return []
    request = SearchRequest(
        query=query,
        user_id=session.user_id,
        session_id=session.id,
        kinds=[MemoryKind.EPISODE],
        filters=filters,
        limit=config.observation_semantic_top_k,
    )
    return [(r.memory, r.score) for r in service.search(tenant_id, request)]


def _propositions(
    service: MemoryService,
    tenant_id: str,
    session: Session,
    query: str,
    config: RecallConfig,
    filters: dict[str, Any] | None,
) -> list[tuple[Memory, float | None]]:
    """The user's facts across all sessions: by relevance to the query, else as the service lists them."""
    if not config.enable_long_term_recall or config.proposition_top_k == 0:
        return []
    if not query:
        page = service.list_memories(
            tenant_id,
            user_id=session.user_id,
            kinds=[MemoryKind.FACT],
            filters=filters,
            limit=config.proposition_top_k,
        )
        return [(m, None) for m in page.items]
    request = SearchRequest(
        query=query,
        user_id=session.user_id,
        kinds=[MemoryKind.FACT],
        filters=filters,
        limit=config.proposition_top_k,
    )
    return [(r.memory, r.score) for r in service.search(tenant_id, request)]


def _statuses(service: MemoryService, tenant_id: str, messages: Iterable[Event]) -> dict[str, str]:
    """Each message's status is its job's: one lookup per distinct job, not per message."""
    jobs = {e.job_id for e in messages}
    return {job_id: MESSAGE_STATUS[service.get_job(tenant_id, job_id).status] for job_id in jobs}


# ---------------------------------------------------------------------------------------------------
# serialisation


def _envelope(message: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"success": True, "message": message, "data": data}


def _iso(value: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, e.g. ``2026-04-22T01:02:03.000Z``."""
    return _as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _session_data(session: Session) -> dict[str, Any]:
    extra = session.metadata.get(EXTRA_KEY)
    title = extra.get("title") if isinstance(extra, dict) else None
    return {
        "session_id": session.id,
        "user_id": session.user_id,
        "title": title,
        "metadata": {k: v for k, v in session.metadata.items() if k != EXTRA_KEY},
        "created_at": _iso(session.created_at),
    }


def _message_item(event: Event, status: str, verbose: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "message_id": event.id,
        "id": event.external_id,
        "role": event.role,
        "content": event.content,
    }
    if verbose:
        item.update(
            timestamp=_iso(event.occurred_at),
            created_at=_iso(event.created_at),
            metadata=event.metadata,
            status=status,
        )
    return item


def _memory_item(memory: Memory, score: float | None, verbose: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"id": memory.id, "content": memory.text}
    if score is not None:
        item["score"] = round(score, 4)
    if verbose:
        item.update(
            kind=memory.kind.value,
            core=memory.core,
            created_at=_iso(memory.created_at),
            updated_at=_iso(memory.updated_at),
            metadata=memory.metadata,
            source={
                "event_ids": [s.event_id for s in memory.sources],
                "ids": [s.public_id for s in memory.sources],
                "session_id": memory.session_id,
            },
        )
    return item


def _context_text(
    messages: Sequence[Event],
    observations: Sequence[tuple[Memory, float | None]],
    propositions: Sequence[tuple[Memory, float | None]],
) -> str:
    """A ready-to-paste rendering of the three parts, most durable knowledge first."""
    sections = []
    if propositions:
        sections.append("Relevant memory:\n" + "\n".join(f"- {m.text}" for m, _ in propositions))
    if observations:
        sections.append("Earlier in this session:\n" + "\n".join(f"- {m.text}" for m, _ in observations))
    if messages:
        sections.append("Recent messages:\n" + "\n".join(f"{e.role}: {e.content}" for e in messages))
    return "\n\n".join(sections)
