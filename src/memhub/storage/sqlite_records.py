"""Records: small JSON objects a tenant keeps by id in named collections (adapter configuration)."""

from __future__ import annotations

import sqlite3

from memhub.core.errors import Conflict, NotFound
from memhub.core.models import Record

from .codec import encode_json, encode_time
from .sqlite_rows import RECORD_COLUMNS, placeholders, record_from_row, record_params
from .sqlite_tenancy import get_tenant

_KEY = "tenant_id = ? AND collection = ? AND id = ?"


def add_record(conn: sqlite3.Connection, record: Record) -> Record:
    get_tenant(conn, record.tenant_id)
    try:
        conn.execute(
            f"INSERT INTO records ({RECORD_COLUMNS}) VALUES ({placeholders(6)})", record_params(record)
        )
    except sqlite3.IntegrityError as exc:
        raise Conflict(f"{record.collection} {record.id} already exists") from exc
    return get_record(conn, record.tenant_id, record.collection, record.id)


def get_record(conn: sqlite3.Connection, tenant_id: str, collection: str, record_id: str) -> Record:
    row = conn.execute(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE {_KEY}", (tenant_id, collection, record_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"{collection} {record_id} not found")
    return record_from_row(row)


def list_records(conn: sqlite3.Connection, tenant_id: str, collection: str) -> list[Record]:
    rows = conn.execute(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE tenant_id = ? AND collection = ?"
        " ORDER BY created_at, id",
        (tenant_id, collection),
    )
    return [record_from_row(row) for row in rows]


def update_record(conn: sqlite3.Connection, record: Record) -> Record:
    updated = conn.execute(
        f"UPDATE records SET data = ?, updated_at = ? WHERE {_KEY}",
        (
            encode_json(record.data),
            encode_time(record.updated_at),
            record.tenant_id,
            record.collection,
            record.id,
        ),
    )
    if updated.rowcount == 0:
        raise NotFound(f"{record.collection} {record.id} not found")
    return get_record(conn, record.tenant_id, record.collection, record.id)


def delete_record(conn: sqlite3.Connection, tenant_id: str, collection: str, record_id: str) -> None:
    deleted = conn.execute(f"DELETE FROM records WHERE {_KEY}", (tenant_id, collection, record_id))
    if deleted.rowcount == 0:
        raise NotFound(f"{collection} {record_id} not found")
