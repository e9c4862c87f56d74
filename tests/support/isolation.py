"""Two tenants on one real server, and tenant B's data written through every door (for isolation tests).

:func:`seed` makes B own one of everything each protocol can name by id — native spaces, sessions,
memories and jobs; GUMem sessions; GoodMem embedders, spaces, memories, rerankers, LLMs and keys; Memsy
records, events and memories; an MCP memory — all carrying one unguessable marker word in their text.
The ids come back as :class:`Ids`; :func:`ghost` gives the same shape filled with ids nobody owns,
so a test can ask "does B's id answer exactly like a made-up one?" — the no-existence-oracle check.

Raw ``httpx`` on purpose: each request is spelled out, so what was sent is what is tested.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from support.polling import poll_until
from support.server import ServerHandle

GOMEMORY_DOOR_KEY = "gomemory-door-key-for-isolation"
WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class Ids:
    """Everything of one tenant a caller could name in a URL, a query or a body."""

    tenant_id: str
    tenant_name: str
    marker: str  # a word in every text the tenant stored
    user_id: str
    session_id: str
    space_id: str
    space_name: str
    memory_id: str
    job_id: str
    document_job_id: str
    event_job_id: str
    gum_session_id: str
    gum_memory_id: str
    gm_embedder_id: str
    gm_space_id: str
    gm_memory_id: str
    gm_reranker_id: str
    gm_llm_id: str
    gm_key_id: str
    memsy_container: str
    memsy_event_id: str
    memsy_memory_id: str
    memsy_role_id: str
    memsy_team_id: str
    mcp_memory_id: str
    mem0_memory_id: str
    mem0_event_id: str
    mem0_agent_id: str
    mem0_run_id: str

    def secrets(self) -> set[str]:
        """Strings that must never appear in an answer to another tenant (unless it sent them itself)."""
        return {value for value in dataclasses.asdict(self).values() if len(value) >= 8}


def ghost(ids: Ids) -> Ids:
    """The same fields, each a fresh value of the same shape that no tenant owns."""
    fresh: dict[str, str] = {}
    for name, value in dataclasses.asdict(ids).items():
        try:
            uuid.UUID(value)
            fresh[name] = str(uuid.uuid4())
        except ValueError:
            head = value.split("_", 1)[0] + "_" if value.startswith(("role_", "team_")) else "ghost-"
            fresh[name] = head + uuid.uuid4().hex
    return Ids(**fresh)


_CONSOLE_SESSIONS: dict[str, str] = {}  # key -> the console session cookie signed in with it


def console_session(http: httpx.Client, key: str) -> str:
    """The console cookie of a session signed in with ``key`` (signed in once per key, then reused)."""
    if key not in _CONSOLE_SESSIONS:
        signed_in = http.post("/console/login", data={"api_key": key})
        assert signed_in.status_code == 303, signed_in.text
        cookie = signed_in.cookies["memhub_console"]
        http.cookies.clear()  # the caller's client sends the session only when a request names it
        _CONSOLE_SESSIONS[key] = cookie
    return _CONSOLE_SESSIONS[key]


def doors(key: str) -> dict[str, dict[str, str]]:
    """Each protocol's own way of sending ``key`` (the console's: a session signed in with it, once
    :func:`console_session` has opened one)."""
    return {
        "native": {"Authorization": f"Bearer {key}"},
        "gumem": {"Authorization": f"Api-Key {key}"},
        "goodmem": {"x-api-key": key},
        "memsy": {"Authorization": f"Bearer {key}"},
        "mcp": {"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream"},
        "gomemory": {"Authorization": f"Bearer {GOMEMORY_DOOR_KEY}"},
        "console": {"Cookie": f"memhub_console={_CONSOLE_SESSIONS.get(key, '')}"},
        "mem0": {"Authorization": f"Token {key}"},
    }


def ok(response: httpx.Response) -> Any:
    assert response.is_success, (response.request.method, response.request.url, response.text)
    return response.json() if response.content else None


def wait_job(http: httpx.Client, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    """The native job once it succeeded (it must, within :data:`WAIT_SECONDS`)."""

    def succeeded() -> dict[str, Any] | None:
        job: dict[str, Any] = ok(http.get(f"/v1/jobs/{job_id}", headers=headers))
        assert job["status"] != "failed", job
        return job if job["status"] == "succeeded" else None

    return poll_until(succeeded, timeout=WAIT_SECONDS, message=f"job {job_id} did not finish")


def mcp_call(http: httpx.Client, headers: dict[str, str], tool: str, **arguments: Any) -> httpx.Response:
    """One stateless JSON-RPC ``tools/call`` on ``/mcp``."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    return http.post("/mcp", json=body, headers=headers)


def seed(server: ServerHandle, tenant_name: str) -> tuple[str, Ids]:
    """A new key of ``tenant_name`` and that tenant's data through every door; returns (key, ids)."""
    key = server.create_key(tenant_name)
    marker = f"okapi{uuid.uuid4().hex[:12]}"
    user = f"user-{uuid.uuid4().hex[:10]}"
    h = doors(key)
    with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
        me = ok(http.get("/goodmem/v1/users/me", headers=h["goodmem"]))
        native = _seed_native(http, h["native"], user, marker)
        gum = _seed_gumem(http, h, user, marker)
        goodmem = _seed_goodmem(http, h, marker)
        memsy = _seed_memsy(http, h, tenant_name, user, marker)
        mcp = _seed_mcp(http, h, user, marker)
        mem0 = _seed_mem0(http, h["mem0"], user, marker)
    return key, Ids(
        tenant_id=me["userId"], tenant_name=tenant_name, marker=marker, user_id=user,
        **native, **gum, **goodmem, **memsy, **mcp, **mem0,
    )  # fmt: skip


def _seed_native(http: httpx.Client, h: dict[str, str], user: str, marker: str) -> dict[str, str]:
    space = ok(http.post("/v1/spaces", json={"name": f"space-{marker}"}, headers=h))
    session = ok(http.post("/v1/sessions", json={"user_id": user, "space": space["id"]}, headers=h))
    said = {"role": "user", "content": f"My {marker} password hint is the blue heron of Lisbon."}
    body = {"messages": [said], "user_id": user, "session_id": session["id"], "space": space["id"]}
    job = wait_job(http, h, ok(http.post("/v1/memories", json=body, headers=h))["job_id"])
    doc = {"content": f"The {marker} handbook says the vault code rotates weekly.", "user_id": user}
    doc_job = wait_job(http, h, ok(http.post("/v1/documents", json=doc, headers=h))["job_id"])
    event = {"action": "purchase", "content": f"bought {marker} tickets", "user_id": user}
    event_job = wait_job(http, h, ok(http.post("/v1/events", json=event, headers=h))["job_id"])
    return {
        "session_id": session["id"],
        "space_id": space["id"],
        "space_name": space["name"],
        "memory_id": job["memory_ids"][0],
        "job_id": job["id"],
        "document_job_id": doc_job["id"],
        "event_job_id": event_job["id"],
    }


def _seed_mem0(http: httpx.Client, h: dict[str, str], user: str, marker: str) -> dict[str, str]:
    """A verbatim memory of B's user, agent and run through the mem0 door (answered once stored)."""
    agent, run = f"agent-{uuid.uuid4().hex}", f"run-{uuid.uuid4().hex}"
    said = [{"role": "user", "content": f"The {marker} boat is moored at pier nine."}]
    body = {"messages": said, "user_id": user, "agent_id": agent, "run_id": run, "infer": False}
    added = ok(http.post("/mem0/v3/memories/add/", json=body, headers=h))
    assert added["status"] == "SUCCEEDED", added
    return {
        "mem0_memory_id": added["results"][0]["id"],
        "mem0_event_id": added["event_id"],
        "mem0_agent_id": agent,
        "mem0_run_id": run,
    }


def _seed_gumem(http: httpx.Client, h: dict[str, dict[str, str]], user: str, marker: str) -> dict[str, str]:
    session_id = f"gum-{uuid.uuid4().hex}"
    ok(http.post("/gumem/api/sessions", json={"user_id": user, "session_id": session_id}, headers=h["gumem"]))
    said = {"role": "user", "content": f"Remember that {marker} likes green tea."}
    body = {"messages": [said], "sync": True}
    ok(http.post(f"/gumem/api/sessions/{session_id}/messages", json=body, headers=h["gumem"]))
    action = {"user_id": user, "timestamp": "2024-05-01T10:00:00Z", "content": f"opened {marker} page"}
    ok(http.post("/gumem/api/user/actions", json={**action, "session_id": session_id}, headers=h["gumem"]))
    listed = ok(http.get("/v1/memories", params={"session_id": session_id}, headers=h["native"]))
    return {"gum_session_id": session_id, "gum_memory_id": listed["items"][0]["id"]}


def _seed_goodmem(http: httpx.Client, h: dict[str, dict[str, str]], marker: str) -> dict[str, str]:
    g = h["goodmem"]
    model = {"providerType": "TEI", "endpointUrl": "http://localhost:1", "modelIdentifier": "local"}
    embedder = ok(
        http.post(
            "/goodmem/v1/embedders", json={**model, "displayName": marker, "dimensionality": 384}, headers=g
        )
    )
    weights = [{"embedderId": embedder["embedderId"]}]
    space = ok(
        http.post("/goodmem/v1/spaces", json={"name": f"gm-{marker}", "spaceEmbedders": weights}, headers=g)
    )
    memory = ok(http.post(
        "/goodmem/v1/memories",
        json={"spaceId": space["spaceId"], "contentType": "text/plain", "originalContent": f"{marker} rows"},
        headers=g,
    ))  # fmt: skip
    _wait_goodmem(http, g, memory["memoryId"])
    reranker = ok(
        http.post("/goodmem/v1/rerankers", json={**model, "displayName": f"rr-{marker}"}, headers=g)
    )
    llm = ok(http.post("/goodmem/v1/llms", json={**model, "displayName": f"llm-{marker}"}, headers=g))
    key = ok(http.post("/goodmem/v1/apikeys", json={"labels": {"who": marker}}, headers=g))
    return {
        "gm_embedder_id": embedder["embedderId"],
        "gm_space_id": space["spaceId"],
        "gm_memory_id": memory["memoryId"],
        "gm_reranker_id": reranker["rerankerId"],
        "gm_llm_id": llm["llm"]["llmId"],
        "gm_key_id": key["apiKeyMetadata"]["apiKeyId"],
    }


def _wait_goodmem(http: httpx.Client, headers: dict[str, str], memory_id: str) -> None:

    def completed() -> bool:
        status = ok(http.get(f"/goodmem/v1/memories/{memory_id}", headers=headers))["processingStatus"]
        assert status != "FAILED"
        return bool(status == "COMPLETED")

    poll_until(completed, timeout=WAIT_SECONDS, message=f"GoodMem memory {memory_id} not processed")


def _seed_memsy(
    http: httpx.Client, h: dict[str, dict[str, str]], org: str, user: str, marker: str
) -> dict[str, str]:
    m = h["memsy"]
    record = {"org_id": org, "name": f"n-{marker}", "focus": f"f-{marker}"}
    ok(http.post("/memsy/v1/orgs", json=record, headers=m))
    role = ok(http.post("/memsy/v1/roles", json=record, headers=m))
    team = ok(http.post("/memsy/v1/teams", json=record, headers=m))
    container = f"conv-{uuid.uuid4().hex}"
    event = {
        "actor_id": user,
        "session_id": container,
        "kind": "user_message",
        "content": f"{marker} lives in Porto.",
    }
    event_id = ok(http.post("/memsy/v1/ingest", json={"events": [event]}, headers=m))["event_ids"][0]
    job = wait_job(http, h["native"], event_id)
    return {
        "memsy_container": container,
        "memsy_event_id": event_id,
        "memsy_memory_id": job["memory_ids"][0],
        "memsy_role_id": role["role_id"],
        "memsy_team_id": team["team_id"],
    }


def _seed_mcp(http: httpx.Client, h: dict[str, dict[str, str]], user: str, marker: str) -> dict[str, str]:
    answer = ok(mcp_call(http, h["mcp"], "add_memory", content=f"{marker} parks on level 3", user_id=user))
    structured = answer["result"]["structuredContent"]
    job = wait_job(http, h["native"], structured["job_id"])
    return {"mcp_memory_id": job["memory_ids"][0]}
