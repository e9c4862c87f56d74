"""The PostgreSQL half of tenancy: inserts whose unique-key violation is a Conflict.

They use ``ON CONFLICT DO NOTHING`` and look at the row count, rather than catching a unique violation:
in PostgreSQL an error aborts the whole transaction, and these functions run inside the caller's. The
rest of tenancy is SQL both stores share (``sql/tenancy.py``).
"""

from __future__ import annotations

from psycopg.types.json import Jsonb

from memhub.core.errors import Conflict
from memhub.core.models import ApiKey, Space

from ..sql.columns import API_KEY_COLUMNS, SPACE_COLUMNS
from ..sql.tenancy import find_space, get_space, get_tenant
from .db import Conn
from .dialect import POSTGRES
from .rows import api_key_params, placeholders, utc


def add_api_key(conn: Conn, key: ApiKey) -> None:
    get_tenant(POSTGRES, conn, key.tenant_id)
    added = conn.execute(
        f"INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES ({placeholders(7)}) ON CONFLICT DO NOTHING",
        api_key_params(key),
    )
    if added.rowcount == 0:
        raise Conflict("an API key with this id or secret already exists")


def create_space(conn: Conn, space: Space) -> Space:
    get_tenant(POSTGRES, conn, space.tenant_id)
    if find_space(POSTGRES, conn, space.tenant_id, space.name) is not None:
        raise Conflict(f"a space named {space.name!r} already exists")
    added = conn.execute(
        f"INSERT INTO spaces ({SPACE_COLUMNS}) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (space.id, space.tenant_id, space.name, Jsonb(space.metadata), utc(space.created_at)),
    )
    if added.rowcount == 0:
        raise Conflict(f"space id {space.id} (or the name {space.name!r}) is already in use")
    return get_space(POSTGRES, conn, space.tenant_id, space.id)
