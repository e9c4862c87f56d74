"""PostgreSQL connections: a psycopg 3 pool, one transaction per store call, errors in the core's words.

Why a pool: the HTTP server runs requests on many threads and a psycopg connection serves one
transaction at a time; a pool hands each call its own connection and bounds how many the server holds
(``pool_max`` in the URL, default 10). Every connection is set up the same way (``_configure``): UTC
session time zone, so ``timestamptz`` values come back as UTC datetimes, and pgvector's binary types.

Transactions are PostgreSQL's default READ COMMITTED; the places that need more say so with row locks
(``FOR UPDATE``, ``FOR UPDATE SKIP LOCKED`` in the job queue). Two transactions can still deadlock or
fail serialisation (two workers creating the same users in opposite orders); those errors roll back
everything, so the call is simply run again, up to :data:`RETRIES` times.

Errors: a server that cannot be reached, or stops answering, is :class:`Unavailable` (a 503 upstream);
a server whose disk is full is :class:`StorageFull` (507, as on SQLite: the worker then backs off
instead of failing jobs); text PostgreSQL cannot store (a NUL character) is :class:`InvalidInput` —
never a 500.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from pgvector.psycopg import register_vector
from psycopg import errors as pg_errors
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from memhub.core.errors import Conflict, InvalidInput, StorageFull, Unavailable

Conn = psycopg.Connection[DictRow]
T = TypeVar("T")

RETRIES = 3
"""Attempts for a transaction that hit a deadlock or a serialisation failure."""

CHECKOUT_WAIT = 5.0
"""Longest wait for a pooled connection in a store call (``pool_timeout`` if shorter): with PostgreSQL
down, a request answers 503 + ``Retry-After`` after this, not after the pool's opening timeout."""

PING_WAIT = 1.0
"""Readiness waits less than a request: a probe must answer before the prober gives up."""

_OUR_OPTIONS = {"pool_min": 1, "pool_max": 10, "pool_timeout": 30}
_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}


def parse_postgres_url(url: str) -> tuple[str, dict[str, int]]:
    """The libpq conninfo URI and memhub's own pool options (``pool_min``, ``pool_max``, ``pool_timeout``).

    ``postgresql+psycopg://`` (SQLAlchemy's spelling) is accepted and rewritten to ``postgresql://``.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in _SCHEMES:
        raise InvalidInput(f"not a PostgreSQL URL: {url!r} (expected postgresql://user@host/dbname)")
    options = dict(_OUR_OPTIONS)
    kept: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in options:
            kept.append((key, value))
        elif value.isdigit() and int(value) > 0:
            options[key] = int(value)
        else:
            raise InvalidInput(f"{key} in the database URL must be a positive whole number")
    if options["pool_min"] > options["pool_max"]:
        raise InvalidInput("pool_min in the database URL must not exceed pool_max")
    conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(kept), parts.fragment))
    return conninfo, options


def connect(conninfo: str) -> Conn:
    """One connection outside the pool (migrations run on it before the pool exists)."""
    try:
        conn = psycopg.connect(conninfo, row_factory=dict_row, autocommit=True)
    except psycopg.OperationalError as exc:
        raise Unavailable(f"cannot connect to PostgreSQL: {_first_line(exc)}") from exc
    conn.execute("SET TIME ZONE 'UTC'")
    return conn


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    register_vector(conn)
    conn.commit()


class Database:
    """The pool, and :meth:`run` to execute one function in one transaction."""

    def __init__(self, conninfo: str, options: dict[str, int]) -> None:
        self._timeout = float(options["pool_timeout"])
        self._wait = min(self._timeout, CHECKOUT_WAIT)
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            conninfo,
            min_size=options["pool_min"],
            max_size=options["pool_max"],
            kwargs={"row_factory": dict_row},
            configure=_configure,
            # A pooled connection is checked (one round trip) before it is handed out: after a restart
            # of PostgreSQL, idle connections are dead, and each would otherwise fail one request.
            check=ConnectionPool.check_connection,
            open=False,
            timeout=self._timeout,
            name="memhub",
        )
        try:
            self._pool.open(wait=True, timeout=self._timeout)
        except PoolTimeout as exc:
            raise Unavailable("cannot connect to PostgreSQL: the pool could not open a connection") from exc

    def run(self, work: Callable[[Conn], T]) -> T:
        """``work(conn)`` inside a transaction, retried on deadlock / serialisation failure."""
        for attempt in range(RETRIES):
            try:
                with self._connection() as conn, conn.transaction():
                    return work(conn)
            except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure):
                if attempt == RETRIES - 1:
                    raise Unavailable("the database is busy (conflicting writes); retry later") from None
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def _connection(self) -> Iterator[Conn]:
        try:
            with _translated_errors(), self._pool.connection(timeout=self._wait) as conn:
                yield conn
        except PoolTimeout as exc:
            raise Unavailable("no PostgreSQL connection free in time; retry later") from exc

    def ping(self) -> None:
        """One query on a pooled connection, waiting at most :data:`PING_WAIT` for it (readiness)."""
        try:
            with _translated_errors(), self._pool.connection(timeout=PING_WAIT) as conn:
                conn.execute("SELECT 1").fetchall()
        except PoolTimeout as exc:
            raise Unavailable("PostgreSQL cannot be reached; retry later") from exc

    def close(self) -> None:
        self._pool.close()


@contextmanager
def _translated_errors() -> Iterator[None]:
    try:
        yield
    except pg_errors.UniqueViolation as exc:
        # the pre-checks saw no such row, but a concurrent transaction committed one meanwhile
        raise Conflict(f"that id or name is already in use ({_constraint(exc)})") from exc
    except psycopg.DataError as exc:
        if "0x00" in str(exc) or "null character" in str(exc).lower():
            raise InvalidInput("text must not contain NUL (\\u0000) characters") from exc
        raise InvalidInput(f"a value cannot be stored: {_first_line(exc)}") from exc
    except UnicodeEncodeError as exc:
        raise InvalidInput("text must be valid Unicode (an unpaired surrogate was sent)") from exc
    except pg_errors.DiskFull as exc:
        # the transaction is rolled back, so nothing of the call was written
        raise StorageFull(
            "PostgreSQL's disk is full: nothing was written; free space on the database server"
        ) from exc
    except psycopg.OperationalError as exc:
        if isinstance(exc, (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)):
            raise
        raise Unavailable(f"PostgreSQL is unavailable: {_first_line(exc)}") from exc


def _constraint(exc: pg_errors.UniqueViolation) -> str:
    return exc.diag.constraint_name or "unique constraint"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
