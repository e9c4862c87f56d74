"""Users and sessions: created on first reference, listed with keyset cursors, deleted in cascade.

``memory_count`` counts the user's live memories (not superseded), the ones a listing shows by default.
``delete_user`` removes the user row and lets the schema's foreign keys take everything of the user
with it — memories (and their chunks, sources, FTS rows), events, jobs, sessions — in one statement,
and returns how many memories went, superseded ones included.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from memhub.core.errors import Conflict, InvalidInput, NotFound
from memhub.core.models import Page, Session, User

from ..sql.codec import encode_json, encode_time
from ..sql.columns import SESSION_COLUMNS
from ..sql.cursors import decode_cursor, encode_cursor
from ..sql.tenancy import get_space
from .dialect import SQLITE
from .rows import (
    session_from_row,
    user_from_row,
)
from .vectors import prune_tombstones

_USER_SELECT = (
    "SELECT u.tenant_id, u.id, u.created_at, (SELECT count(*) FROM memories m"
    " WHERE m.tenant_id = u.tenant_id AND m.user_id = u.id AND m.superseded_by IS NULL) AS memory_count"
    " FROM users u"
)


def get_user(conn: sqlite3.Connection, tenant_id: str, user_id: str) -> User:
    row = conn.execute(_USER_SELECT + " WHERE u.tenant_id = ? AND u.id = ?", (tenant_id, user_id)).fetchone()
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return user_from_row(row)


def list_users(conn: sqlite3.Connection, tenant_id: str, cursor: str | None, limit: int) -> Page:
    """Users by id."""
    after = decode_cursor("users", cursor, 1)
    where = "u.tenant_id = ?"
    params: list[str | int] = [tenant_id]
    if after is not None:
        where += " AND u.id > ?"
        params.extend(after)
    rows = conn.execute(
        f"{_USER_SELECT} WHERE {where} ORDER BY u.id LIMIT ?", (*params, limit + 1)
    ).fetchall()
    users = [user_from_row(row) for row in rows]
    if len(users) <= limit:
        return Page(items=users)
    return Page(items=users[:limit], next_cursor=encode_cursor("users", (users[limit - 1].id,)))


def ensure_user(conn: sqlite3.Connection, tenant_id: str, user_id: str, now: datetime) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO users (tenant_id, id, created_at) VALUES (?, ?, ?)",
        (tenant_id, user_id, encode_time(now)),
    )


def delete_user(conn: sqlite3.Connection, tenant_id: str, user_id: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM memories WHERE tenant_id = ? AND user_id = ?", (tenant_id, user_id)
    ).fetchone()
    deleted = conn.execute("DELETE FROM users WHERE tenant_id = ? AND id = ?", (tenant_id, user_id))
    if deleted.rowcount == 0:
        raise NotFound(f"user {user_id} not found")
    prune_tombstones(conn)
    return int(row[0])


def delete_session(conn: sqlite3.Connection, tenant_id: str, session_id: str) -> int:
    """Delete the session's memories, events, the jobs left without events, and the session.

    Returns memories + events deleted (0 for an unknown session). Memories the deleted ones had
    superseded stay superseded, as with ``delete_memory``.
    """
    key = (tenant_id, session_id)
    job_ids = [
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT job_id FROM events WHERE tenant_id = ? AND session_id = ?", key
        )
    ]
    memories = conn.execute("DELETE FROM memories WHERE tenant_id = ? AND session_id = ?", key).rowcount
    events = conn.execute("DELETE FROM events WHERE tenant_id = ? AND session_id = ?", key).rowcount
    for job_id in job_ids:
        conn.execute(
            "DELETE FROM jobs WHERE id = ? AND NOT EXISTS (SELECT 1 FROM events e WHERE e.job_id = jobs.id)",
            (job_id,),
        )
    conn.execute("DELETE FROM sessions WHERE tenant_id = ? AND id = ?", key)
    prune_tombstones(conn)
    return memories + events


def create_session(conn: sqlite3.Connection, session: Session) -> Session:
    get_space(SQLITE, conn, session.tenant_id, session.space_id)  # NotFound unless it is the tenant's
    ensure_user(conn, session.tenant_id, session.user_id, session.created_at)
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
    return get_session(conn, session.tenant_id, session.id)


def ensure_session(
    conn: sqlite3.Connection,
    tenant_id: str,
    session_id: str,
    space_id: str,
    user_id: str | None,
    now: datetime,
) -> None:
    """Create the session an event names, if new. A session belongs to a user, so the event needs one."""
    exists = conn.execute(
        "SELECT 1 FROM sessions WHERE tenant_id = ? AND id = ?", (tenant_id, session_id)
    ).fetchone()
    if exists is not None:
        return
    if user_id is None:
        raise InvalidInput(f"session {session_id} is new, and a new session needs a user_id")
    ensure_user(conn, tenant_id, user_id, now)
    conn.execute(
        f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, '{{}}', ?)",
        (session_id, tenant_id, space_id, user_id, encode_time(now)),
    )


def get_session(conn: sqlite3.Connection, tenant_id: str, session_id: str) -> Session:
    row = conn.execute(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = ? AND id = ?", (tenant_id, session_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"session {session_id} not found")
    return session_from_row(row)


def list_sessions(
    conn: sqlite3.Connection, tenant_id: str, user_id: str | None, cursor: str | None, limit: int
) -> Page:
    """Sessions newest first (``created_at``, then id)."""
    after = decode_cursor("sessions", cursor, 2)
    where = "tenant_id = ?"
    params: list[str | int] = [tenant_id]
    if user_id is not None:
        where += " AND user_id = ?"
        params.append(user_id)
    if after is not None:
        where += " AND (created_at, id) < (?, ?)"
        params.extend(after)
    sql = f"SELECT {SESSION_COLUMNS} FROM sessions WHERE {where} ORDER BY created_at DESC, id DESC LIMIT ?"
    sessions = [session_from_row(row) for row in conn.execute(sql, (*params, limit + 1))]
    if len(sessions) <= limit:
        return Page(items=sessions)
    last = sessions[limit - 1]
    return Page(
        items=sessions[:limit], next_cursor=encode_cursor("sessions", (encode_time(last.created_at), last.id))
    )
