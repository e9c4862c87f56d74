"""The GUMem wire protocol (``steamory-agent-kit-gum`` 0.1.0 on PyPI), served at ``settings.gumem_prefix``.

Spec: ``docs/compat/gumem.md``. Six routes, ``Authorization: Api-Key <key>``, snake_case bodies, every
2xx answer an envelope ``{"success": true, "message": ..., "data": {...}}``, every error
``{"detail": "<string>"}``. Everything here is translation; the use cases are ``MemoryService``'s
``create_session`` / ``add_messages`` / ``recent_messages`` / ``search`` / ``list_memories`` /
``add_action``. This module holds the routes; ``wire.py`` the request bodies, the error shape and
the key header, ``recall.py`` the recall parts, ``translate.py`` the answers in GUMem's words.

Why the choices below:

* **Words.** The API key selects the memhub tenant; ``user_id`` is the memhub user; a GUMem session is a
  memhub session, a message a message event, a user action an action event. A message's ``status`` is
  its job's status (``pending`` until the worker is done, then ``processed`` or ``failed``): memhub
  chunks, embeds and extracts in one step, so ``chunked`` is accepted on input but never reported.
* **Recall parts.** ``messages`` = the session's most recent messages (``MessageRecentLimit``, after
  ``MetadataFilters``); ``observations`` = the user's episodes (turns of any of their sessions, actions
  with or without a session) relevant to the query; ``propositions`` = the user's facts from *all* their
  sessions, by relevance to the query (or, without one, the user's facts as the service lists them).
  Memory is the user's, not the session's (GUMem ties a session to the user's long-term memory), so both
  are searched by ``user_id``, listed by the score they carry, this session's first on a tie
  (``MemoryService.search_for_session``).
* **MetadataFilters** are an exact-match AND filter; they are passed to the service as plain
  ``{key: value}`` equality filters, so messages, episodes and facts (whose metadata carries their source
  message's metadata) are narrowed by the one filter implementation in ``core/filters.py``.
* **Fields memhub has no column for** (a session's ``title``; an action's ``event_type``, ``page``,
  ``anchors``, ``entities``, …) are kept under one reserved metadata key, ``gumem``, so nothing the
  caller sent is lost and nothing collides with the caller's own metadata keys.
* **Message timestamps.** GUMem says an absent ``timestamp`` means "now". memhub makes a submission
  idempotent by hashing its content, so two identical messages without id or timestamp (a user saying
  "yes" twice) would otherwise collapse into one; stamping them with the receive time keeps them apart.
  A message's ``id`` is its idempotency key inside the session: re-sent, alone or in another batch, it
  is the stored message. A ``created_at`` other than the ``timestamp`` is kept under ``gumem`` and shown
  back by recall (``timestamp``/``created_at`` are the caller's times, never the receive time).
* **Errors in GUMem's shape, always.** FastAPI's exception handlers are app-wide and the native API
  renders its own envelope, so these routes use :class:`GumemRoute`, which renders whatever a handler
  raises; :func:`render_error` is also the adapter's renderer for the app's errors under the prefix
  (404, 405, 413, 500 raised outside a route). Statuses come from ``api/errors.py`` so every door
  agrees on them. The SDK raises ``GumApiError`` for any non-2xx and uses a *string* ``detail`` as its
  message, so ``detail`` is always one human-readable sentence.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from fastapi import APIRouter

from memhub._version import __version__
from memhub.api.deps import ServiceDep
from memhub.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
)
from memhub.core.models import (
    ActionInput,
    Event,
    Job,
    JobStatus,
    MessageInput,
)
from memhub.core.service import MemoryService
from memhub.settings import Settings

from .recall import recall
from .translate import CREATED_AT, EXTRA_KEY, MESSAGE_STATUS, envelope, given_created_at, iso, session_data
from .wire import (
    ActionCreate,
    AddMessages,
    ContextBody,
    GumemRoute,
    GumMessage,
    SessionCreate,
    TenantDep,
)

SYNC_BUDGET_SECONDS = 25.0  # ``sync: true`` waits at most this long (the SDK's own timeout is 30 s)
SYNC_POLL_SECONDS = 0.05
_SETTLED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})


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
    return envelope("session created", session_data(session))


def add_messages(
    session_id: str, body: AddMessages, tenant: TenantDep, service: ServiceDep
) -> dict[str, Any]:
    """Store the messages (durably, before answering) and queue their processing.

    A message whose ``id`` the session already has is that stored message (GUMem's idempotency key):
    it is answered as stored and not stored again, whether it comes alone or in a new batch.
    """
    session = service.get_session(tenant.id, session_id)
    if body.user_id is not None and body.user_id != session.user_id:
        raise PermissionDenied("session belongs to another user")
    known = service.messages_by_external_id(tenant.id, session.id, [m.id for m in body.messages if m.id])
    fresh = _fresh(body.messages, known)
    now = service.now()
    inputs = [_message_input(m, now) for m in fresh]
    if inputs:
        submitted = service.add_messages(tenant.id, inputs, user_id=session.user_id, session_id=session.id)
        job, duplicate = submitted.job, not submitted.created
    else:
        job, duplicate = service.get_job(tenant.id, known[str(body.messages[0].id)].job_id), True
    job = _settled(service, tenant.id, job) if body.sync else job
    # A message whose id came earlier in the same batch is answered as that earlier one.
    input_of = {id(m): i for m, i in zip(fresh, inputs, strict=True)}
    input_of.update({id(m): input_of[id(f)] for m in body.messages for f in fresh if m.id and m.id == f.id})
    messages = [
        _stored_answer(service, tenant.id, known[m.id])
        if m.id in known
        else _message_answer(m, input_of[id(m)], job)
        for m in body.messages
    ]
    data = {
        "session_id": session.id,
        "accepted": len(messages),
        "job_id": job.id,
        "status": MESSAGE_STATUS[job.status],
        "duplicate": duplicate,
        "messages": messages,
    }
    return envelope(f"{len(messages)} messages accepted", data)


def _fresh(messages: list[GumMessage], known: dict[str, Event]) -> list[GumMessage]:
    """The messages to store: those without an id, or whose id is neither stored nor earlier in the batch."""
    seen: set[str] = set(known)
    fresh = []
    for message in messages:
        if message.id is not None:
            if message.id in seen:
                continue
            seen.add(message.id)
        fresh.append(message)
    return fresh


def _message_answer(message: GumMessage, stored: MessageInput, job: Job) -> dict[str, Any]:
    when = stored.timestamp or job.created_at
    return {
        "id": message.id,
        "role": message.role,
        "status": MESSAGE_STATUS[job.status],
        "timestamp": iso(when),
        "created_at": iso(message.created_at or when),
    }


def _stored_answer(service: MemoryService, tenant_id: str, event: Event) -> dict[str, Any]:
    job = service.get_job(tenant_id, event.job_id)
    return {
        "message_id": event.id,
        "id": event.external_id,
        "role": event.role,
        "status": MESSAGE_STATUS[job.status],
        "timestamp": iso(event.occurred_at),
        "created_at": iso(given_created_at(event.metadata) or event.occurred_at),
    }


def _message_input(message: GumMessage, now: datetime) -> MessageInput:
    """GUMem's message as memhub's; ``created_at`` stands in for a missing ``timestamp``.

    A ``created_at`` other than the ``timestamp`` is kept under the reserved metadata key, so recall
    can show the time the caller gave rather than the time memhub received it.
    """
    when = message.timestamp or message.created_at or (None if message.id else now)
    metadata = dict(message.metadata or {})
    if message.created_at is not None and message.created_at != when:
        metadata[EXTRA_KEY] = {CREATED_AT: iso(message.created_at)}
    return MessageInput(
        role=message.role,
        content=message.content,
        id=message.id,
        timestamp=when,
        metadata=metadata,
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
    return recall(service, tenant.id, session_id, query, details, ContextBody())


def post_context(
    session_id: str,
    tenant: TenantDep,
    service: ServiceDep,
    query: str | None = None,
    details: str | None = None,
    body: ContextBody | None = None,
) -> dict[str, Any]:
    """``get_memory`` with ``recall_config`` (an empty body means the defaults)."""
    return recall(service, tenant.id, session_id, query, details, body or ContextBody())


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
        "timestamp": iso(body.timestamp),
        "status": MESSAGE_STATUS[submitted.job.status],
        "duplicate": not submitted.created,
    }
    return envelope("action recorded", data)


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
