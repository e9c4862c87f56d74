"""The SQLite half of users and sessions: creating a session whose id is taken is a Conflict.

The rest is SQL both stores share (``sql/users.py``).
"""

from __future__ import annotations

import sqlite3

from memhub.core.errors import Conflict
from memhub.core.models import Session

from ..sql.codec import encode_json, encode_time
from ..sql.columns import SESSION_COLUMNS
from ..sql.tenancy import get_space
from ..sql.users import ensure_user, get_session
from .dialect import SQLITE


def create_session(conn: sqlite3.Connection, session: Session) -> Session:
    get_space(SQLITE, conn, session.tenant_id, session.space_id)  # NotFound unless it is the tenant's
    ensure_user(SQLITE, conn, session.tenant_id, session.user_id, session.created_at)
    try:
        conn.execute(
            f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                session.id,
                session.tenant_id,
                session.space_id,
                session.user_id,
                encode_json(session.metadata),
                encode_time(session.created_at),
            ),
        )
    except sqlite3.IntegrityError as exc:
        raise Conflict(f"session {session.id} already exists") from exc
    return get_session(SQLITE, conn, session.tenant_id, session.id)
