"""The GoMemory wire protocol (``gomemory`` 0.1.0 on PyPI), served at ``settings.gomemory_prefix``.

Spec: ``shared/compat/gomemory.md``. Five endpoints, no auth, camelCase requests, PascalCase answers,
errors as ``{"Error", "Status", "Message"}``. Everything here is translation; the use cases are
``MemoryService.add_messages`` / ``get_job_by_key`` / ``search`` / ``list_memories``.

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
  raises here. :func:`render_error` is exported for the app's per-prefix renderer (404s, 413s, 500s
  raised before or outside a route). Request bodies are parsed by hand: the protocol's 400 messages are
  endpoint-specific and FastAPI's validation errors are not.
* **Both key sets on memory objects.** gomemory 0.1.0 validates ``Memory_text``/``Type``/``Memory_Id``/
  ``UserId`` (the reference server's Go field names) while the docs show the lowercase json tags; each
  object carries both, plus ``score``.
* **Status codes of core errors** come from ``api/errors.py`` (``status_for``) so every door agrees on
  what a ``NotFound`` or a ``LimitExceeded`` means; only the protocol's own validation answers 400.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from memhub.api.deps import ServiceDep
from memhub.api.errors import ApiError, from_core_error, from_http_exception
from memhub.core import ids
from memhub.core.errors import InvalidInput, MemhubError, NotFound
from memhub.core.models import JobStatus, Memory, MemoryKind, MessageInput, SearchRequest
from memhub.core.service import MemoryService
from memhub.settings import Settings

log = logging.getLogger("memhub.api.gomemory")

HEALTHY = "Server is healthy!"
QUEUED = "Memory Insertion Job has been queued for insertion!"
ALREADY_QUEUED = "Memory Insertion Job is already queued or processed successfully!"
FORMAT_WRONG = "Request format is wrong"
NO_MESSAGES = "No messages provided"
USER_REQUIRED = "userId is required"
MALFORMED_GET = "Malformed JSON here in the Get Memory request"
BOTH_GIVEN = "Provide exactly one of query or messages"
NEITHER_GIVEN = "Neither user query nor user messages was provided"
EMPTY_MESSAGES = "Need atleast one message"
NO_TEXT = "The messages contain no text to search with"
UNKNOWN_REQUEST = "Request doesn't exist"

DEFAULT_THRESHOLD = 0.65
GENERAL_LIMIT = 10  # similarity hits per answer: the reference server's (Qdrant's default) page size
CONTEXT_CHARS = 500  # how much of the conversation's end a messages-query looks at (reference: ~500)

# The 500 message each endpoint answers when the work itself fails (the spec's texts).
_FAILURE_MESSAGES = {
    "add_memory": "Failed to queue memory insertion.",
    "get_memory": "Memory Retrieval Failed!",
    "get_status": "Failed to get the status of the request",
}
_STATUS_NAMES = {
    JobStatus.PENDING: "pending",
    JobStatus.PROCESSING: "processing",
    JobStatus.SUCCEEDED: "success",
    JobStatus.FAILED: "failure",
}
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


# ---------------------------------------------------------------------------------------------------
# errors


class Rejected(Exception):
    """A request this protocol answers with an error of its own (status + the protocol's message)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def render_error(error: ApiError) -> Response:
    """GoMemory's error shape. ``Status`` + ``Message`` are what make the SDK raise its ``APIError``."""
    body = {"Error": error.message, "Status": error.status, "Message": error.message}
    return JSONResponse(body, status_code=error.status, headers=error.headers or None)


def _reject(status: int, message: str) -> Response:
    return render_error(ApiError(status, "gomemory", message))


class GoMemoryRoute(APIRoute):
    """A route whose every error is rendered in GoMemory's shape, never in the native envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        failure = _FAILURE_MESSAGES.get(self.name, "Internal Server Error")

        async def guarded(request: Request) -> Response:
            try:
                return await handle(request)
            except Rejected as exc:
                return render_error(ApiError(exc.status, "gomemory", exc.message, {}, exc.headers))
            except StarletteHTTPException as exc:
                return render_error(from_http_exception(exc, request.method, request.url.path))
            except MemhubError as exc:
                error = from_core_error(exc)
                if error.status != 500:
                    return render_error(error)
                log.error("unmapped core error %s on %s", type(exc).__name__, request.url.path)
                return _reject(500, failure)
            except Exception:  # the protocol names its own 500 text; the trace goes to the log
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                return _reject(500, failure)

        return guarded


# ---------------------------------------------------------------------------------------------------
# exposure


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine (names other than localhost: no)."""
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse to serve the unauthenticated GoMemory API beyond this machine unless the user opted in.

    ``memhub serve`` calls this before binding; it raises :class:`InvalidInput` with what to do.
    """
    if not settings.gomemory_tenant or settings.gomemory_allow_remote or settings.gomemory_api_key:
        return
    if is_loopback(settings.host):
        return
    raise InvalidInput(
        f"refusing to serve the GoMemory API on {settings.host!r}: it has no authentication, so anyone who "
        "can reach this address could read and write the memories of tenant "
        f"{settings.gomemory_tenant!r}. Bind to 127.0.0.1, or set MEMHUB_GOMEMORY_API_KEY (clients then "
        "send 'Authorization: Bearer <key>'), or pass --gomemory-allow-remote "
        "(MEMHUB_GOMEMORY_ALLOW_REMOTE=true) to expose it anyway."
    )


def mount_prefix(settings: Settings) -> str | None:
    """Where the app mounts this router: ``gomemory_prefix`` as ``/name``; None (off) without a tenant."""
    if not settings.gomemory_tenant:
        return None
    prefix = "/" + settings.gomemory_prefix.strip().strip("/")
    if prefix == "/":
        raise InvalidInput("gomemory_prefix must name a path such as /gomemory, not the root")
    return prefix


# ---------------------------------------------------------------------------------------------------
# request parsing


@dataclass(frozen=True)
class _Insertion:
    user_id: str
    messages: list[MessageInput]


@dataclass(frozen=True)
class _Retrieval:
    user_id: str
    query: str
    threshold: float
    core: bool


def _json_object(raw: bytes, message: str) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:  # UnicodeDecodeError is a ValueError too
        raise Rejected(400, message) from None
    if not isinstance(body, dict):
        raise Rejected(400, message)
    return body


def _user_id(body: dict[str, Any]) -> str:
    value = body.get("userId")
    if value is not None and not isinstance(value, str):
        raise Rejected(400, FORMAT_WRONG)
    if not value or not value.strip():
        raise Rejected(400, USER_REQUIRED)
    return value


def _messages(value: Any, empty_message: str) -> list[MessageInput]:
    if value is None:
        raise Rejected(400, empty_message)
    if not isinstance(value, list):
        raise Rejected(400, FORMAT_WRONG)
    if not value:
        raise Rejected(400, empty_message)
    return [_message(item) for item in value]


def _message(item: Any) -> MessageInput:
    """Any role string is accepted: the SDK sends ``model``, raw-HTTP callers send ``assistant``."""
    if not isinstance(item, dict):
        raise Rejected(400, FORMAT_WRONG)
    role, content = item.get("role"), item.get("content")
    if not isinstance(role, str) or not role.strip() or not isinstance(content, str):
        raise Rejected(400, FORMAT_WRONG)
    return MessageInput(role=role, content=content)


def _parse_insertion(raw: bytes) -> _Insertion:
    body = _json_object(raw, FORMAT_WRONG)
    return _Insertion(_user_id(body), _messages(body.get("messages"), NO_MESSAGES))


def _parse_retrieval(raw: bytes) -> _Retrieval:
    body = _json_object(raw, MALFORMED_GET)
    user_id = _user_id(body)
    query = _retrieval_text(body)
    return _Retrieval(user_id, query, _threshold(body.get("threshold")), _core(body.get("core")))


def _retrieval_text(body: dict[str, Any]) -> str:
    """Exactly one of ``query`` (non-empty) or ``messages`` (present); messages become a query."""
    query, messages = body.get("query"), body.get("messages")
    if query is not None and not isinstance(query, str):
        raise Rejected(400, FORMAT_WRONG)
    if query and messages is not None:
        raise Rejected(400, BOTH_GIVEN)
    if query:
        return query
    if messages is None:
        raise Rejected(400, NEITHER_GIVEN)
    text = contextual_query([m.content for m in _messages(messages, EMPTY_MESSAGES)])
    if not text:
        raise Rejected(400, NO_TEXT)
    return text


def _threshold(value: Any) -> float:
    """Absent → 0.65. An explicit 0 is honoured as "no threshold" (the reference can't tell)."""
    if value is None:
        return DEFAULT_THRESHOLD
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise Rejected(400, "threshold must be a number between 0 and 1")
    return float(value)


def _core(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, bool):
        raise Rejected(400, "core must be true or false")
    return value


def contextual_query(contents: Sequence[str], budget: int = CONTEXT_CHARS) -> str:
    """The conversation's last ~``budget`` characters of sentences, latest first, kept in order.

    Retrieval by messages is about where the conversation is now, so the query is built from its end
    backwards (the reference server's ``ConstructContextualQuery``); empty contents are skipped.
    """
    picked: list[str] = []
    used = 0
    for content in reversed(contents):
        for piece in reversed(_SENTENCE.findall(content)):
            sentence = piece.strip()
            if not sentence:
                continue
            if picked and used + len(sentence) > budget:
                return " ".join(reversed(picked))
            picked.append(sentence[-budget:])
            used += len(sentence) + 1
    return " ".join(reversed(picked))


def request_id(user_id: str, messages: Sequence[MessageInput]) -> str:
    """The ReqId: UUIDv5(OID, user + "\\n" + JSON of [[role, content], …]) (spec §3.3 decision).

    Same user and same ordered messages → same id; a different user, content, order or role → another
    id, and re-splitting content (["ab","c"] vs ["a","bc"]) cannot collide as in the reference digest.
    """
    pairs = [[m.role, m.content] for m in messages]
    canonical = json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))
    return str(uuid.uuid5(uuid.NAMESPACE_OID, user_id + "\n" + canonical))


# ---------------------------------------------------------------------------------------------------
# response shapes


def memory_object(memory: Memory, kind: str, user_id: str, score: float | None) -> dict[str, Any]:
    """One memory with both key sets (SDK aliases and documented json tags) and its score."""
    owner = memory.user_id or user_id
    return {
        "Memory_text": memory.text,
        "Type": kind,
        "Memory_Id": memory.id,
        "UserId": owner,
        "memory_text": memory.text,
        "type": kind,
        "memory_id": memory.id,
        "userId": owner,
        "score": score,
    }


def _timestamp(moment: datetime) -> str:
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------------
# the router


async def _raw_body(request: Request) -> bytes:
    """The body, read here so the (sync) endpoints run in the threadpool yet parse it themselves."""
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


class _Door:
    """Per-app state of the mount: the configured tenant (resolved once) and the optional bearer key."""

    def __init__(self, settings: Settings) -> None:
        if not settings.gomemory_tenant:
            raise InvalidInput("the GoMemory API needs gomemory_tenant (--gomemory-tenant)")
        self.tenant_name = settings.gomemory_tenant
        self.api_key = settings.gomemory_api_key
        self._tenant_id: str | None = None

    def tenant_id(self, service: MemoryService) -> str:
        if self._tenant_id is None:
            self._tenant_id = service.ensure_tenant(self.tenant_name).id
        return self._tenant_id

    def authorize(self, request: Request) -> None:
        """With ``gomemory_api_key`` set, require ``Authorization: Bearer <key>`` (constant-time compare)."""
        if self.api_key is None:
            return
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            secret.strip().encode("utf-8"), self.api_key.encode("utf-8")
        ):
            raise Rejected(401, "Unauthorized", {"WWW-Authenticate": "Bearer"})


def router(settings: Settings) -> APIRouter:
    """The GoMemory endpoints, relative to the mount prefix (``mount_prefix(settings)``).

    Raises :class:`InvalidInput` if the settings would expose the API unsafely (:func:`check_exposure`),
    so an app built with such settings fails at start-up even if the CLI's own check was bypassed.
    """
    check_exposure(settings)
    door = _Door(settings)
    api = APIRouter(route_class=GoMemoryRoute, tags=["GoMemory compatibility"])
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
        insertion = _parse_insertion(raw)
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
        status = _STATUS_NAMES[job.status]
        body: dict[str, Any] = {"status": status, "createdAt": _timestamp(job.created_at)}
        if job.status is JobStatus.FAILED:
            body["error"] = job.last_error or "memory insertion failed"
        return JSONResponse(body)

    @api.post("/get_memory", dependencies=[authorized], summary="Retrieve a user's memories")
    def get_memory(service: ServiceDep, raw: RawBody) -> JSONResponse:
        retrieval = _parse_retrieval(raw)
        tenant_id = door.tenant_id(service)
        return JSONResponse(_retrieve(service, tenant_id, retrieval))

    return api


def _retrieve(service: MemoryService, tenant_id: str, retrieval: _Retrieval) -> list[dict[str, Any]]:
    """General hits (non-core memories at or above the threshold, best first), then every core fact."""
    request = SearchRequest(
        query=retrieval.query,
        user_id=retrieval.user_id,
        threshold=retrieval.threshold,
        core=False,
        limit=min(GENERAL_LIMIT, service.limits.max_search_limit),
    )
    hits = service.search(tenant_id, request)
    items = [memory_object(hit.memory, "general", retrieval.user_id, hit.score) for hit in hits]
    if retrieval.core:
        core = _core_memories(service, tenant_id, retrieval.user_id)
        items.extend(memory_object(memory, "core", retrieval.user_id, None) for memory in core)
    return items


def _core_memories(service: MemoryService, tenant_id: str, user_id: str) -> list[Memory]:
    """All current core facts of the user ("always provided", never threshold-filtered)."""
    return service.all_memories(tenant_id, user_id=user_id, kinds=[MemoryKind.FACT], core=True)


create_router = router
"""The name ``api/app.py`` looks up on every adapter module."""
