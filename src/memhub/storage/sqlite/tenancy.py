"""The SQLite half of tenancy: inserts whose unique-key violation (or unknown tenant) is a Conflict.

The rest of tenancy is SQL both stores share (``sql/tenancy.py``).
"""

from __future__ import annotations

import sqlite3

from memhub.core.errors import Conflict
from memhub.core.models import ApiKey, Space

from ..sql.codec import encode_json, encode_time
from ..sql.columns import API_KEY_COLUMNS, SPACE_COLUMNS
from ..sql.tenancy import find_space, get_space, get_tenant
from .dialect import SQLITE
from .rows import api_key_params


def add_api_key(conn: sqlite3.Connection, key: ApiKey) -> None:
    get_tenant(SQLITE, conn, key.tenant_id)
    try:
        conn.execute(
            f"INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", api_key_params(key)
        )
    except sqlite3.IntegrityError as exc:
        raise Conflict("an API key with this id or secret already exists") from exc


def create_space(conn: sqlite3.Connection, space: Space) -> Space:
    get_tenant(SQLITE, conn, space.tenant_id)
    if find_space(SQLITE, conn, space.tenant_id, space.name) is not None:
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
    return get_space(SQLITE, conn, space.tenant_id, space.id)
