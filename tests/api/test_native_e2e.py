"""The native API end to end: a real ``memhub serve`` process driven with raw ``httpx``.

Tests share one server per backend; each uses its own user ids, sessions and spaces. The whole suite
runs twice: on the default SQLite store (the session's ``server``) and on PostgreSQL (a server started
with ``database_url`` pointing at a fresh database of the test PostgreSQL) — the same requests, the same
expected answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from memhub._version import __version__
from support.api import add_messages, assert_envelope, wait_for_job
from support.server import ServerHandle, launch_server


def _uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, server: ServerHandle) -> Iterator[ServerHandle]:
    """The session's SQLite server, or a server of this module's own on PostgreSQL."""
    if request.param == "sqlite":
        yield server
        return
    postgres = request.getfixturevalue("postgres_server")
    tmp = request.getfixturevalue("tmp_path_factory").mktemp("memhub-server-pg")
    handle = launch_server(tmp, database_url=postgres.new_database())
    yield handle
    handle.stop()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.node.callspec.params["server"]
    return name


@pytest.fixture
def client(server: ServerHandle) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def test_health_needs_no_key_and_info_describes_the_server(
    server: ServerHandle, client: httpx.Client, backend: str
) -> None:
    health = httpx.get(f"{server.base_url}/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "version": __version__}

    info = client.get("/v1/info")
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["version"] == __version__
    assert body["backend"] == backend
    assert body["embedder"]["dim"] > 0 and body["embedder"]["model"]
    assert {"spaces", "users", "sessions", "events", "memories", "jobs_pending", "jobs_failed"} <= set(
        body["counts"]
    )


def test_memory_lifecycle_add_search_get_list_patch_delete(client: httpx.Client) -> None:
    user = _uid("ada")
    messages = [
        {"role": "user", "content": "I adopted a beagle named Biscuit last spring.", "id": "m1"},
        {"role": "assistant", "content": "Biscuit is a lovely name for a beagle!"},
        {"role": "user", "content": "I work as a nurse at a hospital in Lisbon.", "id": "m3"},
    ]
    body = {"messages": messages, "user_id": user, "session_id": _uid("s"), "metadata": {"src": "test"}}
    first = client.post("/v1/memories", json=body)
    assert first.status_code == 202, first.text
    accepted = first.json()
    assert set(accepted) == {"job_id", "status", "created"} and accepted["created"] is True

    again = client.post("/v1/memories", json=body)
    assert again.status_code == 202
    assert again.json()["job_id"] == accepted["job_id"] and again.json()["created"] is False

    job = wait_for_job(client, accepted["job_id"])
    assert job["memory_ids"]

    found = client.post("/v1/memories/search", json={"query": "what is the name of my dog?", "user_id": user})
    assert found.status_code == 200, found.text
    results = found.json()["results"]
    assert results and set(results[0]) == {"memory", "score", "similarity", "rank_score", "sources", "chunk"}
    assert all(0.0 <= r["score"] <= 1.0 for r in results)
    top = next(r for r in results if "Biscuit" in r["memory"]["text"])
    assert top["memory"]["user_id"] == user

    memory_id = top["memory"]["id"]
    got = client.get(f"/v1/memories/{memory_id}")
    assert got.status_code == 200 and got.json()["id"] == memory_id

    everything = _all_pages(client, "/v1/memories", {"user_id": user, "limit": 2})
    ids = [m["id"] for m in everything]
    assert len(ids) == len(set(ids)) >= 3
    assert set(job["memory_ids"]) <= set(ids)

    episodes = client.get("/v1/memories", params={"user_id": user, "kind": "episode", "limit": 100}).json()
    assert episodes["items"] and all(m["kind"] == "episode" for m in episodes["items"])

    patched = client.patch(f"/v1/memories/{memory_id}", json={"metadata": {"pinned": True}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["metadata"] == {"pinned": True}, "PATCH replaces the metadata"
    assert client.get(f"/v1/memories/{memory_id}").json()["metadata"]["pinned"] is True

    deleted = client.delete(f"/v1/memories/{memory_id}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_envelope(client.get(f"/v1/memories/{memory_id}"), 404, "not_found")
    after = client.post("/v1/memories/search", json={"query": "beagle Biscuit", "user_id": user}).json()
    assert memory_id not in {r["memory"]["id"] for r in after["results"]}


def test_search_modes_threshold_and_kinds(client: httpx.Client) -> None:
    user = _uid("kim")
    add_messages(client, user, "My favourite food is spicy ramen.", "I play the cello on Sundays.")
    for mode in ("hybrid", "dense", "keyword"):
        response = client.post("/v1/memories/search", json={"query": "cello", "user_id": user, "mode": mode})
        assert response.status_code == 200, (mode, response.text)
        assert any("cello" in r["memory"]["text"] for r in response.json()["results"]), mode
    strict = client.post("/v1/memories/search", json={"query": "cello", "user_id": user, "threshold": 1.0})
    assert strict.json()["results"] == []
    only_facts = client.post(
        "/v1/memories/search", json={"query": "food", "user_id": user, "kinds": ["fact"], "limit": 50}
    )
    assert all(r["memory"]["kind"] == "fact" for r in only_facts.json()["results"])


def test_spaces_create_list_get_search_delete(client: httpx.Client) -> None:
    name = _uid("work")
    created = client.post("/v1/spaces", json={"name": name, "metadata": {"team": "ops"}})
    assert created.status_code == 201, created.text
    space = created.json()
    assert space["name"] == name and space["metadata"] == {"team": "ops"}
    assert_envelope(client.post("/v1/spaces", json={"name": name}), 409, "conflict")

    listed = client.get("/v1/spaces").json()
    assert listed["next_cursor"] is None
    assert {"default", name} <= {s["name"] for s in listed["items"]}
    assert client.get(f"/v1/spaces/{space['id']}").json() == space

    user = _uid("sam")
    add_messages(client, user, "The quarterly deploy freeze starts on Friday.", space=name)
    in_space = client.post(
        "/v1/memories/search", json={"query": "deploy freeze", "user_id": user, "spaces": [name]}
    )
    assert in_space.json()["results"]
    in_default = client.post("/v1/memories/search", json={"query": "deploy freeze", "user_id": user})
    assert in_default.json()["results"] == []

    assert client.delete(f"/v1/spaces/{space['id']}").status_code == 204
    assert_envelope(client.get(f"/v1/spaces/{space['id']}"), 404, "not_found")
    default = next(s for s in client.get("/v1/spaces").json()["items"] if s["name"] == "default")
    assert_envelope(client.delete(f"/v1/spaces/{default['id']}"), 409, "conflict")


def test_users_list_get_and_forget(client: httpx.Client) -> None:
    user = _uid("zoe")
    add_messages(client, user, "I am allergic to peanuts.", "My sister lives in Oslo.")
    got = client.get(f"/v1/users/{user}")
    assert got.status_code == 200 and got.json()["id"] == user
    assert user in {u["id"] for u in _all_pages(client, "/v1/users", {"limit": 3})}

    forgotten = client.delete(f"/v1/users/{user}")
    assert forgotten.status_code == 200, forgotten.text
    assert forgotten.json()["deleted_memories"] >= 2
    assert_envelope(client.get(f"/v1/users/{user}"), 404, "not_found")
    assert client.get("/v1/memories", params={"user_id": user}).json()["items"] == []
    search = client.post("/v1/memories/search", json={"query": "peanuts allergy", "user_id": user})
    assert search.json()["results"] == []


def test_user_ids_with_slashes_are_addressable(client: httpx.Client) -> None:
    user = f"org/{_uid('team')}/lee"
    add_messages(client, user, "I keep my bike in the basement.")
    encoded = httpx.URL(f"/v1/users/{user.replace('/', '%2F')}")
    got = client.get(encoded)
    assert got.status_code == 200, got.text
    assert got.json()["id"] == user


def test_sessions_and_their_messages(client: httpx.Client) -> None:
    user, session_id = _uid("max"), _uid("chat")
    created = client.post(
        "/v1/sessions", json={"user_id": user, "session_id": session_id, "metadata": {"a": 1}}
    )
    assert created.status_code == 201, created.text
    assert created.json()["id"] == session_id and created.json()["user_id"] == user
    assert client.get(f"/v1/sessions/{session_id}").json()["id"] == session_id
    minted = client.post("/v1/sessions", json={"user_id": user})
    assert minted.status_code == 201 and minted.json()["id"]

    turns = ["Hi, I'm planning a trip to Kyoto.", "Great! When are you going?", "In April, for the blossoms."]
    messages = [{"role": ("user", "assistant")[i % 2], "content": t} for i, t in enumerate(turns)]
    response = client.post(
        "/v1/memories", json={"messages": messages, "user_id": user, "session_id": session_id}
    )
    wait_for_job(client, response.json()["job_id"])

    listed = _all_pages(client, f"/v1/sessions/{session_id}/messages", {"limit": 1})
    assert [e["content"] for e in listed] == turns
    assert [e["role"] for e in listed] == ["user", "assistant", "user"]
    sessions = client.get("/v1/sessions", params={"user_id": user}).json()["items"]
    assert {session_id, minted.json()["id"]} <= {s["id"] for s in sessions}


def test_user_actions_become_searchable(client: httpx.Client) -> None:
    user = _uid("ivy")
    response = client.post(
        "/v1/events",
        json={"user_id": user, "action": "purchased", "content": "a red sea kayak", "id": "order-77"},
    )
    assert response.status_code == 202, response.text
    wait_for_job(client, response.json()["job_id"])
    found = client.post("/v1/memories/search", json={"query": "kayak", "user_id": user}).json()["results"]
    assert found and "kayak" in found[0]["memory"]["text"]
    assert "order-77" in found[0]["sources"]


def test_documents_are_chunked_and_searchable(client: httpx.Client) -> None:
    user = _uid("doc")
    paragraphs = [f"Section {i}. " + " ".join(f"filler{i}x{j}" for j in range(40)) for i in range(8)]
    paragraphs[5] = "Section 5. The emergency generator must be tested on the first Monday of every month."
    response = client.post(
        "/v1/documents",
        json={
            "content": "\n\n".join(paragraphs),
            "title": "Facilities handbook",
            "user_id": user,
            "chunk_size": 400,
            "chunk_overlap": 50,
        },
    )
    assert response.status_code == 202, response.text
    wait_for_job(client, response.json()["job_id"])
    results = client.post(
        "/v1/memories/search",
        json={"query": "when is the emergency generator tested", "user_id": user, "kinds": ["document"]},
    ).json()["results"]
    assert results
    top = results[0]
    assert top["memory"]["kind"] == "document"
    assert top["chunk"] is not None and "generator" in top["chunk"]["text"]
    assert top["chunk"]["start"] is not None and top["chunk"]["end"] > top["chunk"]["start"]


def test_events_lists_every_raw_event_with_or_without_a_session_in_pages(client: httpx.Client) -> None:
    user = _uid("events")
    add_messages(client, user, "first, without a session", "second, without a session")
    add_messages(client, user, "third, in a session", session_id=_uid("s"))
    action = client.post("/v1/events", json={"user_id": user, "action": "purchase", "content": "a kettle"})
    wait_for_job(client, action.json()["job_id"])

    first = client.get("/v1/events", params={"user_id": user, "limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get("/v1/events", params={"user_id": user, "cursor": first["next_cursor"]}).json()
    events = first["items"] + rest["items"]
    assert rest["next_cursor"] is None
    assert [e["kind"] for e in events] == ["message", "message", "message", "action"]
    assert [e["session_id"] is None for e in events] == [True, True, False, True]
    actions = client.get("/v1/events", params={"user_id": user, "kind": "action"}).json()["items"]
    assert [e["name"] for e in actions] == ["purchase"]
    too_many = client.get("/v1/events", params={"limit": 100_000})
    assert_envelope(too_many, 422)


def test_openapi_lists_every_native_route(server: ServerHandle) -> None:
    spec = httpx.get(f"{server.base_url}/openapi.json").json()
    expected = {
        "/health": {"get"},
        "/v1/info": {"get"},
        "/v1/memories": {"get", "post"},
        "/v1/memories/search": {"post"},
        "/v1/memories/{memory_id}": {"get", "patch", "delete"},
        "/v1/documents": {"post"},
        "/v1/events": {"get", "post"},
        "/v1/jobs/{job_id}": {"get"},
        "/v1/spaces": {"get", "post"},
        "/v1/spaces/{space_id}": {"get", "delete"},
        "/v1/users": {"get"},
        "/v1/users/{user_id}": {"get", "delete"},
        "/v1/sessions": {"get", "post"},
        "/v1/sessions/{session_id}": {"get"},
        "/v1/sessions/{session_id}/messages": {"get"},
    }
    native = {
        path: set(ops) for path, ops in spec["paths"].items() if path == "/health" or path.startswith("/v1/")
    }
    assert native == expected
    assert "bearer" in str(spec["components"]["securitySchemes"]).lower()
    assert httpx.get(f"{server.base_url}/docs").status_code == 200


def _all_pages(client: httpx.Client, path: str, params: dict[str, Any]) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    for _ in range(1000):
        page = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")
