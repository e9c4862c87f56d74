"""memhub as an MCP server: five tools over :class:`~memhub.core.service.MemoryService`.

Two doors share one :func:`build_server`:

- ``memhub mcp`` speaks MCP over stdio, for a client that launches it as a subprocess (Claude Desktop,
  an IDE). It opens the data folder itself and acts as one tenant, chosen with ``--tenant``: whoever can
  start the process can read the folder anyway, so there is no key to check.
- ``memhub serve`` mounts the streamable-HTTP transport at ``/mcp`` (``api/mcp_http.py``). There each
  request carries a Bearer API key like ``/v1``; the mount authenticates it and records the key's tenant
  in the ASGI scope, where the mount's ``TenantOf`` finds it again for the tool call.

The tools call the service directly, never the HTTP routes, and are plain functions: the MCP SDK runs
them in a worker thread, which is what the blocking store and embedder need. Anticipated failures (bad
input, unknown ids) become ``ToolError``s: the model reads the message, and the server logs one INFO
line without a traceback. The ``mcp`` package is an optional extra; this module imports it at the top,
so import it only where the extra is known to be installed (the CLI and the app check first).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from memhub._version import __version__
from memhub.core.errors import MemhubError
from memhub.core.models import JobStatus, Memory, MemoryKind, MessageInput, SearchRequest, SearchResult
from memhub.core.service import MemoryService

WAIT_POLL_SECONDS = 0.05

TenantOf = Callable[[Context], "str | None"]
"""How a tool call finds its tenant id: fixed (stdio) or from the authenticated request (HTTP); None
means the call is not authenticated (which the HTTP mount should have refused already)."""

INSTRUCTIONS = (
    "Long-term memory. Call add_memory with what a user said or did that is worth remembering "
    "(user_id names the person); call search_memories before answering to recall what is known. "
    "Memories are derived in the background: pass wait=true to add_memory to search them at once."
)

UserId = Annotated[str, Field(description="The end-user the memory is about (any stable id).")]
Space = Annotated[str | None, Field(description="Space name; default: the tenant's default space.")]


def fixed_tenant(tenant_id: str) -> TenantOf:
    """Every call acts as ``tenant_id`` (stdio: the process was started for one tenant)."""
    return lambda ctx: tenant_id


def build_server(service: MemoryService, tenant_of: TenantOf) -> MCPServer:
    """An MCP server whose tools act on ``service`` as the tenant ``tenant_of`` names."""
    server = MCPServer("memhub", version=__version__, instructions=INSTRUCTIONS)
    tools = _Tools(service, tenant_of)
    read_only = ToolAnnotations(read_only_hint=True)
    destructive = ToolAnnotations(destructive_hint=True, idempotent_hint=True)
    server.add_tool(tools.add_memory, annotations=ToolAnnotations(idempotent_hint=True))
    server.add_tool(tools.search_memories, annotations=read_only)
    server.add_tool(tools.list_memories, annotations=read_only)
    server.add_tool(tools.delete_memory, annotations=destructive)
    server.add_tool(tools.forget_user, annotations=destructive)
    return server


@contextmanager
def _tool_errors() -> Iterator[None]:
    """memhub's own errors are the caller's to fix: hand their message over as a tool error."""
    try:
        yield
    except MemhubError as exc:
        raise ToolError(exc.message) from None
    except UnicodeEncodeError:  # over stdio no input guard runs first (``api/input_guard.py`` does over HTTP)
        raise ToolError("text must be valid Unicode: it contains an unpaired surrogate") from None


class _Tools:
    """The tool functions; their signatures and docstrings are the tools' schemas and descriptions."""

    def __init__(self, service: MemoryService, tenant_of: TenantOf) -> None:
        self._service = service
        self._tenant_of = tenant_of

    def _tenant(self, ctx: Context) -> str:
        tenant_id = self._tenant_of(ctx)
        if tenant_id is None:
            raise ToolError("not authenticated: send 'Authorization: Bearer <API key>'")
        return tenant_id

    def add_memory(
        self,
        content: Annotated[str, Field(description="The text to remember: a message, a fact, a note.")],
        user_id: UserId,
        ctx: Context,
        role: Annotated[str, Field(description="Who said it: user, assistant, …")] = "user",
        session_id: Annotated[str | None, Field(description="Conversation thread id, if any.")] = None,
        space: Space = None,
        metadata: Annotated[dict[str, Any] | None, Field(description="JSON object kept with it.")] = None,
        wait: Annotated[bool, Field(description="Wait (up to 30 s) until it is searchable.")] = False,
    ) -> dict[str, Any]:
        """Remember something a user said or did. Stored at once; memories are derived in the background."""
        tenant_id = self._tenant(ctx)
        with _tool_errors():
            message = MessageInput(role=role, content=content)
            submitted = self._service.add_messages(
                tenant_id, [message], user_id=user_id, session_id=session_id, space=space, metadata=metadata
            )
            job = self._wait(tenant_id, submitted.job.id) if wait else submitted.job
        answer: dict[str, Any] = {"job_id": job.id, "status": job.status.value}
        if job.last_error:
            answer["error"] = job.last_error
        return answer

    def search_memories(
        self,
        query: Annotated[str, Field(description="What to recall, in plain words.")],
        user_id: Annotated[str, Field(description="Whose memories to search (required: one user's).")],
        ctx: Context,
        session_id: Annotated[str | None, Field(description="Only this conversation.")] = None,
        space: Space = None,
        limit: Annotated[int, Field(description="Most results to return.")] = 10,
        threshold: Annotated[
            float | None,
            Field(
                description="Minimum relevance probability in [0, 1] (0.5: more likely relevant than not)."
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Find one user's memories most relevant to a query; each has a relevance probability in [0, 1].

        user_id is required: an agent answering one person must not recall another's memories. (A search
        of the whole tenant is for admins: the HTTP API or the console.)
        """
        tenant_id = self._tenant(ctx)
        with _tool_errors():
            request = SearchRequest(
                query=query,
                user_id=user_id,
                session_id=session_id,
                spaces=None if space is None else [space],
                limit=limit,
                threshold=threshold,
            )
            results = self._service.search(tenant_id, request)
        return {"results": [_hit(result) for result in results]}

    def list_memories(
        self,
        ctx: Context,
        user_id: Annotated[str | None, Field(description="Only memories about this user.")] = None,
        session_id: Annotated[str | None, Field(description="Only this conversation.")] = None,
        kind: Annotated[MemoryKind | None, Field(description="Only this kind.")] = None,
        space: Space = None,
        limit: Annotated[int, Field(description="Page size.")] = 50,
        cursor: Annotated[str | None, Field(description="next_cursor of the previous page.")] = None,
    ) -> dict[str, Any]:
        """List memories, newest first, a page at a time (pass next_cursor back for the next page)."""
        tenant_id = self._tenant(ctx)
        with _tool_errors():
            page = self._service.list_memories(
                tenant_id,
                user_id=user_id,
                session_id=session_id,
                space=space,
                kinds=None if kind is None else [kind],
                cursor=cursor,
                limit=limit,
            )
        return {"memories": [_memory(m) for m in page.items], "next_cursor": page.next_cursor}

    def delete_memory(
        self, memory_id: Annotated[str, Field(description="The memory's id.")], ctx: Context
    ) -> dict[str, Any]:
        """Delete one memory by id."""
        tenant_id = self._tenant(ctx)
        with _tool_errors():
            self._service.delete_memory(tenant_id, memory_id)
        return {"deleted": memory_id}

    def forget_user(self, user_id: UserId, ctx: Context) -> dict[str, Any]:
        """Delete everything stored about a user: their events, memories and sessions."""
        tenant_id = self._tenant(ctx)
        with _tool_errors():
            deleted = self._service.forget_user(tenant_id, user_id)
        return {"user_id": user_id, "memories_deleted": deleted}

    def _wait(self, tenant_id: str, job_id: str, timeout: float = 30.0) -> Any:
        """The job once finished (or as it is at the deadline); this runs in the SDK's worker thread."""
        deadline = time.monotonic() + timeout
        job = self._service.get_job(tenant_id, job_id)
        while job.status in (JobStatus.PENDING, JobStatus.PROCESSING) and time.monotonic() < deadline:
            time.sleep(WAIT_POLL_SECONDS)
            job = self._service.get_job(tenant_id, job_id)
        return job


def _memory(memory: Memory) -> dict[str, Any]:
    return {
        "id": memory.id,
        "text": memory.text,
        "kind": memory.kind.value,
        "core": memory.core,
        "user_id": memory.user_id,
        "session_id": memory.session_id,
        "metadata": memory.metadata,
        "created_at": memory.created_at.isoformat(),
    }


def _hit(result: SearchResult) -> dict[str, Any]:
    return {**_memory(result.memory), "score": round(result.score, 4)}
