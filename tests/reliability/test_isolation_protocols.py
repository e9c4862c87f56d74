"""Tenant isolation, route by route, for every door: native, GUMem, GoodMem, Memsy, GoMemory, mem0, MCP,
console.

One real server; tenants A and B, each with its own key and data written through every protocol
(``support/isolation.py``). Tenant A then calls every route of the app aimed at B's ids, names and
content (the reviewed table in ``support/isolation_routes.py``), and each answer must:

* have the status the row expects — 404 for B's things, a 200 list/search/status answer holding only A's
  items, a non-403 4xx for a write naming B's thing — and **the same status and body (ids aside) as the
  same call with made-up ids**, so no answer tells A whether B's id exists (no existence oracle);
* contain none of B's ids, names, key or content, except what A itself sent;

and afterwards everything of B's reads exactly as before (A's deletes and updates did nothing).

The route list comes from the app's own route table: a route added later without a row here fails
:func:`test_every_route_has_an_isolation_case` (or must be allow-listed with a reason).

GoMemory has no tenant keys: the mount is bound to tenant A (``gomemory_tenant``) behind its own door key,
so its rows prove that B's users, jobs and content cannot be reached through it, and
:func:`test_gomemory_door_accepts_no_tenant_key` that a memhub tenant key does not open it.
"""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from memhub.api import create_app
from memhub.api.console.session import csrf_token
from memhub.settings import Settings
from support.isolation import GOMEMORY_DOOR_KEY, Ids, console_session, doors, ghost, ok, seed
from support.isolation_routes import ALLOWED_UNTESTED, Call, Expect, Row, all_rows
from support.server import ServerHandle, launch_server

A_NAME = f"iso-a-{uuid.uuid4().hex[:8]}"
B_NAME = f"iso-b-{uuid.uuid4().hex[:8]}"
SETTINGS: dict[str, Any] = {
    "gomemory_tenant": A_NAME,
    "gomemory_api_key": GOMEMORY_DOOR_KEY,
    "log_level": "warning",
}
ROWS = all_rows()


@dataclass(frozen=True)
class World:
    server: ServerHandle
    a_key: str
    a: Ids
    b_key: str
    b: Ids
    c_key: str
    c: Ids  # sends the rows that write under B's names into its own namespace (``Expect.OWN``)
    nobody: Ids  # B's shape, ids no tenant owns
    b_before: dict[str, Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = launch_server(tmp_path_factory.mktemp("isolation"), **SETTINGS)
    try:
        a_key, a = seed(server, A_NAME)
        b_key, b = seed(server, B_NAME)
        c_key, c = seed(server, f"iso-c-{uuid.uuid4().hex[:8]}")
        yield World(server, a_key, a, b_key, b, c_key, c, ghost(b), b_snapshot(server, b_key, b))
    finally:
        server.stop()


def b_snapshot(server: ServerHandle, key: str, b: Ids) -> dict[str, Any]:
    """Everything of B's, read by B: each thing by id, and B's counts."""
    native = [
        "/v1/info",
        *(f"/v1/memories/{m}" for m in (b.memory_id, b.gum_memory_id, b.memsy_memory_id, b.mcp_memory_id)),
        *(f"/v1/jobs/{j}" for j in (b.job_id, b.document_job_id, b.event_job_id, b.memsy_event_id)),
        *(f"/v1/spaces/{s}" for s in (b.space_id, b.gm_space_id)),
        *(f"/v1/sessions/{s}" for s in (b.session_id, b.gum_session_id, b.memsy_container)),
        f"/v1/users/{b.user_id}",
    ]
    goodmem = [
        f"/goodmem/v1/{kind}/{item}"
        for kind, item in (
            ("embedders", b.gm_embedder_id),
            ("rerankers", b.gm_reranker_id),
            ("llms", b.gm_llm_id),
            ("apikeys", b.gm_key_id),
            ("spaces", b.gm_space_id),
            ("memories", b.gm_memory_id),
        )
    ]
    memsy = [f"/memsy/v1/orgs/{b.tenant_name}", f"/memsy/v1/roles/{b.memsy_role_id}"]
    memsy.append(f"/memsy/v1/teams/{b.memsy_team_id}")
    gumem = [f"/gumem/api/sessions/{b.gum_session_id}/context"]
    mem0 = [f"/mem0/v1/memories/{b.mem0_memory_id}/", f"/mem0/v1/memories/{b.mem0_memory_id}/history/"]
    mem0.append(f"/mem0/v1/event/{b.mem0_event_id}/")
    h = doors(key)
    reads = [(p, h["native"]) for p in native] + [(p, h["goodmem"]) for p in goodmem]
    reads += [(p, h["memsy"]) for p in memsy] + [(p, h["gumem"]) for p in gumem]
    reads += [(p, h["mem0"]) for p in mem0]
    with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
        return {path: ok(http.get(path, headers=headers)) for path, headers in reads}


# --- the route table covers the app --------------------------------------------------------------------


def served_routes() -> set[tuple[str, str]]:
    """(method, path template) of every route an app configured like the test server serves."""
    app = create_app(Settings(data=Path(tempfile.gettempdir()) / "memhub-isolation-unused", **SETTINGS))
    return {
        (method, str(context.path_format))
        for context in iter_route_contexts(app.routes)
        for method in context.methods or ()
        if method != "HEAD"
    }


def test_every_route_has_an_isolation_case() -> None:
    served = served_routes()
    covered = {row.route for row in ROWS}
    assert served - covered - set(ALLOWED_UNTESTED) == set(), "routes without an isolation row"
    assert covered - served == set(), "rows for routes the app does not serve"
    assert set(ALLOWED_UNTESTED) <= served, "stale allow-list entries"
    for prefix in ("/v1/", "/gumem/", "/goodmem/", "/memsy/v1/", "/gomemory/", "/mcp", "/console", "/mem0/"):
        assert any(path.startswith(prefix) for _, path in covered), prefix


def test_every_mcp_tool_has_an_isolation_case(world: World) -> None:
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    with httpx.Client(base_url=world.server.base_url, timeout=30.0) as http:
        tools = ok(http.post("/mcp", json=listing, headers=doors(world.a_key)["mcp"]))["result"]["tools"]
    called = {
        row.build(world.b, world.a).json["params"]["name"] for row in ROWS if row.route == ("POST", "/mcp")
    }
    assert called == {tool["name"] for tool in tools}


# --- A aims every route at B ---------------------------------------------------------------------------


def send(http: httpx.Client, call: Call, key: str) -> httpx.Response:
    session = console_session(http, key) if call.door == "console" else ""
    headers = doors(key)[call.door]
    form = None if call.form is None else {**call.form, "csrf": csrf_token(session.partition(".")[2])}
    request = http.build_request(
        call.method, call.path, params=call.params, json=call.json, data=form, headers=headers
    )
    response = http.send(request, stream=call.stream)
    if call.stream:
        response.close()  # status and headers only: the stream would stay open
    else:
        response.read()
    return response


def text_of(response: httpx.Response) -> str:
    """The body; empty for an event stream closed unread."""
    try:
        return response.text
    except httpx.ResponseNotRead:
        return ""


def leaks(response: httpx.Response, secrets: set[str]) -> set[str]:
    """B's strings in the answer (headers included) that the request itself did not carry."""
    sent = str(response.request.url) + response.request.content.decode("utf-8", "replace")
    answer = text_of(response) + "".join(f"{k}: {v}\n" for k, v in response.headers.items())
    return {secret for secret in secrets if secret in answer and secret not in sent}


def normalised(text: str, ids: Ids) -> str:
    """The answer with the ids that were sent replaced by their field names, for comparing two answers."""
    for name, value in sorted(asdict(ids).items(), key=lambda item: -len(item[1])):
        text = text.replace(value, f"<{name}>")
    return re.sub(r'"(request_id|requestId|timestamp)":\s*"[^"]*"', r'"\1":"…"', text)


def mcp_failed(response: httpx.Response) -> bool:
    result: dict[str, Any] = response.json()["result"]
    return bool(result.get("isError"))


def _params() -> list[Any]:
    return [
        pytest.param(row, id=row.name, marks=[pytest.mark.xfail(strict=True, reason=row.known_oracle)])
        if row.known_oracle
        else pytest.param(row, id=row.name)
        for row in ROWS
    ]


@pytest.mark.parametrize("row", _params())
def test_tenant_a_cannot_reach_tenant_b(world: World, row: Row) -> None:
    secrets = world.b.secrets() | {world.b_key, world.b_key[:10]}
    key, own = (world.c_key, world.c) if row.expect is Expect.OWN else (world.a_key, world.a)
    with httpx.Client(base_url=world.server.base_url, timeout=30.0) as http:
        aimed = send(http, row.build(world.b, own), key)
        made_up = send(http, row.build(world.nobody, own), key)
    summary = f"{aimed.status_code} {text_of(aimed)[:400]}"
    assert row.expect.allows(aimed.status_code), f"{row.expect.value}; got {summary}"
    assert aimed.status_code == made_up.status_code, f"B's id answers unlike a made-up one: {summary}"
    assert not leaks(aimed, secrets), f"B's data in A's answer: {leaks(aimed, secrets)}\n{summary}"
    if row.same_body:
        assert normalised(aimed.text, world.b) == normalised(made_up.text, world.nobody), summary
    if row.route == ("POST", "/mcp"):
        assert mcp_failed(aimed) is (row.expect is Expect.TOOL_ERROR), summary


def test_b_data_is_untouched_after_a_tried_everything(world: World) -> None:
    """Runs after the table (definition order): every delete and update A aimed at B did nothing."""
    assert b_snapshot(world.server, world.b_key, world.b) == world.b_before


def test_a_sees_its_own_data_so_empty_answers_are_not_vacuous(world: World) -> None:
    h = doors(world.a_key)
    with httpx.Client(base_url=world.server.base_url, timeout=30.0) as http:
        found = ok(http.post("/v1/memories/search", json={"query": world.a.marker}, headers=h["native"]))
        spaces = ok(http.get("/goodmem/v1/spaces", headers=h["goodmem"]))
        actors = ok(http.get("/memsy/v1/actors", headers=h["memsy"]))
        asked = {"userId": world.a.user_id, "query": world.a.marker, "threshold": 0.0}
        go = ok(http.post("/gomemory/get_memory", json=asked, headers=h["gomemory"]))
    assert any(world.a.marker in hit["memory"]["text"] for hit in found["results"])
    assert world.a.gm_space_id in json.dumps(spaces)
    assert world.a.user_id in json.dumps(actors)
    assert any(world.a.marker in json.dumps(item) for item in go)


def test_gomemory_door_accepts_no_tenant_key(world: World) -> None:
    """The GoMemory mount serves tenant A behind its own key; no memhub tenant key opens it."""
    body = {"userId": world.b.user_id, "query": world.b.marker, "threshold": 0.0}
    with httpx.Client(base_url=world.server.base_url, timeout=30.0) as http:
        for key in (world.b_key, world.a_key):
            answer = http.post("/gomemory/get_memory", json=body, headers={"Authorization": f"Bearer {key}"})
            assert answer.status_code == 401, answer.text
            assert world.b.marker not in answer.text
