"""Users and sessions — PostgreSQL twin of ``sqlite/users.py`` (same orderings, same cursors).

Cursors carry times as the same ISO-8601 text the SQLite store uses (``codec.encode_time``), cast back
with ``::timestamptz``: a cursor is opaque to callers either way, and one encoding serves both stores.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from memhub.core.errors import Conflict, InvalidInput, NotFound
from memhub.core.models import Page, Session, User

from ..sql.codec import encode_time
from ..sql.columns import SESSION_COLUMNS
from ..sql.cursors import decode_cursor, encode_cursor
from ..sql.tenancy import get_space
from .db import Conn
from .dialect import POSTGRES
from .rows import (
    utc,
)

_USER_SELECT = (
    "SELECT u.tenant_id, u.id, u.created_at, (SELECT count(*) FROM memories m"
    " WHERE m.tenant_id = u.tenant_id AND m.user_id = u.id AND m.superseded_by IS NULL) AS memory_count"
    " FROM users u"
)


def get_user(conn: Conn, tenant_id: str, user_id: str) -> User:
    row = conn.execute(
        _USER_SELECT + " WHERE u.tenant_id = %s AND u.id = %s", (tenant_id, user_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return User.model_validate(row)


def list_users(conn: Conn, tenant_id: str, cursor: str | None, limit: int) -> Page:
    """Users by id (byte order: ids are ``COLLATE "C"``, as in SQLite)."""
    after = decode_cursor("users", cursor, 1)
    where = "u.tenant_id = %s"
    params: list[Any] = [tenant_id]
    if after is not None:
        where += " AND u.id > %s"
        params.extend(after)
    rows = conn.execute(
        f"{_USER_SELECT} WHERE {where} ORDER BY u.id LIMIT %s", (*params, limit + 1)
    ).fetchall()
    users = [User.model_validate(row) for row in rows]
    if len(users) <= limit:
        return Page(items=users)
    return Page(items=users[:limit], next_cursor=encode_cursor("users", (users[limit - 1].id,)))


def ensure_user(conn: Conn, tenant_id: str, user_id: str, now: datetime) -> None:
    conn.execute(
        "INSERT INTO users (tenant_id, id, created_at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (tenant_id, user_id, utc(now)),
    )


def delete_user(conn: Conn, tenant_id: str, user_id: str) -> int:
    row = conn.execute(
        "SELECT count(*) AS n FROM memories WHERE tenant_id = %s AND user_id = %s", (tenant_id, user_id)
    ).fetchone()
    deleted = conn.execute("DELETE FROM users WHERE tenant_id = %s AND id = %s", (tenant_id, user_id))
    if deleted.rowcount == 0:
        raise NotFound(f"user {user_id} not found")
    assert row is not None
    return int(row["n"])


def delete_session(conn: Conn, tenant_id: str, session_id: str) -> int:
    """The session's memories, events, the jobs left without events, and the session; as SQLite's."""
    key = (tenant_id, session_id)
    jobs = conn.execute(
        "SELECT DISTINCT job_id FROM events WHERE tenant_id = %s AND session_id = %s", key
    ).fetchall()
    memories = conn.execute("DELETE FROM memories WHERE tenant_id = %s AND session_id = %s", key).rowcount
    events = conn.execute("DELETE FROM events WHERE tenant_id = %s AND session_id = %s", key).rowcount
    conn.execute(
        "DELETE FROM jobs WHERE id = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM events e WHERE e.job_id = jobs.id)",
        ([row["job_id"] for row in jobs],),
    )
    conn.execute("DELETE FROM sessions WHERE tenant_id = %s AND id = %s", key)
    return memories + events


def create_session(conn: Conn, session: Session) -> Session:
    get_space(POSTGRES, conn, session.tenant_id, session.space_id)  # NotFound unless it is the tenant's
    ensure_user(conn, session.tenant_id, session.user_id, session.created_at)
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
    return get_session(conn, session.tenant_id, session.id)


def ensure_session(
    conn: Conn, tenant_id: str, session_id: str, space_id: str, user_id: str | None, now: datetime
) -> None:
    """Create the session an event names, if new. A session belongs to a user, so the event needs one."""
    exists = conn.execute(
        "SELECT 1 FROM sessions WHERE tenant_id = %s AND id = %s", (tenant_id, session_id)
    ).fetchone()
    if exists is not None:
        return
    if user_id is None:
        raise InvalidInput(f"session {session_id} is new, and a new session needs a user_id")
    ensure_user(conn, tenant_id, user_id, now)
    conn.execute(
        f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (%s, %s, %s, %s, '{{}}', %s)"
        " ON CONFLICT DO NOTHING",
        (session_id, tenant_id, space_id, user_id, utc(now)),
    )


def get_session(conn: Conn, tenant_id: str, session_id: str) -> Session:
    row = conn.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = %s AND id = %s", (tenant_id, session_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"session {session_id} not found")
    return Session.model_validate(row)


def list_sessions(conn: Conn, tenant_id: str, user_id: str | None, cursor: str | None, limit: int) -> Page:
    """Sessions newest first (``created_at``, then id)."""
    after = decode_cursor("sessions", cursor, 2)
    where = "tenant_id = %s"
    params: list[Any] = [tenant_id]
    if user_id is not None:
        where += " AND user_id = %s"
        params.append(user_id)
    if after is not None:
        where += " AND (created_at, id) < (%s::timestamptz, %s)"
        params.extend(after)
    sql = f"SELECT {SESSION_COLUMNS} FROM sessions WHERE {where} ORDER BY created_at DESC, id DESC LIMIT %s"
    sessions = [Session.model_validate(row) for row in conn.execute(sql, (*params, limit + 1))]
    if len(sessions) <= limit:
        return Page(items=sessions)
    last = sessions[limit - 1]
    return Page(
        items=sessions[:limit], next_cursor=encode_cursor("sessions", (encode_time(last.created_at), last.id))
    )
