"""Records: small JSON objects a tenant keeps by id in named collections (adapter configuration)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from memhub.core.errors import Conflict, NotFound
from memhub.core.models import Page, Record

from ..sql.codec import encode_json, encode_time
from ..sql.columns import RECORD_COLUMNS
from ..sql.cursors import decode_cursor, encode_cursor
from ..sql.record_pages import checked_fields, records_listing
from ..sql.tenancy import get_tenant
from .dialect import SQLITE
from .rows import (
    placeholders,
    record_from_row,
    record_params,
)

_KEY = "tenant_id = ? AND collection = ? AND id = ?"


def add_record(conn: sqlite3.Connection, record: Record) -> Record:
    get_tenant(SQLITE, conn, record.tenant_id)
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


def page_records(
    conn: sqlite3.Connection,
    tenant_id: str,
    collection: str,
    where: Mapping[str, str] | None,
    cursor: str | None,
    limit: int,
    newest_first: bool,
) -> Page:
    """Keyset pages over ``records_list``; ``where`` keys are matched with ``json_extract`` as the
    index walks, so a page reads about as many rows as it returns when most rows match."""
    listing = records_listing(collection, newest_first)
    after = decode_cursor(listing, cursor, 2)
    sql = f"SELECT {RECORD_COLUMNS} FROM records WHERE tenant_id = ? AND collection = ?"
    params: list[object] = [tenant_id, collection]
    for field, value in checked_fields(where):
        # json_extract of a non-string (number, true) is not TEXT, so it never equals the string
        sql += " AND json_extract(data, ?) = ?"
        params.extend([f'$."{field}"', value])
    if after is not None:
        sql += " AND (created_at, id) " + ("< (?, ?)" if newest_first else "> (?, ?)")
        params.extend(after)
    direction = "DESC" if newest_first else "ASC"
    sql += f" ORDER BY created_at {direction}, id {direction} LIMIT ?"
    found = [record_from_row(row) for row in conn.execute(sql, [*params, limit + 1])]
    if len(found) <= limit:
        return Page(items=found)
    last = found[limit - 1]
    key = (encode_time(last.created_at), last.id)
    return Page(items=found[:limit], next_cursor=encode_cursor(listing, key))


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
