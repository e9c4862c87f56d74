"""Key roles on a real server: a tenant's first key is its admin, later keys are members by default.

Member keys read and write the tenant's memories at every door, but only admin keys manage keys
(GoodMem's API-key endpoints) and read ``/metrics`` (whose figures span every tenant); otherwise any key
could mint keys and revoke every other one, the admin's included. ``memhub keys create --role`` picks a
role and ``memhub keys list`` shows it. The console keeps an opaque session id in its cookie, never the
key, and signing out ends that session on the server.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from memhub.core.service import hash_api_key
from memhub.storage.sqlite import schema as sqlite_schema
from support.server import ServerHandle, StartServer, launch_server


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    handle = launch_server(tmp_path_factory.mktemp("key-roles"), metrics_access="key")
    yield handle
    handle.stop()


def goodmem(handle: ServerHandle, key: str) -> httpx.Client:
    return httpx.Client(base_url=f"{handle.base_url}/goodmem", headers={"x-api-key": key}, timeout=30)


def key_id(handle: ServerHandle, admin: str, secret: str) -> str:
    with goodmem(handle, admin) as client:
        keys = client.get("/v1/apikeys", params={"max_results": 20}).json()["keys"]
    (found,) = [k["apiKeyId"] for k in keys if k["keyPrefix"] == secret[:10]]
    return str(found)


def test_a_member_key_cannot_manage_keys(keyed: ServerHandle) -> None:
    admin = keyed.create_key("roles-a")  # the tenant's first key
    member = keyed.create_key("roles-a")
    admin_id = key_id(keyed, admin, admin)
    with goodmem(keyed, member) as client:
        assert client.post("/v1/apikeys", json={}).status_code == 403
        assert client.get("/v1/apikeys").status_code == 403
        assert client.get(f"/v1/apikeys/{admin_id}").status_code == 403
        assert client.put(f"/v1/apikeys/{admin_id}", json={"status": "INACTIVE"}).status_code == 403
        refused = client.delete(f"/v1/apikeys/{admin_id}")
        assert refused.status_code == 403 and "admin key" in refused.text
        assert client.get("/v1/spaces").status_code == 200  # the tenant's data: a member's to use
    with goodmem(keyed, admin) as client:
        assert client.get("/v1/spaces").status_code == 200  # the admin key was not revoked
        minted = client.post("/v1/apikeys", json={})
        assert minted.status_code == 200
    with goodmem(keyed, minted.json()["rawApiKey"]) as client:  # a key minted by an admin is a member
        assert client.get("/v1/apikeys").status_code == 403


def test_member_keys_cannot_revoke_the_servers_admin_key(keyed: ServerHandle) -> None:
    member = keyed.create_key("default")  # tenant default already has the first-start admin key
    with goodmem(keyed, member) as client:
        assert client.delete(f"/v1/apikeys/{key_id(keyed, keyed.api_key, keyed.api_key)}").status_code == 403
    with keyed.client() as client:
        assert client.get("/v1/users").status_code == 200


def test_only_the_operators_admin_keys_read_server_wide_metrics(keyed: ServerHandle) -> None:
    admin = keyed.create_key("roles-metrics")  # a customer tenant's admin
    member = keyed.create_key("roles-metrics")
    with keyed.client(admin) as client:
        assert client.get("/metrics").status_code == 403
    with keyed.client(keyed.create_key("default")) as client:  # a member of the operator's tenant
        assert client.get("/metrics").status_code == 403
    with keyed.client(member) as client:
        assert client.get("/metrics").status_code == 403
        added = client.post(
            "/v1/memories", json={"messages": [{"role": "user", "content": "hi"}], "user_id": "u"}
        )
        assert added.status_code == 202, added.text  # the tenant's data: a member's to use
    with keyed.client() as client:  # the first-start key: the operator's admin
        assert client.get("/metrics").status_code == 200


def test_keys_create_takes_a_role_and_keys_list_shows_it(keyed: ServerHandle) -> None:
    keyed.memhub("keys", "create", "--tenant", "roles-cli")
    keyed.memhub("keys", "create", "--tenant", "roles-cli", "--name", "second")
    keyed.memhub("keys", "create", "--tenant", "roles-cli", "--name", "ops", "--role", "admin")
    listed = keyed.memhub("keys", "list", "--tenant", "roles-cli", "--json").stdout.splitlines()
    roles = {row["name"]: row["role"] for row in map(json.loads, listed)}
    assert roles == {"key": "admin", "second": "member", "ops": "admin"}
    table = keyed.memhub("keys", "list", "--tenant", "roles-cli").stdout
    assert "ROLE" in table and re.search(r"second\s+member", table)
    refused = keyed.memhub("keys", "create", "--tenant", "roles-cli", "--role", "root", check=False)
    assert refused.returncode != 0


def test_the_console_cookie_is_a_session_id_that_signing_out_ends(start_server: StartServer) -> None:
    handle = start_server()
    with httpx.Client(base_url=handle.base_url, timeout=30) as browser:
        signed_in = browser.post("/console/login", data={"api_key": handle.api_key})
        assert signed_in.status_code == 303
        cookie = browser.cookies["memhub_console"]
        assert handle.api_key not in cookie and hash_api_key(handle.api_key) not in cookie
        page = browser.get("/console")
        assert page.status_code == 200 and handle.api_key not in page.text
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        with httpx.Client(base_url=handle.base_url, timeout=30, cookies={"memhub_console": cookie}) as copy:
            assert copy.get("/console").status_code == 200  # the session id alone signs in, until...
        assert browser.post("/console/logout", data={"csrf": csrf}).status_code == 303
    with httpx.Client(base_url=handle.base_url, timeout=30, cookies={"memhub_console": cookie}) as stolen:
        assert stolen.get("/console").status_code == 303  # the old session is over, not just forgotten
    with httpx.Client(
        base_url=handle.base_url, timeout=30, cookies={"memhub_console": handle.api_key}
    ) as raw:
        assert raw.get("/console").status_code == 303  # a raw key is not a session


def test_existing_keys_get_roles_by_the_first_key_rule(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    # A store as the version before roles left it: every migration but the roles one.
    before = tuple(m for m in sqlite_schema.MIGRATIONS if m.name != "0011_key_roles")
    assert len(before) == len(sqlite_schema.MIGRATIONS) - 1
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sqlite_schema, "MIGRATIONS", before)
        sqlite_schema.migrate(db)
    db.execute("INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'one', '2026-01-01T00:00:00Z')")
    rows = [
        ("k0", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),  # revoked: not the admin
        ("k1", "2026-01-03T00:00:00Z", None),
        ("k2", "2026-01-04T00:00:00Z", None),
    ]
    for key, created, revoked in rows:
        db.execute(
            "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, created_at, revoked_at)"
            " VALUES (?, 't1', 'k', ?, ?, ?, ?)",
            (key, key, "h" + key, created, revoked),
        )
    assert sqlite_schema.migrate(db) == ["0011_key_roles"]
    roles = dict(db.execute("SELECT id, role FROM api_keys ORDER BY id").fetchall())
    assert roles == {"k0": "member", "k1": "admin", "k2": "member"}
