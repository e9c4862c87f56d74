"""The SQLite half of records: adding one whose key is taken is a Conflict.

The rest is SQL both stores share (``sql/records.py``).
"""

from __future__ import annotations

import sqlite3

from memhub.core.errors import Conflict
from memhub.core.models import Record

from ..sql.columns import RECORD_COLUMNS
from ..sql.records import get_record
from ..sql.tenancy import get_tenant
from .dialect import SQLITE
from .rows import (
    placeholders,
    record_params,
)


def add_record(conn: sqlite3.Connection, record: Record) -> Record:
    get_tenant(SQLITE, conn, record.tenant_id)
    try:
        conn.execute(
            f"INSERT INTO records ({RECORD_COLUMNS}) VALUES ({placeholders(6)})", record_params(record)
        )
    except sqlite3.IntegrityError as exc:
        raise Conflict(f"{record.collection} {record.id} already exists") from exc
    return get_record(SQLITE, conn, record.tenant_id, record.collection, record.id)
