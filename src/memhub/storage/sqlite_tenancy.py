"""Tenants, their API keys and spaces, and the per-tenant counts.

A tenant comes with a space called ``default`` (``ensure_tenant`` creates both, idempotently, so two
processes bootstrapping the same tenant end up with one of each). Space names are unique per tenant;
deleting a space cascades through the schema's foreign keys to its sessions, events, jobs and memories.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime

from memhub.core.errors import Conflict, NotFound
from memhub.core.models import ApiKey, Counts, Space, Tenant

from .codec import encode_json, encode_time
from .columns import API_KEY_COLUMNS, SPACE_COLUMNS, TENANT_COLUMNS
from .sqlite_rows import (
    api_key_from_row,
    api_key_params,
    space_from_row,
    tenant_from_row,
)
from .sqlite_vectors import prune_tombstones

DEFAULT_SPACE = "default"


# --- tenants ------------------------------------------------------------------------------------------
def ensure_tenant(conn: sqlite3.Connection, name: str, now: datetime) -> Tenant:
    conn.execute(
        "INSERT OR IGNORE INTO tenants (id, name, created_at) VALUES (?, ?, ?)",
        (str(uuid.uuid4()), name, encode_time(now)),
    )
    tenant = find_tenant(conn, name)
    assert tenant is not None  # inserted or already there, in this transaction
    conn.execute(
        "INSERT OR IGNORE INTO spaces (id, tenant_id, name, metadata, created_at) VALUES (?, ?, ?, '{}', ?)",
        (str(uuid.uuid4()), tenant.id, DEFAULT_SPACE, encode_time(now)),
    )
    return tenant


def get_tenant(conn: sqlite3.Connection, tenant_id: str) -> Tenant:
    row = conn.execute(f"SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?", (tenant_id,)).fetchone()
    if row is None:
        raise NotFound(f"tenant {tenant_id} not found")
    return tenant_from_row(row)


def find_tenant(conn: sqlite3.Connection, name: str) -> Tenant | None:
    row = conn.execute(f"SELECT {TENANT_COLUMNS} FROM tenants WHERE name = ?", (name,)).fetchone()
    return None if row is None else tenant_from_row(row)


def list_tenants(conn: sqlite3.Connection) -> list[Tenant]:
    rows = conn.execute(f"SELECT {TENANT_COLUMNS} FROM tenants ORDER BY created_at, id")
    return [tenant_from_row(row) for row in rows]


# --- API keys -----------------------------------------------------------------------------------------
def add_api_key(conn: sqlite3.Connection, key: ApiKey) -> None:
    get_tenant(conn, key.tenant_id)
    try:
        conn.execute(
            f"INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", api_key_params(key)
        )
    except sqlite3.IntegrityError as exc:
        raise Conflict("an API key with this id or secret already exists") from exc


def find_api_key(conn: sqlite3.Connection, key_hash: str) -> ApiKey | None:
    row = conn.execute(f"SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?", (key_hash,)).fetchone()
    return None if row is None else api_key_from_row(row)


def list_api_keys(conn: sqlite3.Connection, tenant_id: str | None) -> list[ApiKey]:
    where, params = ("WHERE tenant_id = ?", (tenant_id,)) if tenant_id is not None else ("", ())
    rows = conn.execute(f"SELECT {API_KEY_COLUMNS} FROM api_keys {where} ORDER BY created_at, id", params)
    return [api_key_from_row(row) for row in rows]


def revoke_api_key(conn: sqlite3.Connection, key_id: str, now: datetime) -> ApiKey:
    """Set ``revoked_at`` (kept if it was already revoked: the first revocation is the one that counts)."""
    conn.execute(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", (encode_time(now), key_id)
    )
    row = conn.execute(f"SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    return api_key_from_row(row)


# --- spaces -------------------------------------------------------------------------------------------
def create_space(conn: sqlite3.Connection, space: Space) -> Space:
    get_tenant(conn, space.tenant_id)
    if find_space(conn, space.tenant_id, space.name) is not None:
        raise Conflict(f"a space named {space.name!r} already exists")
    try:
        conn.execute(
            f"INSERT INTO spaces ({SPACE_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            (
                space.id,
                space.tenant_id,
                space.name,
                encode_json(space.metadata),
                encode_time(space.created_at),
            ),
        )
    except sqlite3.IntegrityError as exc:
        raise Conflict(f"space id {space.id} is already in use") from exc
    return get_space(conn, space.tenant_id, space.id)


def get_space(conn: sqlite3.Connection, tenant_id: str, space_id: str) -> Space:
    row = conn.execute(
        f"SELECT {SPACE_COLUMNS} FROM spaces WHERE id = ? AND tenant_id = ?", (space_id, tenant_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"space {space_id} not found")
    return space_from_row(row)


def find_space(conn: sqlite3.Connection, tenant_id: str, name: str) -> Space | None:
    row = conn.execute(
        f"SELECT {SPACE_COLUMNS} FROM spaces WHERE tenant_id = ? AND name = ?", (tenant_id, name)
    ).fetchone()
    return None if row is None else space_from_row(row)


def list_spaces(conn: sqlite3.Connection, tenant_id: str) -> list[Space]:
    rows = conn.execute(
        f"SELECT {SPACE_COLUMNS} FROM spaces WHERE tenant_id = ? ORDER BY created_at, id", (tenant_id,)
    )
    return [space_from_row(row) for row in rows]


def update_space(conn: sqlite3.Connection, space: Space) -> Space:
    other = find_space(conn, space.tenant_id, space.name)
    if other is not None and other.id != space.id:
        raise Conflict(f"a space named {space.name!r} already exists")
    updated = conn.execute(
        "UPDATE spaces SET name = ?, metadata = ? WHERE id = ? AND tenant_id = ?",
        (space.name, encode_json(space.metadata), space.id, space.tenant_id),
    )
    if updated.rowcount == 0:
        raise NotFound(f"space {space.id} not found")
    return get_space(conn, space.tenant_id, space.id)


def delete_space(conn: sqlite3.Connection, tenant_id: str, space_id: str) -> None:
    deleted = conn.execute("DELETE FROM spaces WHERE id = ? AND tenant_id = ?", (space_id, tenant_id))
    if deleted.rowcount == 0:
        raise NotFound(f"space {space_id} not found")
    prune_tombstones(conn)


# --- counts -------------------------------------------------------------------------------------------
_COUNTS = {
    "spaces": "SELECT count(*) FROM spaces",
    "users": "SELECT count(*) FROM users",
    "sessions": "SELECT count(*) FROM sessions",
    "events": "SELECT count(*) FROM events",
    "memories": "SELECT count(*) FROM memories WHERE superseded_by IS NULL",
    "jobs_pending": "SELECT count(*) FROM jobs WHERE status IN ('pending', 'processing')",
    "jobs_failed": "SELECT count(*) FROM jobs WHERE status = 'failed'",
}


def counts(conn: sqlite3.Connection, tenant_id: str | None) -> Counts:
    """What a tenant (or, with None, the whole file) holds. Memories: live ones, as listings show them;
    pending jobs: not finished yet (pending or processing)."""
    values: dict[str, int] = {}
    for name, sql in _COUNTS.items():
        if tenant_id is None:
            values[name] = conn.execute(sql).fetchone()[0]
        else:
            joiner = " AND " if " WHERE " in sql else " WHERE "
            values[name] = conn.execute(sql + joiner + "tenant_id = ?", (tenant_id,)).fetchone()[0]
    return Counts(**values)
