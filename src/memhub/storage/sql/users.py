"""Users and sessions: created on first reference, listed with keyset cursors, deleted in cascade.

``memory_count`` counts the user's live memories (not superseded), the ones a listing shows by default.
``delete_user`` removes the user row and lets the schema's foreign keys take everything of the user
with it — memories (and their chunks, sources, keyword rows), events, jobs, sessions — in one statement,
and returns how many memories went, superseded ones included. Cursors carry times as ISO-8601 text
(``codec.encode_time``) on both stores: a cursor is opaque to callers, and one encoding serves both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from memhub.core.errors import Conflict, InvalidInput, NotFound
from memhub.core.models import Event, Job, Page, Session, User

from .codec import encode_time
from .columns import SESSION_COLUMNS
from .cursors import decode_cursor, encode_cursor
from .dialect import Connection, Dialect
from .rows import session_params
from .tenancy import get_space

_USER_SELECT = (
    "SELECT u.tenant_id, u.id, u.created_at, (SELECT count(*) FROM memories m"
    " WHERE m.tenant_id = u.tenant_id AND m.user_id = u.id AND m.superseded_by IS NULL) AS memory_count"
    " FROM users u"
)
_EVENT_OF_JOB = "SELECT 1 FROM events e WHERE e.job_id = jobs.id"
_BATCH = 500
"""Ids per statement where a list is spelled out (well under SQLite's bound-parameter limit)."""


def get_user(d: Dialect, conn: Connection, tenant_id: str, user_id: str) -> User:
    statement = _USER_SELECT + " WHERE u.tenant_id = ? AND u.id = ?"
    return d.get(conn, User, statement, (tenant_id, user_id), f"user {user_id} not found")


def list_users(d: Dialect, conn: Connection, tenant_id: str, cursor: str | None, limit: int) -> Page:
    """Users by id (byte order on both stores: PostgreSQL ids are ``COLLATE "C"``)."""
    after = decode_cursor("users", cursor, 1)
    where = "u.tenant_id = ?"
    params: list[Any] = [tenant_id]
    if after is not None:
        where += " AND u.id > ?"
        params.extend(after)
    statement = d.sql(f"{_USER_SELECT} WHERE {where} ORDER BY u.id LIMIT ?")
    users = [d.model(User, row) for row in conn.execute(statement, (*params, limit + 1)).fetchall()]
    if len(users) <= limit:
        return Page(items=users)
    return Page(items=users[:limit], next_cursor=encode_cursor("users", (users[limit - 1].id,)))


def ensure_user(d: Dialect, conn: Connection, tenant_id: str, user_id: str, now: datetime) -> None:
    conn.execute(
        d.sql("INSERT INTO users (tenant_id, id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"),
        (tenant_id, user_id, d.time(now)),
    )


def delete_user(d: Dialect, conn: Connection, tenant_id: str, user_id: str) -> int:
    row = conn.execute(
        d.sql("SELECT count(*) AS n FROM memories WHERE tenant_id = ? AND user_id = ?"), (tenant_id, user_id)
    ).fetchone()
    deleted = conn.execute(d.sql("DELETE FROM users WHERE tenant_id = ? AND id = ?"), (tenant_id, user_id))
    if deleted.rowcount == 0:
        raise NotFound(f"user {user_id} not found")
    d.after_delete(conn)
    return int(row["n"])


def delete_session(d: Dialect, conn: Connection, tenant_id: str, session_id: str) -> int:
    """Delete the session's memories, events, the jobs left without events, and the session.

    Returns memories + events deleted (0 for an unknown session). Memories the deleted ones had
    superseded stay superseded, as with ``delete_memory``.
    """
    key = (tenant_id, session_id)
    rows = conn.execute(
        d.sql("SELECT DISTINCT job_id FROM events WHERE tenant_id = ? AND session_id = ?"), key
    )
    job_ids = [row["job_id"] for row in rows.fetchall()]
    memories = conn.execute(
        d.sql("DELETE FROM memories WHERE tenant_id = ? AND session_id = ?"), key
    ).rowcount
    events = conn.execute(d.sql("DELETE FROM events WHERE tenant_id = ? AND session_id = ?"), key).rowcount
    for start in range(0, len(job_ids), _BATCH):
        among, params = d.any_of("id", job_ids[start : start + _BATCH])
        conn.execute(
            d.sql(f"DELETE FROM jobs WHERE {among} AND NOT EXISTS ({_EVENT_OF_JOB})"),
            params,
        )
    conn.execute(d.sql("DELETE FROM sessions WHERE tenant_id = ? AND id = ?"), key)
    d.after_delete(conn)
    return memories + events


def create_session(d: Dialect, conn: Connection, session: Session) -> Session:
    get_space(d, conn, session.tenant_id, session.space_id)  # NotFound unless it is the tenant's
    ensure_user(d, conn, session.tenant_id, session.user_id, session.created_at)
    if not d.insert_new(conn, "sessions", SESSION_COLUMNS, session_params(d, session)):
        raise Conflict(f"session {session.id} already exists")
    return get_session(d, conn, session.tenant_id, session.id)


def ensure_session(
    d: Dialect,
    conn: Connection,
    tenant_id: str,
    session_id: str,
    space_id: str,
    user_id: str | None,
    now: datetime,
) -> None:
    """Create the session an event names, if new. A session belongs to a user, so the event needs one."""
    exists = conn.execute(
        d.sql("SELECT 1 AS found FROM sessions WHERE tenant_id = ? AND id = ?"), (tenant_id, session_id)
    ).fetchone()
    if exists is not None:
        return
    if user_id is None:
        raise InvalidInput(f"session {session_id} is new, and a new session needs a user_id")
    ensure_user(d, conn, tenant_id, user_id, now)
    conn.execute(
        d.sql(
            f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, '{{}}', ?) ON CONFLICT DO NOTHING"
        ),
        (session_id, tenant_id, space_id, user_id, d.time(now)),
    )


def get_session(d: Dialect, conn: Connection, tenant_id: str, session_id: str) -> Session:
    statement = f"SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = ? AND id = ?"
    return d.get(conn, Session, statement, (tenant_id, session_id), f"session {session_id} not found")


def list_sessions(
    d: Dialect, conn: Connection, tenant_id: str, user_id: str | None, cursor: str | None, limit: int
) -> Page:
    """Sessions newest first (``created_at``, then id)."""
    after = decode_cursor("sessions", cursor, 2)
    where = "tenant_id = ?"
    params: list[Any] = [tenant_id]
    if user_id is not None:
        where += " AND user_id = ?"
        params.append(user_id)
    if after is not None:
        where += f" AND (created_at, id) < ({d.cursor_time}, ?)"
        params.extend(after)
    statement = (
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE {where} ORDER BY created_at DESC, id DESC LIMIT ?"
    )
    sessions = [d.model(Session, row) for row in conn.execute(d.sql(statement), (*params, limit + 1))]
    if len(sessions) <= limit:
        return Page(items=sessions)
    last = sessions[limit - 1]
    return Page(
        items=sessions[:limit], next_cursor=encode_cursor("sessions", (encode_time(last.created_at), last.id))
    )


def ensure_people(d: Dialect, conn: Connection, job: Job, events: list[Event]) -> None:
    """Users and sessions the submission names, each looked at once (a batch names few of them)."""
    seen: set[tuple[str | None, str | None]] = set()
    if job.user_id is not None:
        ensure_user(d, conn, job.tenant_id, job.user_id, job.created_at)
        seen.add((job.user_id, None))
    for event in events:
        if (event.user_id, event.session_id) in seen:
            continue
        seen.add((event.user_id, event.session_id))
        if event.user_id is not None:
            ensure_user(d, conn, job.tenant_id, event.user_id, event.created_at)
        if event.session_id is not None:
            ensure_session(
                d,
                conn,
                job.tenant_id,
                event.session_id,
                event.space_id,
                event.user_id,
                event.created_at,
            )
