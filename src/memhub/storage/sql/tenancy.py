"""Tenants, their API keys and spaces, and the per-tenant counts: one SQL text for both stores.

A tenant comes with a space called ``default`` (``ensure_tenant`` creates both, idempotently, so two
processes bootstrapping the same tenant end up with one of each). Space names are unique per tenant;
deleting a space cascades through the schema's foreign keys to its sessions, events, jobs and memories.
Inserts that may meet an existing row use ``ON CONFLICT DO NOTHING`` rather than catching a unique
violation: in PostgreSQL an error aborts the whole transaction, and these functions run inside the
caller's.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from memhub.core.errors import Conflict, NotFound
from memhub.core.models import ApiKey, Counts, Space, Tenant

from .columns import API_KEY_COLUMNS, SPACE_COLUMNS, TENANT_COLUMNS
from .dialect import Connection, Dialect
from .rows import api_key_params, space_params

DEFAULT_SPACE = "default"


# --- tenants ------------------------------------------------------------------------------------------
def ensure_tenant(d: Dialect, conn: Connection, name: str, now: datetime) -> Tenant:
    conn.execute(
        d.sql("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"),
        (str(uuid.uuid4()), name, d.time(now)),
    )
    tenant = find_tenant(d, conn, name)
    assert tenant is not None  # inserted or already there, in this transaction
    conn.execute(
        d.sql(
            "INSERT INTO spaces (id, tenant_id, name, metadata, created_at) VALUES (?, ?, ?, '{}', ?)"
            " ON CONFLICT DO NOTHING"
        ),
        (str(uuid.uuid4()), tenant.id, DEFAULT_SPACE, d.time(now)),
    )
    return tenant


def get_tenant(d: Dialect, conn: Connection, tenant_id: str) -> Tenant:
    statement = f"SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?"
    return d.get(conn, Tenant, statement, (tenant_id,), f"tenant {tenant_id} not found")


def find_tenant(d: Dialect, conn: Connection, name: str) -> Tenant | None:
    return d.find(conn, Tenant, f"SELECT {TENANT_COLUMNS} FROM tenants WHERE name = ?", (name,))


def list_tenants(d: Dialect, conn: Connection) -> list[Tenant]:
    rows = conn.execute(f"SELECT {TENANT_COLUMNS} FROM tenants ORDER BY created_at, id")
    return [d.model(Tenant, row) for row in rows]


# --- API keys -----------------------------------------------------------------------------------------
def add_api_key(d: Dialect, conn: Connection, key: ApiKey) -> None:
    get_tenant(d, conn, key.tenant_id)
    if not d.insert_new(conn, "api_keys", API_KEY_COLUMNS, api_key_params(d, key)):
        raise Conflict("an API key with this id or secret already exists")


def find_api_key(d: Dialect, conn: Connection, key_hash: str) -> ApiKey | None:
    return d.find(conn, ApiKey, f"SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?", (key_hash,))


def list_api_keys(d: Dialect, conn: Connection, tenant_id: str | None) -> list[ApiKey]:
    where, params = ("WHERE tenant_id = ?", (tenant_id,)) if tenant_id is not None else ("", ())
    rows = conn.execute(
        d.sql(f"SELECT {API_KEY_COLUMNS} FROM api_keys {where} ORDER BY created_at, id"), params
    )
    return [d.model(ApiKey, row) for row in rows]


def revoke_api_key(d: Dialect, conn: Connection, key_id: str, now: datetime) -> ApiKey:
    """Revoked from ``now`` on (an already revoked key keeps its first revocation time)."""
    conn.execute(
        d.sql("UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?"), (d.time(now), key_id)
    )
    statement = f"SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = ?"
    return d.get(conn, ApiKey, statement, (key_id,), f"API key {key_id} not found")


# --- spaces -------------------------------------------------------------------------------------------
def create_space(d: Dialect, conn: Connection, space: Space) -> Space:
    get_tenant(d, conn, space.tenant_id)
    if find_space(d, conn, space.tenant_id, space.name) is not None:
        raise Conflict(f"a space named {space.name!r} already exists")
    if not d.insert_new(conn, "spaces", SPACE_COLUMNS, space_params(d, space)):
        raise Conflict(f"space id {space.id} (or the name {space.name!r}) is already in use")
    return get_space(d, conn, space.tenant_id, space.id)


def get_space(d: Dialect, conn: Connection, tenant_id: str, space_id: str) -> Space:
    statement = f"SELECT {SPACE_COLUMNS} FROM spaces WHERE id = ? AND tenant_id = ?"
    return d.get(conn, Space, statement, (space_id, tenant_id), f"space {space_id} not found")


def find_space(d: Dialect, conn: Connection, tenant_id: str, name: str) -> Space | None:
    statement = f"SELECT {SPACE_COLUMNS} FROM spaces WHERE tenant_id = ? AND name = ?"
    return d.find(conn, Space, statement, (tenant_id, name))


def list_spaces(d: Dialect, conn: Connection, tenant_id: str) -> list[Space]:
    rows = conn.execute(
        d.sql(f"SELECT {SPACE_COLUMNS} FROM spaces WHERE tenant_id = ? ORDER BY created_at, id"), (tenant_id,)
    )
    return [d.model(Space, row) for row in rows]


def update_space(d: Dialect, conn: Connection, space: Space) -> Space:
    other = find_space(d, conn, space.tenant_id, space.name)
    if other is not None and other.id != space.id:
        raise Conflict(f"a space named {space.name!r} already exists")
    updated = conn.execute(
        d.sql("UPDATE spaces SET name = ?, metadata = ? WHERE id = ? AND tenant_id = ?"),
        (space.name, d.json(space.metadata), space.id, space.tenant_id),
    )
    if updated.rowcount == 0:
        raise NotFound(f"space {space.id} not found")
    return get_space(d, conn, space.tenant_id, space.id)


def delete_space(d: Dialect, conn: Connection, tenant_id: str, space_id: str) -> None:
    deleted = conn.execute(d.sql("DELETE FROM spaces WHERE id = ? AND tenant_id = ?"), (space_id, tenant_id))
    if deleted.rowcount == 0:
        raise NotFound(f"space {space_id} not found")
    d.after_delete(conn)


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


def _counts_statement(by_tenant: bool) -> str:
    """One statement, a scalar subquery per count (each served by the table's tenant index)."""
    parts = []
    for name, statement in _COUNTS.items():
        scoped = statement + (" AND " if " WHERE " in statement else " WHERE ") + "tenant_id = ?"
        parts.append(f"({scoped if by_tenant else statement}) AS {name}")
    return "SELECT " + ", ".join(parts)


def counts(d: Dialect, conn: Connection, tenant_id: str | None) -> Counts:
    """What a tenant (or, with None, the whole store) holds. Memories: live ones, as listings show them;
    pending jobs: not finished yet (pending or processing)."""
    if tenant_id is None:
        row = conn.execute(_counts_statement(False)).fetchone()
    else:
        row = conn.execute(d.sql(_counts_statement(True)), (tenant_id,) * len(_COUNTS)).fetchone()
    return Counts(**{name: row[name] for name in _COUNTS})
