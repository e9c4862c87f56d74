"""Blobs: bytes a tenant keeps verbatim under an owner id and a name (an upload, a rendered page).

They live in the same file as everything else, so a backup is still one file and deleting a tenant
cascades to its blobs. Listings never read the ``data`` column.
"""

from __future__ import annotations

import sqlite3

from memhub.core.errors import NotFound
from memhub.core.models import Blob

from ..sql.codec import decode_time, encode_time
from ..sql.tenancy import get_tenant
from .dialect import SQLITE

_INFO = "tenant_id, owner_id, name, content_type, size, sha256, created_at"


def put_blob(conn: sqlite3.Connection, blob: Blob) -> Blob:
    get_tenant(SQLITE, conn, blob.tenant_id)
    conn.execute(
        f"INSERT OR REPLACE INTO blobs ({_INFO}, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            blob.tenant_id,
            blob.owner_id,
            blob.name,
            blob.content_type,
            blob.size,
            blob.sha256,
            encode_time(blob.created_at),
            blob.data,
        ),
    )
    return blob.model_copy(update={"data": b""})


def get_blob(conn: sqlite3.Connection, tenant_id: str, owner_id: str, name: str) -> Blob:
    row = conn.execute(
        f"SELECT {_INFO}, data FROM blobs WHERE tenant_id = ? AND owner_id = ? AND name = ?",
        (tenant_id, owner_id, name),
    ).fetchone()
    if row is None:
        raise NotFound(f"{owner_id} has no blob {name!r}")
    return _from_row(row, bytes(row["data"]))


def list_blobs(conn: sqlite3.Connection, tenant_id: str, owner_id: str) -> list[Blob]:
    rows = conn.execute(
        f"SELECT {_INFO} FROM blobs WHERE tenant_id = ? AND owner_id = ? ORDER BY name",
        (tenant_id, owner_id),
    )
    return [_from_row(row, b"") for row in rows]


def delete_blobs(conn: sqlite3.Connection, tenant_id: str, owner_id: str) -> int:
    deleted = conn.execute("DELETE FROM blobs WHERE tenant_id = ? AND owner_id = ?", (tenant_id, owner_id))
    return deleted.rowcount


def _from_row(row: sqlite3.Row, data: bytes) -> Blob:
    return Blob(
        tenant_id=row["tenant_id"],
        owner_id=row["owner_id"],
        name=row["name"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        created_at=decode_time(row["created_at"]),
        data=data,
    )
