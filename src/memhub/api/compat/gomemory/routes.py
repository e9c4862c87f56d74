"""The GoMemory wire protocol (``gomemory`` 0.1.0 on PyPI), served at ``settings.gomemory_prefix``.

Spec: ``docs/compat/gomemory.md``. Five endpoints, no auth, camelCase requests, PascalCase answers,
errors as ``{"Error", "Status", "Message"}``. Everything here is translation; the use cases are
``MemoryService.add_messages`` / ``get_job_by_key`` / ``search`` / ``list_memories``.

This module is the routes; ``wire`` parses request bodies (and holds the protocol's texts),
``door`` is the mount, exposure check, bearer key and error shape, and ``translate``
maps jobs and memories to the protocol's objects.

Why the choices below:

* **Single tenant.** The protocol has no credentials, so the mount serves exactly one memhub tenant,
  named by ``gomemory_tenant``; without it the mount is off. Because anyone who can reach it can read
  and write that tenant, :func:`check_exposure` refuses a non-loopback bind unless the user opted in
  (``gomemory_allow_remote``) or configured a bearer key (``gomemory_api_key``).
* **ReqId.** The SDK's request id is a UUIDv5 of (user, messages) — the spec's collision-free variant of
  the reference server's digest (§3.3). It is handed to the service as the submission's idempotency key,
  so the same input lands on the same job and ``/get_status/{ReqId}`` finds it again with no mapping
  table in this module.
* **Errors in our shape, always.** FastAPI's exception handlers are app-wide and the native API renders
  its own envelope, so this router's routes use :class:`GoMemoryRoute`, which renders anything a handler
  raises here. :func:`render_error` is also the adapter's renderer for the app's errors under the
  prefix (404s, 413s, 500s raised before or outside a route). Request bodies are parsed by hand: the
  protocol's 400 messages are endpoint-specific and FastAPI's validation errors are not.
* **Both key sets on memory objects.** gomemory 0.1.0 validates ``Memory_text``/``Type``/``Memory_Id``/
  ``UserId`` (the reference server's Go field names) while the docs show the lowercase json tags; each
  object carries both, plus ``score``.
* **Status codes of core errors** come from ``api/errors.py`` (``status_for``) so every door agrees on
  what a ``NotFound`` or a ``LimitExceeded`` means; only the protocol's own validation answers 400.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from memhub.api.deps import ServiceDep
from memhub.core import ids
from memhub.core.errors import InvalidInput, NotFound
from memhub.core.models import JobStatus
from memhub.settings import Settings

from .door import Door, GoMemoryRoute, check_exposure
from .translate import STATUS_NAMES, request_id, retrieve, timestamp
from .wire import (
    ALREADY_QUEUED,
    HEALTHY,
    QUEUED,
    UNKNOWN_REQUEST,
    Rejected,
    parse_insertion,
    parse_retrieval,
)

# ---------------------------------------------------------------------------------------------------
# the router


async def _raw_body(request: Request) -> bytes:
    """The body, read here so the (sync) endpoints run in the threadpool yet parse it themselves."""
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


def create_router(settings: Settings) -> APIRouter:
    """The GoMemory endpoints, relative to the mount prefix (``settings.gomemory_prefix``).

    Raises :class:`InvalidInput` if the settings would expose the API unsafely (:func:`check_exposure`),
    so an app built with such settings fails at start-up even if the CLI's own check was bypassed.
    """
    check_exposure(settings)
    door = Door(settings)
    api = APIRouter(
        route_class=GoMemoryRoute, tags=["GoMemory compatibility"], dependencies=[Depends(door.guard)]
    )
    authorized = Depends(door.authorize)

    @api.get("/health", summary="Liveness (the SDK's health_check)")
    def health() -> JSONResponse:
        return JSONResponse(HEALTHY)

    @api.post("/create/user", dependencies=[authorized], summary="Mint a new user id")
    def create_user() -> JSONResponse:
        # memhub users are created by their first add; the id only has to be new and a UUID.
        return JSONResponse({"userId": ids.new_id()})

    @api.post("/add_memory", dependencies=[authorized], summary="Queue a conversation for memory insertion")
    def add_memory(service: ServiceDep, raw: RawBody) -> JSONResponse:
        insertion = parse_insertion(raw)
        req_id = request_id(insertion.user_id, insertion.messages)
        submitted = service.add_messages(
            door.tenant_id(service), insertion.messages, user_id=insertion.user_id, idempotency_key=req_id
        )
        return JSONResponse({"ReqId": req_id, "Msg": QUEUED if submitted.created else ALREADY_QUEUED})

    @api.get("/get_status/{req_id}", dependencies=[authorized], summary="Status of a memory insertion")
    def get_status(service: ServiceDep, req_id: str) -> JSONResponse:
        key = req_id.strip('" ')
        if not key:
            raise Rejected(400, "Bad Request")
        try:
            job = service.get_job_by_key(door.tenant_id(service), key)
        except (NotFound, InvalidInput):  # an over-long id can't name a request either
            raise Rejected(404, UNKNOWN_REQUEST) from None
        status = STATUS_NAMES[job.status]
        body: dict[str, Any] = {"status": status, "createdAt": timestamp(job.created_at)}
        if job.status is JobStatus.FAILED:
            body["error"] = job.last_error or "memory insertion failed"
        return JSONResponse(body)

    @api.post("/get_memory", dependencies=[authorized], summary="Retrieve a user's memories")
    def get_memory(service: ServiceDep, raw: RawBody) -> JSONResponse:
        retrieval = parse_retrieval(raw)
        tenant_id = door.tenant_id(service)
        return JSONResponse(retrieve(service, tenant_id, retrieval))

    return api
