"""The Memsy protocol (``memsy`` 0.3.5 SDK, unmodified) over memhub; spec: docs/compat/memsy.md.

Users point the SDK at the mount (``MemsyClient(base_url="http://host:8420/memsy/v1", api_key=KEY)``)
with a memhub API key; the key's tenant is the Memsy org. This module holds the ingest/search/status
loop, health and the legacy ``clear``; ``console.py`` the console memories and actors,
``hierarchy.py`` orgs/roles/teams, ``translate.py`` how memhub's nouns read in Memsy's
words, ``wire.py`` the request bodies. Every route is parse → service → serialise.

Errors: the app normalises every error under the mount (core errors, validation, malformed JSON,
unknown routes, body limit, rate limit) into an :class:`ApiError` with the status ``api/errors.py``
decides, and :func:`render_error` writes it in Memsy's shape ``{"detail": {"error", "message"}}`` —
the shape the SDK unwraps into ``error_code``/``detail`` and classifies by status.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from memhub._version import __version__
from memhub.api.deps import ServiceDep, TenantDep, get_service
from memhub.api.errors import ApiError
from memhub.api.ratelimit import Quota
from memhub.core import ids
from memhub.core.errors import NotFound, NotSupported
from memhub.core.models import ActionInput, Job, MessageInput, SearchRequest, SearchResult
from memhub.core.service import MemoryService, Submission
from memhub.settings import Settings

from . import console, hierarchy
from . import translate as tr
from .wire import EventIn, IngestIn, SearchIn, StatusIn

DEDUP_SECONDS = 60
"""Memsy: an event equal to one the tenant ingested in the last 60 s gets the original ``event_id``."""

PLAN = "self-hosted"

# Memsy's error codes by status; a 403 keeps its own code (``org_mismatch``), which the SDK reads.
_CODES = {
    400: "bad_request",
    401: "invalid_api_key",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    501: "not_implemented",
    503: "unavailable",
}


def render_error(error: ApiError) -> Response:
    """``{"detail": {"error": <code>, "message": <text>, ...}}``; field errors go under ``errors``."""
    detail: dict[str, Any] = {"error": _CODES.get(error.status, error.code), "message": error.message}
    if error.status == 403:
        detail["error"] = error.code
    fields = error.details.get("fields")
    if isinstance(fields, list):
        detail["errors"] = [{"loc": f.get("loc"), "msg": f.get("message")} for f in fields]
    return JSONResponse({"detail": detail}, status_code=error.status, headers=error.headers or None)


def create_router(settings: Settings) -> APIRouter:
    """The Memsy routes, relative to the mount prefix (``settings.memsy_prefix``)."""
    router = APIRouter(tags=["memsy"])
    router.add_api_route("/health", health, methods=["GET"])
    router.add_api_route("/ingest", ingest, methods=["POST"])
    router.add_api_route("/status", status, methods=["POST"])
    router.add_api_route("/search", search, methods=["POST"])
    router.add_api_route("/clear/{container_tag:path}", _clear_route(settings), methods=["DELETE"])
    router.include_router(console.router)
    router.include_router(hierarchy.router)
    return router


def _usage_headers(request: Request, response: Response) -> None:
    """The headers Memsy's core calls carry: the plan, and the rate limit when one is configured.

    memhub keeps no usage counters, so no ``X-Usage-*``; the ``X-RateLimit-*`` triple is where the
    caller's key stands after this request (set by the rate limiter at authentication).
    """
    response.headers["X-Plan"] = PLAN
    quota: Quota | None = getattr(request.state, "rate_quota", None)
    if quota is not None:
        response.headers["X-RateLimit-Limit"] = str(quota.limit)
        response.headers["X-RateLimit-Remaining"] = str(quota.remaining)
        response.headers["X-RateLimit-Reset"] = str(int(quota.reset_at))


# ---------------------------------------------------------------------------------------------------
# health


def health(request: Request, response: Response) -> dict[str, Any]:
    """No key needed. Degraded components still answer 200 (a 5xx would raise in the SDK)."""
    _usage_headers(request, response)
    components = {"database": _probe(get_service(request)), "queue": _queue(request)}
    overall = "ok" if all(v in ("ok", "external") for v in components.values()) else "degraded"
    return {"status": overall, "version": __version__, "components": components}


def _probe(service: MemoryService) -> str:
    try:
        service.has_api_keys()
    except Exception:  # any failure of the store is what this probe reports
        return "error"
    return "ok"


def _queue(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return "ok" if settings.worker else "external"  # without the in-process worker, `memhub worker` runs


# ---------------------------------------------------------------------------------------------------
# ingest and status


def ingest(
    body: IngestIn, tenant: TenantDep, service: ServiceDep, request: Request, response: Response
) -> dict[str, Any]:
    """Each event is its own submission; all are stored durably, in one store transaction, before the
    answer (all or none of them). ``event_ids`` keep input order."""
    _usage_headers(request, response)
    return {"event_ids": _submit_all(service, tenant.id, body.events)}


def _submit_all(service: MemoryService, tenant_id: str, events: list[EventIn]) -> list[str]:
    """Memsy's 60-second dedup expressed with memhub's idempotency keys.

    The key is the event's identity ``(actor_id, session_id, kind, content)`` plus the current
    60-second window. A match in the previous window still counts while it is under 60 s old, so a
    retry that crosses a window boundary is deduplicated too; an older one is not, so a turn repeated
    minutes later is a new event. An event repeated within one request gets the same job, hence id.
    """
    now = service.now()
    window = int(now.timestamp()) // DEDUP_SECONDS
    found = [_recent_duplicate(service, tenant_id, event, window, now) for event in events]
    fresh = [
        (i, _prepare(service, tenant_id, event, _dedup_key(event, window)))
        for i, event in enumerate(events)
        if found[i] is None
    ]
    stored = service.submit_all(tenant_id, [submission for _, submission in fresh])
    for (i, _), submitted in zip(fresh, stored, strict=True):
        found[i] = submitted.job.id
    event_ids = [event_id for event_id in found if event_id is not None]
    assert len(event_ids) == len(events)  # every event was either a recent duplicate or submitted
    return event_ids


def _recent_duplicate(
    service: MemoryService, tenant_id: str, event: EventIn, window: int, now: datetime
) -> str | None:
    """The id of this event ingested in the previous window under 60 s ago (the current window's
    match needs no lookup: the same key makes the same job, which the store then keeps)."""
    previous = _find_job(service, tenant_id, _dedup_key(event, window - 1))
    if previous is not None and (now - previous.created_at).total_seconds() < DEDUP_SECONDS:
        return previous.id
    return None


def _dedup_key(event: EventIn, window: int) -> str:
    return ids.derived_id("memsy", event.actor_id, event.session_id, event.kind, event.content, window)


def _find_job(service: MemoryService, tenant_id: str, key: str) -> Job | None:
    try:
        return service.get_job_by_key(tenant_id, key)
    except NotFound:
        return None


def _prepare(service: MemoryService, tenant_id: str, event: EventIn, key: str) -> Submission:
    tag: dict[str, Any] = {"kind": event.kind, "session_id": event.session_id}
    tag.update({k: v for k, v in (("role_id", event.role_id), ("team_id", event.team_id)) if v})
    if event.metadata is not None:
        tag["metadata"] = event.metadata  # kept as sent: invalid JSON is not an error in Memsy
    ts = event.ts.replace(tzinfo=timezone.utc) if event.ts and event.ts.tzinfo is None else event.ts
    actor, session = event.actor_id, event.session_id
    if event.kind == tr.ACTION_NAME:
        action = ActionInput(
            action=tr.ACTION_NAME, content=event.content, timestamp=ts, metadata={tr.TAG: tag}
        )
        return service.prepare_action(
            tenant_id, action, user_id=actor, session_id=session, idempotency_key=key
        )
    role = tr.ROLE_BY_KIND[event.kind]
    message = MessageInput(role=role, content=event.content, timestamp=ts, metadata={tr.TAG: tag})
    return service.prepare_messages(
        tenant_id, [message], user_id=actor, session_id=session, idempotency_key=key
    )


def status(
    body: StatusIn, tenant: TenantDep, service: ServiceDep, request: Request, response: Response
) -> dict[str, Any]:
    """camelCase buckets (the SDK reads snake_case as empty lists); unknown ids are ``failed``."""
    _usage_headers(request, response)
    statuses = {
        event_id: tr.job_status(_get_job(service, tenant.id, event_id)) for event_id in body.event_ids
    }
    buckets: dict[str, list[str]] = {"completedIds": [], "failedIds": [], "pendingIds": []}
    bucket_of = {"completed": "completedIds", "pending": "pendingIds", "processing": "pendingIds"}
    for event_id, state in statuses.items():
        buckets[bucket_of.get(state, "failedIds")].append(event_id)
    return {**buckets, "total": len(statuses), "statuses": statuses}


def _get_job(service: MemoryService, tenant_id: str, job_id: str) -> Job | None:
    try:
        return service.get_job(tenant_id, job_id)
    except NotFound:
        return None


# ---------------------------------------------------------------------------------------------------
# search


def search(
    body: SearchIn, tenant: TenantDep, service: ServiceDep, request: Request, response: Response
) -> dict[str, Any]:
    """Memories (never raw events) by relevance; each one returned counts as recalled (Memsy reinforces).

    ``session_id`` is memhub's session scope; ``exclude_session_id`` filters on the conversation the
    Memsy tag records. Promotion: an event ingested with ``role_id``/``team_id`` makes its memories the
    role's/team's too, so an actor's search naming that role or team in ``role_ids``/``team_ids`` also
    finds them, whichever actor's they are. Those promoted memories belong to the role or team, not to a
    conversation: ``session_id`` does not narrow them, ``exclude_session_id`` still does.
    """
    _usage_headers(request, response)
    excluded = {f"{tr.TAG}.session_id": {"$ne": body.exclude_session_id}} if body.exclude_session_id else None
    query = SearchRequest(
        query=body.query,
        user_id=body.actor_id,
        session_id=body.session_id,
        limit=body.limit,
        threshold=body.clamped_threshold(),
        filters=excluded,
    )
    searches = [(query, 1.0)]
    promoted = _promoted_filter(body)
    if body.actor_id is not None and promoted is not None:
        flt = {"$and": [promoted, excluded]} if excluded else promoted
        searches.append((query.model_copy(update={"user_id": None, "session_id": None, "filters": flt}), 1.0))
    # Memsy lists results by score; memhub's fused rank picked them, the calibrated score orders them.
    merged = service.search_merged(tenant.id, searches)
    best: dict[str, SearchResult] = {}
    for result, _ in merged:  # best first: a memory found by both searches keeps its first place
        best.setdefault(result.memory.id, result)
    results = list(best.values())[: body.limit]
    recalled = {m.id: m for m in service.record_recall(tenant.id, [r.memory.id for r in results])}
    out = []
    for result in results:
        result.memory = recalled.get(result.memory.id, result.memory)
        sources = service.source_events(tenant.id, result.memory) if body.include_source_events else None
        out.append(tr.search_result(result, sources))
    return {"results": out}


def _promoted_filter(body: SearchIn) -> dict[str, Any] | None:
    """Memories tagged with one of the roles or teams the search names (None if it names none)."""
    either = [
        {f"{tr.TAG}.{key}": {"$in": wanted}}
        for key, wanted in (("role_id", body.role_ids), ("team_id", body.team_ids))
        if wanted
    ]
    if not either:
        return None
    return either[0] if len(either) == 1 else {"$or": either}


# ---------------------------------------------------------------------------------------------------
# clear (memsy 0.3.0–0.3.1)


def _clear_route(settings: Settings) -> Any:
    def clear(container_tag: str, tenant: TenantDep, service: ServiceDep) -> dict[str, int]:
        """Delete the conversation ``container_tag``: its events, jobs and memories (count returned)."""
        if settings.memsy_clear_mode == "stub":
            raise NotSupported("clear is not implemented")
        return {"deleted": service.delete_session(tenant.id, container_tag)}

    return clear
