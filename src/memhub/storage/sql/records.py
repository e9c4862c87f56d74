"""Records: small JSON objects a tenant keeps by id in named collections (adapter configuration).

One SQL text for both stores. A records page is a keyset page over ``(created_at, id)`` like a
memories page, optionally narrowed to the records whose JSON ``data`` holds given strings at given
top-level keys (GoodMem keeps a memory's space id there). The key names are interpolated into a JSON
path (SQLite) or passed as a parameter (PostgreSQL); they are checked here so that neither can be
steered by what a caller put in a name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from memhub.core.errors import Conflict, InvalidInput, NotFound
from memhub.core.models import Page, Record

from .codec import encode_time
from .columns import RECORD_COLUMNS
from .cursors import decode_cursor, encode_cursor
from .dialect import Connection, Dialect
from .rows import record_params
from .tenancy import get_tenant

_KEY = "tenant_id = ? AND collection = ? AND id = ?"
_OLDEST_FIRST = "ORDER BY created_at, id"

_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def records_listing(collection: str, newest_first: bool) -> str:
    """The cursor tag: a cursor of one collection or direction is refused by another."""
    return f"records-{collection}-{'desc' if newest_first else 'asc'}"


def checked_fields(where: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """``where`` as ``(key, value)`` pairs, once every key is a plain identifier and every value a string."""
    pairs = list((where or {}).items())
    for key, value in pairs:
        if not _FIELD.fullmatch(key):
            raise InvalidInput(f"record field {key!r} is not a plain identifier")
        if not isinstance(value, str):
            raise InvalidInput(f"record field {key!r} can only be matched against a string")
    return pairs


def add_record(d: Dialect, conn: Connection, record: Record) -> Record:
    get_tenant(d, conn, record.tenant_id)
    if not d.insert_new(conn, "records", RECORD_COLUMNS, record_params(d, record)):
        raise Conflict(f"{record.collection} {record.id} already exists")
    return get_record(d, conn, record.tenant_id, record.collection, record.id)


def get_record(d: Dialect, conn: Connection, tenant_id: str, collection: str, record_id: str) -> Record:
    statement = f"SELECT {RECORD_COLUMNS} FROM records WHERE {_KEY}"
    return d.get(
        conn, Record, statement, (tenant_id, collection, record_id), f"{collection} {record_id} not found"
    )


def list_records(d: Dialect, conn: Connection, tenant_id: str, collection: str) -> list[Record]:
    rows = conn.execute(
        d.sql(f"SELECT {RECORD_COLUMNS} FROM records WHERE tenant_id = ? AND collection = ? {_OLDEST_FIRST}"),
        (tenant_id, collection),
    )
    return [d.model(Record, row) for row in rows]


def page_records(
    d: Dialect,
    conn: Connection,
    tenant_id: str,
    collection: str,
    where: Mapping[str, str] | None,
    cursor: str | None,
    limit: int,
    newest_first: bool,
) -> Page:
    """Keyset pages over ``records_list``; ``where`` keys are matched on the JSON as the index walks, so
    a page reads about as many rows as it returns when most rows match."""
    listing = records_listing(collection, newest_first)
    after = decode_cursor(listing, cursor, 2)
    statement = f"SELECT {RECORD_COLUMNS} FROM records WHERE tenant_id = ? AND collection = ?"
    params: list[Any] = [tenant_id, collection]
    for field, value in checked_fields(where):
        condition, values = d.json_string_equals("data", field, value)
        statement += f" AND {condition}"
        params.extend(values)
    if after is not None:
        statement += f" AND (created_at, id) {'<' if newest_first else '>'} ({d.cursor_time}, ?)"
        params.extend(after)
    direction = "DESC" if newest_first else "ASC"
    statement += f" ORDER BY created_at {direction}, id {direction} LIMIT ?"
    found = [d.model(Record, row) for row in conn.execute(d.sql(statement), [*params, limit + 1])]
    if len(found) <= limit:
        return Page(items=found)
    last = found[limit - 1]
    key = (encode_time(last.created_at), last.id)
    return Page(items=found[:limit], next_cursor=encode_cursor(listing, key))


def update_record(d: Dialect, conn: Connection, record: Record) -> Record:
    updated = conn.execute(
        d.sql(f"UPDATE records SET data = ?, updated_at = ? WHERE {_KEY}"),
        (d.json(record.data), d.time(record.updated_at), record.tenant_id, record.collection, record.id),
    )
    if updated.rowcount == 0:
        raise NotFound(f"{record.collection} {record.id} not found")
    return get_record(d, conn, record.tenant_id, record.collection, record.id)


def delete_record(d: Dialect, conn: Connection, tenant_id: str, collection: str, record_id: str) -> None:
    deleted = conn.execute(d.sql(f"DELETE FROM records WHERE {_KEY}"), (tenant_id, collection, record_id))
    if deleted.rowcount == 0:
        raise NotFound(f"{collection} {record_id} not found")
