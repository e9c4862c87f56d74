"""Tenants, their API keys and spaces, and the counts — PostgreSQL twin of ``sqlite_tenancy.py``.

Inserts that may meet an existing row use ``ON CONFLICT DO NOTHING`` and look at the row count, rather
than catching a unique violation: in PostgreSQL an error aborts the whole transaction, and these
functions run inside the caller's.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from psycopg.types.json import Jsonb

from memhub.core.errors import Conflict, NotFound
from memhub.core.models import ApiKey, Counts, Space, Tenant

from .columns import API_KEY_COLUMNS, SPACE_COLUMNS, TENANT_COLUMNS
from .postgres_db import Conn
from .postgres_rows import (
    api_key_params,
    placeholders,
    utc,
)

DEFAULT_SPACE = "default"


# --- tenants ------------------------------------------------------------------------------------------
def ensure_tenant(conn: Conn, name: str, now: datetime) -> Tenant:
    conn.execute(
        "INSERT INTO tenants (id, name, created_at) VALUES (%s, %s, %s) ON CONFLICT (name) DO NOTHING",
        (str(uuid.uuid4()), name, utc(now)),
    )
    tenant = find_tenant(conn, name)
    assert tenant is not None  # inserted or already there
    conn.execute(
        "INSERT INTO spaces (id, tenant_id, name, metadata, created_at) VALUES (%s, %s, %s, '{}', %s)"
        " ON CONFLICT (tenant_id, name) DO NOTHING",
        (str(uuid.uuid4()), tenant.id, DEFAULT_SPACE, utc(now)),
    )
    return tenant


def get_tenant(conn: Conn, tenant_id: str) -> Tenant:
    row = conn.execute(f"SELECT {TENANT_COLUMNS} FROM tenants WHERE id = %s", (tenant_id,)).fetchone()
    if row is None:
        raise NotFound(f"tenant {tenant_id} not found")
    return Tenant.model_validate(row)


def find_tenant(conn: Conn, name: str) -> Tenant | None:
    row = conn.execute(f"SELECT {TENANT_COLUMNS} FROM tenants WHERE name = %s", (name,)).fetchone()
    return None if row is None else Tenant.model_validate(row)


def list_tenants(conn: Conn) -> list[Tenant]:
    rows = conn.execute(f"SELECT {TENANT_COLUMNS} FROM tenants ORDER BY created_at, id")
    return [Tenant.model_validate(row) for row in rows]


# --- API keys -----------------------------------------------------------------------------------------
def add_api_key(conn: Conn, key: ApiKey) -> None:
    get_tenant(conn, key.tenant_id)
    added = conn.execute(
        f"INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES ({placeholders(8)}) ON CONFLICT DO NOTHING",
        api_key_params(key),
    )
    if added.rowcount == 0:
        raise Conflict("an API key with this id or secret already exists")


def find_api_key(conn: Conn, key_hash: str) -> ApiKey | None:
    row = conn.execute(f"SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = %s", (key_hash,)).fetchone()
    return None if row is None else ApiKey.model_validate(row)


def list_api_keys(conn: Conn, tenant_id: str | None) -> list[ApiKey]:
    where, params = ("WHERE tenant_id = %s", (tenant_id,)) if tenant_id is not None else ("", ())
    rows = conn.execute(f"SELECT {API_KEY_COLUMNS} FROM api_keys {where} ORDER BY created_at, id", params)
    return [ApiKey.model_validate(row) for row in rows]


def revoke_api_key(conn: Conn, key_id: str, now: datetime) -> ApiKey:
    """Set ``revoked_at`` (kept if it was already revoked: the first revocation is the one that counts)."""
    row = conn.execute(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, %s) WHERE id = %s"
        f" RETURNING {API_KEY_COLUMNS}",
        (utc(now), key_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    return ApiKey.model_validate(row)


# --- spaces -------------------------------------------------------------------------------------------
def create_space(conn: Conn, space: Space) -> Space:
    get_tenant(conn, space.tenant_id)
    if find_space(conn, space.tenant_id, space.name) is not None:
        raise Conflict(f"a space named {space.name!r} already exists")
    added = conn.execute(
        f"INSERT INTO spaces ({SPACE_COLUMNS}) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (space.id, space.tenant_id, space.name, Jsonb(space.metadata), utc(space.created_at)),
    )
    if added.rowcount == 0:
        raise Conflict(f"space id {space.id} (or the name {space.name!r}) is already in use")
    return get_space(conn, space.tenant_id, space.id)


def get_space(conn: Conn, tenant_id: str, space_id: str) -> Space:
    row = conn.execute(
        f"SELECT {SPACE_COLUMNS} FROM spaces WHERE id = %s AND tenant_id = %s", (space_id, tenant_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"space {space_id} not found")
    return Space.model_validate(row)


def find_space(conn: Conn, tenant_id: str, name: str) -> Space | None:
    row = conn.execute(
        f"SELECT {SPACE_COLUMNS} FROM spaces WHERE tenant_id = %s AND name = %s", (tenant_id, name)
    ).fetchone()
    return None if row is None else Space.model_validate(row)


def list_spaces(conn: Conn, tenant_id: str) -> list[Space]:
    rows = conn.execute(
        f"SELECT {SPACE_COLUMNS} FROM spaces WHERE tenant_id = %s ORDER BY created_at, id", (tenant_id,)
    )
    return [Space.model_validate(row) for row in rows]


def update_space(conn: Conn, space: Space) -> Space:
    other = find_space(conn, space.tenant_id, space.name)
    if other is not None and other.id != space.id:
        raise Conflict(f"a space named {space.name!r} already exists")
    updated = conn.execute(
        "UPDATE spaces SET name = %s, metadata = %s WHERE id = %s AND tenant_id = %s",
        (space.name, Jsonb(space.metadata), space.id, space.tenant_id),
    )
    if updated.rowcount == 0:
        raise NotFound(f"space {space.id} not found")
    return get_space(conn, space.tenant_id, space.id)


def delete_space(conn: Conn, tenant_id: str, space_id: str) -> None:
    deleted = conn.execute("DELETE FROM spaces WHERE id = %s AND tenant_id = %s", (space_id, tenant_id))
    if deleted.rowcount == 0:
        raise NotFound(f"space {space_id} not found")


# --- counts -------------------------------------------------------------------------------------------
_COUNTS = """SELECT
    (SELECT count(*) FROM spaces WHERE {t}) AS spaces,
    (SELECT count(*) FROM users WHERE {t}) AS users,
    (SELECT count(*) FROM sessions WHERE {t}) AS sessions,
    (SELECT count(*) FROM events WHERE {t}) AS events,
    (SELECT count(*) FROM memories WHERE superseded_by IS NULL AND {t}) AS memories,
    (SELECT count(*) FROM jobs WHERE status IN ('pending', 'processing') AND {t}) AS jobs_pending,
    (SELECT count(*) FROM jobs WHERE status = 'failed' AND {t}) AS jobs_failed"""


def counts(conn: Conn, tenant_id: str | None) -> Counts:
    """What a tenant (or, with None, the whole database) holds; same meaning as the SQLite store's."""
    if tenant_id is None:
        row = conn.execute(_COUNTS.format(t="true")).fetchone()
    else:
        row = conn.execute(_COUNTS.format(t="tenant_id = %(t)s"), {"t": tenant_id}).fetchone()
    assert row is not None
    return Counts.model_validate(row)
