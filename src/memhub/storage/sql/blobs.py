"""Blobs: bytes a tenant keeps verbatim under an owner id and a name (an upload, a rendered page).

They live in the store with everything else (one SQLite file is still one backup; PostgreSQL keeps them
as ``bytea``), and deleting a tenant cascades to its blobs. Listings never read the ``data`` column.
"""

from __future__ import annotations

from typing import Any

from memhub.core.errors import NotFound
from memhub.core.models import Blob

from .dialect import Connection, Dialect
from .tenancy import get_tenant

_INFO = "tenant_id, owner_id, name, content_type, size, sha256, created_at"
_UPSERT = (
    f"INSERT INTO blobs ({_INFO}, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (tenant_id, owner_id, name) DO UPDATE SET content_type = excluded.content_type,"
    " size = excluded.size, sha256 = excluded.sha256, created_at = excluded.created_at, data = excluded.data"
)


def put_blob(d: Dialect, conn: Connection, blob: Blob) -> Blob:
    """Store ``blob`` (replacing one of the same owner and name); returned without its bytes."""
    get_tenant(d, conn, blob.tenant_id)
    conn.execute(
        d.sql(_UPSERT),
        (
            blob.tenant_id,
            blob.owner_id,
            blob.name,
            blob.content_type,
            blob.size,
            blob.sha256,
            d.time(blob.created_at),
            blob.data,
        ),
    )
    return blob.model_copy(update={"data": b""})


def get_blob(d: Dialect, conn: Connection, tenant_id: str, owner_id: str, name: str) -> Blob:
    row = conn.execute(
        d.sql(f"SELECT {_INFO}, data FROM blobs WHERE tenant_id = ? AND owner_id = ? AND name = ?"),
        (tenant_id, owner_id, name),
    ).fetchone()
    if row is None:
        raise NotFound(f"{owner_id} has no blob {name!r}")
    return _from_row(d, row, bytes(row["data"]))


def list_blobs(d: Dialect, conn: Connection, tenant_id: str, owner_id: str) -> list[Blob]:
    rows = conn.execute(
        d.sql(f"SELECT {_INFO} FROM blobs WHERE tenant_id = ? AND owner_id = ? ORDER BY name"),
        (tenant_id, owner_id),
    )
    return [_from_row(d, row, b"") for row in rows]


def delete_blobs(d: Dialect, conn: Connection, tenant_id: str, owner_id: str) -> int:
    deleted = conn.execute(
        d.sql("DELETE FROM blobs WHERE tenant_id = ? AND owner_id = ?"), (tenant_id, owner_id)
    )
    return deleted.rowcount


def _from_row(d: Dialect, row: Any, data: bytes) -> Blob:
    info = {column: row[column] for column in _INFO.split(", ")}
    return Blob(**{**info, "created_at": d.read_time(info["created_at"]), "data": data})
