"""Records (small per-tenant JSON objects kept by id in named collections) on PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping

from psycopg.types.json import Jsonb

from memhub.core.errors import Conflict, NotFound
from memhub.core.models import Page, Record

from ..sql.codec import encode_time
from ..sql.columns import RECORD_COLUMNS
from ..sql.cursors import decode_cursor, encode_cursor
from ..sql.record_pages import checked_fields, records_listing
from ..sql.tenancy import get_tenant
from .db import Conn
from .dialect import POSTGRES
from .rows import (
    placeholders,
    record_params,
    utc,
)

_KEY = "tenant_id = %s AND collection = %s AND id = %s"


def add_record(conn: Conn, record: Record) -> Record:
    get_tenant(POSTGRES, conn, record.tenant_id)
    added = conn.execute(
        f"INSERT INTO records ({RECORD_COLUMNS}) VALUES ({placeholders(6)}) ON CONFLICT DO NOTHING",
        record_params(record),
    )
    if added.rowcount == 0:
        raise Conflict(f"{record.collection} {record.id} already exists")
    return get_record(conn, record.tenant_id, record.collection, record.id)


def get_record(conn: Conn, tenant_id: str, collection: str, record_id: str) -> Record:
    row = conn.execute(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE {_KEY}", (tenant_id, collection, record_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"{collection} {record_id} not found")
    return Record.model_validate(row)


def list_records(conn: Conn, tenant_id: str, collection: str) -> list[Record]:
    rows = conn.execute(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE tenant_id = %s AND collection = %s"
        " ORDER BY created_at, id",
        (tenant_id, collection),
    )
    return [Record.model_validate(row) for row in rows]


def page_records(
    conn: Conn,
    tenant_id: str,
    collection: str,
    where: Mapping[str, str] | None,
    cursor: str | None,
    limit: int,
    newest_first: bool,
) -> Page:
    """Keyset pages over ``records_list``; ``where`` keys are matched on the JSONB as the index walks."""
    listing = records_listing(collection, newest_first)
    after = decode_cursor(listing, cursor, 2)
    sql = f"SELECT {RECORD_COLUMNS} FROM records WHERE tenant_id = %s AND collection = %s"
    params: list[object] = [tenant_id, collection]
    for field, value in checked_fields(where):
        # the type test keeps a JSON number or boolean from matching its text (->> would render it)
        sql += " AND jsonb_typeof(data -> %s) = 'string' AND data ->> %s = %s"
        params.extend([field, field, value])
    if after is not None:
        sql += " AND (created_at, id) " + ("<" if newest_first else ">") + " (%s::timestamptz, %s)"
        params.extend(after)
    direction = "DESC" if newest_first else "ASC"
    sql += f" ORDER BY created_at {direction}, id {direction} LIMIT %s"
    found = [Record.model_validate(row) for row in conn.execute(sql, [*params, limit + 1])]
    if len(found) <= limit:
        return Page(items=found)
    last = found[limit - 1]
    key = (encode_time(last.created_at), last.id)
    return Page(items=found[:limit], next_cursor=encode_cursor(listing, key))


def update_record(conn: Conn, record: Record) -> Record:
    updated = conn.execute(
        f"UPDATE records SET data = %s, updated_at = %s WHERE {_KEY}",
        (Jsonb(record.data), utc(record.updated_at), record.tenant_id, record.collection, record.id),
    )
    if updated.rowcount == 0:
        raise NotFound(f"{record.collection} {record.id} not found")
    return get_record(conn, record.tenant_id, record.collection, record.id)


def delete_record(conn: Conn, tenant_id: str, collection: str, record_id: str) -> None:
    deleted = conn.execute(f"DELETE FROM records WHERE {_KEY}", (tenant_id, collection, record_id))
    if deleted.rowcount == 0:
        raise NotFound(f"{collection} {record_id} not found")
