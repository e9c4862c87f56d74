"""The PostgreSQL half of users and sessions: creating a session whose id is taken is a Conflict.

The rest is SQL both stores share (``sql/users.py``).
"""

from __future__ import annotations

from psycopg.types.json import Jsonb

from memhub.core.errors import Conflict
from memhub.core.models import Session

from ..sql.columns import SESSION_COLUMNS
from ..sql.tenancy import get_space
from ..sql.users import ensure_user, get_session
from .db import Conn
from .dialect import POSTGRES
from .rows import utc


def create_session(conn: Conn, session: Session) -> Session:
    get_space(POSTGRES, conn, session.tenant_id, session.space_id)  # NotFound unless it is the tenant's
    ensure_user(POSTGRES, conn, session.tenant_id, session.user_id, session.created_at)
    added = conn.execute(
        f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (
            session.id,
            session.tenant_id,
            session.space_id,
            session.user_id,
            Jsonb(session.metadata),
            utc(session.created_at),
        ),
    )
    if added.rowcount == 0:
        raise Conflict(f"session {session.id} already exists")
    return get_session(POSTGRES, conn, session.tenant_id, session.id)
