"""Every error answers the envelope with its documented status, and a refused request stores nothing.

Most tests drive the shared real server; tests that need another configuration start their own.
Checks of "nothing changed" use a fresh tenant, whose counts no other test touches.
"""

from __future__ import annotations

import inspect
import json
import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest

from memhub.api.errors import STATUS_BY_ERROR, from_core_error, status_for
from memhub.core import errors as core_errors
from support.api import add_messages, assert_envelope, wait_for_job, wait_until_refused
from support.server import ServerHandle, StartServer


def _uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def tenant_client(server: ServerHandle) -> Iterator[httpx.Client]:
    """A client of a brand-new tenant (its counts are ours alone)."""
    with server.client(server.create_key(_uid("tenant"))) as client:
        yield client


def _counts(client: httpx.Client) -> dict[str, int]:
    counts: dict[str, int] = client.get("/v1/info").json()["counts"]
    return counts


# --- the table ---------------------------------------------------------------------------------------


def test_error_status_table_is_pinned() -> None:
    assert {cls.__name__: status for cls, status in STATUS_BY_ERROR.items()} == {
        "InvalidInput": 422,
        "NotFound": 404,
        "Conflict": 409,
        "Unauthenticated": 401,
        "PermissionDenied": 403,
        "LimitExceeded": 413,
        "RateLimited": 429,
        "StorageFull": 507,
        "Unavailable": 503,
        "ModelRetired": 503,
        "NotSupported": 501,
    }
    declared = {
        cls
        for _, cls in inspect.getmembers(core_errors, inspect.isclass)
        if issubclass(cls, core_errors.MemhubError) and cls is not core_errors.MemhubError
    }
    assert declared == set(STATUS_BY_ERROR), "every core error class needs a status"
    assert status_for(core_errors.MemhubError) == 500

    class Narrower(core_errors.NotFound):
        pass

    assert status_for(Narrower) == 404
    limited = from_core_error(core_errors.RateLimited("slow down", retry_after=2.2))
    assert (limited.status, limited.code, limited.headers["Retry-After"]) == (429, "rate_limited", "3")
    assert from_core_error(core_errors.Unauthenticated("no")).headers["WWW-Authenticate"] == "Bearer"
    internal = from_core_error(core_errors.MemhubError("database password is hunter2"))
    assert internal.status == 500 and "hunter2" not in internal.message


# --- malformed and invalid requests ------------------------------------------------------------------


def test_malformed_json_is_400(tenant_client: httpx.Client) -> None:
    response = tenant_client.post(
        "/v1/memories", content=b'{"messages": [', headers={"Content-Type": "application/json"}
    )
    assert_envelope(response, 400, "malformed_json")
    assert _counts(tenant_client)["events"] == 0


def test_missing_fields_and_wrong_types_are_422_with_field_details(tenant_client: httpx.Client) -> None:
    missing = assert_envelope(tenant_client.post("/v1/memories", json={"messages": []}), 422, "invalid_input")
    locs = {f["loc"] for f in missing["details"]["fields"]}
    assert {"body.user_id", "body.messages"} <= locs
    assert all(set(f) == {"loc", "message", "type"} for f in missing["details"]["fields"])

    secret = "my-very-private-message-text"
    wrong = tenant_client.post(
        "/v1/memories", json={"messages": [{"role": 5, "content": secret}], "user_id": "u"}
    )
    error = assert_envelope(wrong, 422, "invalid_input")
    assert "body.messages.0.role" in {f["loc"] for f in error["details"]["fields"]}
    assert secret not in wrong.text, "validation errors must not echo input back"

    assert_envelope(tenant_client.post("/v1/memories", json=["not", "an", "object"]), 422, "invalid_input")
    assert_envelope(tenant_client.post("/v1/memories/search", json={"query": "x", "mode": "fuzzy"}), 422)
    assert_envelope(tenant_client.post("/v1/memories/search", json={"query": "x", "extra": 1}), 422)
    bad_limit = assert_envelope(tenant_client.get("/v1/memories", params={"limit": "ten"}), 422)
    assert bad_limit["details"]["fields"][0]["loc"] == "query.limit"
    assert_envelope(tenant_client.get("/v1/memories", params={"limit": 0}), 422, "invalid_input")
    assert_envelope(tenant_client.post("/v1/memories/search", json={"query": "  "}), 422, "invalid_input")
    assert_envelope(
        tenant_client.post("/v1/memories/search", json={"query": "x", "filters": {"$bogus": 1}}), 422
    )
    assert _counts(tenant_client)["events"] == 0


def test_unknown_ids_are_404(tenant_client: httpx.Client) -> None:
    missing = str(uuid.uuid4())
    for path in (
        f"/v1/memories/{missing}",
        f"/v1/jobs/{missing}",
        f"/v1/spaces/{missing}",
        f"/v1/users/{missing}",
        f"/v1/sessions/{missing}",
        f"/v1/sessions/{missing}/messages",
    ):
        assert_envelope(tenant_client.get(path), 404, "not_found")
    assert_envelope(tenant_client.delete(f"/v1/memories/{missing}"), 404, "not_found")
    assert_envelope(tenant_client.patch(f"/v1/memories/{missing}", json={"metadata": {}}), 404, "not_found")
    assert_envelope(tenant_client.delete(f"/v1/users/{missing}"), 404, "not_found")
    search = {"query": "x", "spaces": ["no-such-space"]}
    assert_envelope(tenant_client.post("/v1/memories/search", json=search), 404, "not_found")


def test_unknown_routes_404_and_wrong_methods_405(server: ServerHandle) -> None:
    with server.client() as client:
        assert_envelope(client.get("/v1/nope"), 404, "not_found")
        assert_envelope(client.get("/nothing/here"), 404, "not_found")
        wrong = client.put("/v1/memories", json={})
        assert_envelope(wrong, 405, "method_not_allowed")
        assert wrong.headers["allow"]


def test_a_literal_path_with_the_wrong_method_is_405_naming_the_method_not_a_404(
    server: ServerHandle,
) -> None:
    """``GET /v1/memories/search`` must not be read as ``GET /v1/memories/{memory_id}`` with id "search"."""
    with server.client() as client:
        error = assert_envelope(client.get("/v1/memories/search"), 405, "method_not_allowed")
        assert client.get("/v1/memories/search").headers["allow"] == "POST"
        assert "use POST" in error["message"] and "GET" in error["message"]
        assert assert_envelope(client.delete("/v1/memories/search"), 405)["details"] == {"allowed": ["POST"]}


def test_wrong_methods_are_405_with_allow_at_every_door_in_its_shape(start_server: StartServer) -> None:
    server = start_server(gomemory_tenant="default")
    with server.client() as client:
        goodmem = client.put("/goodmem/v1/users/me", headers={"x-api-key": server.api_key})
        assert goodmem.status_code == 405 and goodmem.headers["allow"] == "GET"
        assert set(goodmem.json()) == {"code", "message", "details"}
        assert "use GET" in goodmem.json()["message"]
        gumem = client.get("/gumem/api/sessions")
        assert gumem.status_code == 405 and gumem.headers["allow"] == "POST"
        assert "use POST" in gumem.json()["detail"] and gumem.json()["success"] is False
        memsy = client.get("/memsy/v1/search")
        assert memsy.status_code == 405 and memsy.headers["allow"] == "POST"
        assert memsy.json()["detail"]["error"] == "method_not_allowed"
        gomemory = client.get("/gomemory/add_memory")
        assert gomemory.status_code == 405 and gomemory.headers["allow"] == "POST"
        assert gomemory.json()["Status"] == 405 and "use POST" in gomemory.json()["Message"]


def test_a_json_body_without_the_json_content_type_names_the_missing_header(server: ServerHandle) -> None:
    body = json.dumps({"user_id": "u", "messages": [{"role": "user", "content": "hi"}]})
    with server.client() as client:
        for headers in ({"content-type": ""}, {"content-type": "text/plain"}):
            error = assert_envelope(client.post("/v1/memories", content=body, headers=headers), 422)
            assert "Content-Type: application/json" in error["message"], error
        gumem = client.post("/gumem/api/sessions", content=body, headers={"content-type": "text/plain"})
        assert "Content-Type: application/json" in gumem.json()["detail"], gumem.text
        # a JSON body with the header but the wrong shape keeps pydantic's own message
        wrong = assert_envelope(client.post("/v1/memories", json=[1]), 422)
        assert "Content-Type" not in wrong["message"]


# --- authentication ----------------------------------------------------------------------------------


def test_missing_wrong_and_revoked_keys_are_401(server: ServerHandle) -> None:
    with server.client(api_key="") as anonymous:
        error = assert_envelope(anonymous.get("/v1/info"), 401, "unauthenticated")
        assert anonymous.get("/v1/info").headers["www-authenticate"] == "Bearer"
        assert error["message"]
    with server.client(api_key="mh_not-a-real-key") as wrong:
        assert_envelope(wrong.get("/v1/memories"), 401, "unauthenticated")
    basic = httpx.get(f"{server.base_url}/v1/info", headers={"Authorization": f"Basic {server.api_key}"})
    assert_envelope(basic, 401, "unauthenticated")

    tenant = _uid("revokee")
    key = server.create_key(tenant)
    with server.client(key) as client:
        assert client.get("/v1/info").status_code == 200
        server.memhub("keys", "revoke", key[:10])  # another process: refused within the cache's bound
        assert_envelope(wait_until_refused(client), 401, "unauthenticated")
        body = {"messages": [{"role": "user", "content": "x"}], "user_id": "u"}
        assert_envelope(client.post("/v1/memories", json=body), 401, "unauthenticated")
    with server.client(server.create_key(tenant)) as same_tenant:
        assert _counts(same_tenant)["events"] == 0


# --- size limits -------------------------------------------------------------------------------------


def test_oversized_declared_body_is_413_before_reading_it(
    server: ServerHandle, tenant_client: httpx.Client
) -> None:
    limit = 10_000_000  # the default max_body_bytes
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/memories HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {server.api_key}\r\nContent-Length: {limit + 1}\r\n\r\n".encode()
            + b'{"messages": ['
        )
        received = b""
        while chunk := sock.recv(65536):  # the server closes the connection after the 413
            received += chunk
        head = received.decode("latin-1")
    assert head.startswith("HTTP/1.1 413"), head
    assert '"limit_exceeded"' in head

    big = b'{"user_id": "u", "messages": [{"role": "user", "content": "' + b"a" * (limit + 10) + b'"}]}'
    assert_envelope(
        tenant_client.post("/v1/memories", content=big, headers={"Content-Type": "application/json"}), 413
    )
    assert _counts(tenant_client)["events"] == 0


def test_oversized_streamed_body_is_413(tenant_client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"user_id": "u", "messages": [{"role": "user", "content": "'
        for _ in range(11):
            yield b"a" * 1_000_000
        yield b'"}]}'

    response = tenant_client.post(
        "/v1/memories", content=chunks(), headers={"Content-Type": "application/json"}
    )
    error = assert_envelope(response, 413, "limit_exceeded")
    assert error["details"] == {"max_body_bytes": 10_000_000}
    assert _counts(tenant_client)["events"] == 0


def test_per_field_limits_are_413_and_store_nothing(tenant_client: httpx.Client) -> None:
    too_many = [{"role": "user", "content": f"message {i}"} for i in range(501)]
    response = tenant_client.post("/v1/memories", json={"messages": too_many, "user_id": "u"})
    assert_envelope(response, 413, "limit_exceeded")
    too_long = [{"role": "user", "content": "x" * 100_001}]
    assert_envelope(tenant_client.post("/v1/memories", json={"messages": too_long, "user_id": "u"}), 413)
    fat_metadata = {"blob": "y" * 20_000}
    body = {"messages": [{"role": "user", "content": "hi"}], "user_id": "u", "metadata": fat_metadata}
    assert_envelope(tenant_client.post("/v1/memories", json=body), 413, "limit_exceeded")
    assert_envelope(tenant_client.post("/v1/memories/search", json={"query": "q", "limit": 10_000}), 422)
    counts = _counts(tenant_client)
    assert counts["events"] == 0 and counts["memories"] == 0 and counts["users"] == 0


# --- tenants -----------------------------------------------------------------------------------------


def test_tenants_cannot_see_or_touch_each_others_data(server: ServerHandle) -> None:
    with (
        server.client(server.create_key(_uid("alpha"))) as a,
        server.client(server.create_key(_uid("beta"))) as b,
    ):
        user, session_id, space_name = "shared-user-name", _uid("sess"), _uid("space")
        space = a.post("/v1/spaces", json={"name": space_name}).json()
        assert a.post("/v1/sessions", json={"user_id": user, "session_id": session_id}).status_code == 201
        job = add_messages(a, user, "The vault code is 4711.", session_id=session_id)
        memory_id = job["memory_ids"][0]
        doc = a.post(
            "/v1/documents", json={"content": "Alpha's secret roadmap: launch in May.", "user_id": user}
        )
        wait_for_job(a, doc.json()["job_id"])
        before = _counts(a)

        for path in (
            f"/v1/memories/{memory_id}",
            f"/v1/jobs/{job['id']}",
            f"/v1/spaces/{space['id']}",
            f"/v1/users/{user}",
            f"/v1/sessions/{session_id}",
            f"/v1/sessions/{session_id}/messages",
        ):
            assert_envelope(b.get(path), 404, "not_found")
        assert_envelope(b.patch(f"/v1/memories/{memory_id}", json={"metadata": {"x": 1}}), 404)
        assert_envelope(b.delete(f"/v1/memories/{memory_id}"), 404, "not_found")
        assert_envelope(b.delete(f"/v1/spaces/{space['id']}"), 404, "not_found")
        assert_envelope(b.delete(f"/v1/users/{user}"), 404, "not_found")
        assert_envelope(b.post("/v1/memories/search", json={"query": "vault", "spaces": [space_name]}), 404)

        assert b.get("/v1/memories", params={"user_id": user}).json()["items"] == []
        assert b.get("/v1/memories").json()["items"] == []
        assert b.get("/v1/users").json()["items"] == []
        assert b.get("/v1/sessions").json()["items"] == []
        assert space_name not in {s["name"] for s in b.get("/v1/spaces").json()["items"]}
        for query in ("vault code", "secret roadmap"):
            hits = b.post("/v1/memories/search", json={"query": query, "user_id": user}).json()["results"]
            assert hits == []
            assert b.post("/v1/memories/search", json={"query": query}).json()["results"] == []

        # Caller-chosen names and ids are per tenant: B may use A's, and gets its own objects.
        assert b.post("/v1/sessions", json={"user_id": user, "session_id": session_id}).status_code == 201
        assert b.get(f"/v1/sessions/{session_id}/messages").json()["items"] == []
        assert b.post("/v1/spaces", json={"name": space_name}).json()["id"] != space["id"]

        assert _counts(a) == before
        assert a.get(f"/v1/memories/{memory_id}").status_code == 200
        assert a.post("/v1/memories/search", json={"query": "vault code", "user_id": user}).json()["results"]


# --- configured servers ------------------------------------------------------------------------------


def test_rate_limit_cors_and_quiet_json_logs(start_server: StartServer) -> None:
    server = start_server(rate_limit_per_minute=3, cors_origins=["http://app.example"], log_json=True)
    key = server.create_key("limited")
    marker = f"private-content-{uuid.uuid4().hex}"
    with server.client(key) as client:
        body = {"messages": [{"role": "user", "content": marker}], "user_id": "u"}
        assert client.post("/v1/memories", json=body).status_code == 202
        assert client.get("/v1/info").status_code == 200
        assert client.get("/v1/info").status_code == 200
        limited = client.get("/v1/info")
        error = assert_envelope(limited, 429, "rate_limited")
        assert int(limited.headers["Retry-After"]) >= 1
        assert error["details"] == {"limit_per_minute": 3}
    with server.client() as admin:  # another key has its own bucket
        assert admin.get("/v1/info").status_code == 200
    assert httpx.get(f"{server.base_url}/health").status_code == 200

    preflight = httpx.options(
        f"{server.base_url}/v1/memories",
        headers={"Origin": "http://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers.get("access-control-allow-origin") == "http://app.example"
    assert server.stop() == 0

    log = server.log()
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    requests = [(e["method"], e["path"], e["status"]) for e in lines if e["logger"] == "memhub.access"]
    assert ("POST", "/v1/memories", 202) in requests and ("GET", "/v1/info", 429) in requests
    assert all(isinstance(e["duration_ms"], float) for e in lines if e["logger"] == "memhub.access")
    for secret in (key, server.api_key, marker):
        assert secret not in log, "keys and message contents never reach the log"


def test_cors_is_off_by_default(server: ServerHandle) -> None:
    preflight = httpx.options(
        f"{server.base_url}/v1/memories",
        headers={"Origin": "http://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
