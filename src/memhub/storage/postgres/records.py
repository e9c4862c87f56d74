"""The PostgreSQL half of records: adding one whose key is taken is a Conflict.

The rest is SQL both stores share (``sql/records.py``).
"""

from __future__ import annotations

from memhub.core.errors import Conflict
from memhub.core.models import Record

from ..sql.columns import RECORD_COLUMNS
from ..sql.records import get_record
from ..sql.tenancy import get_tenant
from .db import Conn
from .dialect import POSTGRES
from .rows import (
    placeholders,
    record_params,
)


def add_record(conn: Conn, record: Record) -> Record:
    get_tenant(POSTGRES, conn, record.tenant_id)
    added = conn.execute(
        f"INSERT INTO records ({RECORD_COLUMNS}) VALUES ({placeholders(6)}) ON CONFLICT DO NOTHING",
        record_params(record),
    )
    if added.rowcount == 0:
        raise Conflict(f"{record.collection} {record.id} already exists")
    return get_record(POSTGRES, conn, record.tenant_id, record.collection, record.id)
