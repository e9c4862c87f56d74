"""Blobs (bytes kept verbatim under an owner id and a name) on PostgreSQL, as ``bytea``.

Listings never read the ``data`` column; deleting a tenant cascades to its blobs.
"""

from __future__ import annotations

from typing import Any

from memhub.core.errors import NotFound
from memhub.core.models import Blob

from ..sql.tenancy import get_tenant
from .db import Conn
from .dialect import POSTGRES
from .rows import utc

_INFO = "tenant_id, owner_id, name, content_type, size, sha256, created_at"


def put_blob(conn: Conn, blob: Blob) -> Blob:
    get_tenant(POSTGRES, conn, blob.tenant_id)
    conn.execute(
        f"INSERT INTO blobs ({_INFO}, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (tenant_id, owner_id, name) DO UPDATE SET content_type = excluded.content_type,"
        " size = excluded.size, sha256 = excluded.sha256, created_at = excluded.created_at,"
        " data = excluded.data",
        (
            blob.tenant_id,
            blob.owner_id,
            blob.name,
            blob.content_type,
            blob.size,
            blob.sha256,
            utc(blob.created_at),
            blob.data,
        ),
    )
    return blob.model_copy(update={"data": b""})


def get_blob(conn: Conn, tenant_id: str, owner_id: str, name: str) -> Blob:
    row = conn.execute(
        f"SELECT {_INFO}, data FROM blobs WHERE tenant_id = %s AND owner_id = %s AND name = %s",
        (tenant_id, owner_id, name),
    ).fetchone()
    if row is None:
        raise NotFound(f"{owner_id} has no blob {name!r}")
    return _from_row(row)


def list_blobs(conn: Conn, tenant_id: str, owner_id: str) -> list[Blob]:
    rows = conn.execute(
        f"SELECT {_INFO} FROM blobs WHERE tenant_id = %s AND owner_id = %s ORDER BY name",
        (tenant_id, owner_id),
    )
    return [_from_row(row) for row in rows]


def delete_blobs(conn: Conn, tenant_id: str, owner_id: str) -> int:
    deleted = conn.execute("DELETE FROM blobs WHERE tenant_id = %s AND owner_id = %s", (tenant_id, owner_id))
    return deleted.rowcount


def _from_row(row: dict[str, Any]) -> Blob:
    data = row.get("data")
    return Blob.model_validate({**row, "data": bytes(data) if data is not None else b""})
