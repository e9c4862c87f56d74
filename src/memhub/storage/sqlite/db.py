"""SQLite connections: one writer behind a lock, one reader per thread, WAL in between.

Why this shape (datasette's): SQLite allows one writer at a time per *file*, across processes, while
WAL lets any number of readers run beside it on a consistent snapshot. So writes in this process go
through a single connection guarded by a :class:`threading.Lock` (no two threads interleave statements
of one transaction), and every thread reads on a connection of its own (``sqlite3`` connections must
not be shared by threads that use them at the same time).

Transactions:

- writes start with ``BEGIN IMMEDIATE``: the file's write lock is taken up front, so a transaction never
  fails half-way trying to upgrade a read lock while another *process* writes; waiting is bounded by
  ``busy_timeout`` and a timeout surfaces as :class:`~memhub.core.errors.Unavailable`;
- reads that need several statements run inside ``BEGIN`` … ``COMMIT`` so they see one snapshot.

The file must be on a local filesystem: WAL coordinates processes through shared memory (``-shm``).

Durability: ``journal_mode=WAL`` with ``synchronous=NORMAL``. A committed transaction has been written
to the WAL file (in the OS page cache) before ``COMMIT`` returns, so it survives the process being
killed (``kill -9``, OOM); what NORMAL gives up is the fsync on every commit, i.e. the last transactions
may be lost on *power loss or kernel crash* (the file is never corrupted). That is the usual trade for
a self-hosted server; ``?synchronous=full`` in the store URL buys the fsync per commit instead.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from memhub.core.errors import InvalidInput, Unavailable

SYNCHRONOUS_MODES = ("normal", "full")


@dataclass(frozen=True)
class DbOptions:
    """How connections are opened. ``busy_timeout_ms`` bounds waiting for another process's write."""

    synchronous: str = "normal"
    busy_timeout_ms: int = 5000


def parse_sqlite_url(url: str) -> tuple[Path, DbOptions]:
    """``sqlite:///relative/file.db`` or ``sqlite:////absolute/file.db`` (SQLAlchemy's convention: the path
    is everything after the third slash), with optional ``?synchronous=full&busy_timeout_ms=10000``."""
    parts = urlsplit(url)
    path = unquote(parts.path[1:])
    if parts.scheme != "sqlite" or parts.netloc or not path or path == ":memory:":
        raise InvalidInput(f"not a SQLite file URL: {url!r} (expected sqlite:///path/to/memhub.db)")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"synchronous", "busy_timeout_ms"}
    if unknown:
        raise InvalidInput(f"unknown SQLite URL options: {', '.join(sorted(unknown))}")
    synchronous = query.get("synchronous", "normal").lower()
    if synchronous not in SYNCHRONOUS_MODES:
        raise InvalidInput(f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}")
    timeout = query.get("busy_timeout_ms", "5000")
    if not timeout.isdigit():
        raise InvalidInput("busy_timeout_ms must be a whole number of milliseconds")
    return Path(path), DbOptions(synchronous=synchronous, busy_timeout_ms=int(timeout))


class _Reader:
    """Holds one thread's read connection; when the thread ends, this and the connection are freed."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


class Database:
    """The file, its writer connection and the per-thread reader connections."""

    def __init__(self, path: Path, options: DbOptions) -> None:
        self.path = path
        self._options = options
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: weakref.WeakSet[_Reader] = weakref.WeakSet()
        self._closed = False
        self._writer = self._connect()
        mode = self._writer.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # e.g. a network filesystem without shared memory
            self._writer.close()
            raise Unavailable(f"{path} cannot be used in WAL mode (journal mode stays {mode!r})")
        self._writer.execute(f"PRAGMA synchronous={options.synchronous.upper()}")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,  # the writer is shared under a lock; readers are closed by close()
            timeout=self._options.busy_timeout_ms / 1000,
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={int(self._options.busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @contextmanager
    def writer(self) -> Iterator[sqlite3.Connection]:
        """The writer, under the lock but outside any transaction: for steps that run their own
        transactions (migrations)."""
        with self._write_lock:
            self._check_open()
            yield self._writer

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back if the block raises."""
        with self._write_lock:
            self._check_open()
            conn = self._writer
            with _busy_as_unavailable():
                conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                with _busy_as_unavailable():
                    conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction on this thread's connection: every statement sees the same snapshot."""
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            with _busy_as_unavailable():
                yield conn
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")

    def _reader(self) -> sqlite3.Connection:
        self._check_open()
        holder: _Reader | None = getattr(self._local, "reader", None)
        if holder is None:
            holder = _Reader(self._connect())
            self._local.reader = holder
            self._readers.add(holder)
        return holder.conn

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable("the store is closed")

    def close(self) -> None:
        """Close the writer and every reader. Idempotent."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            for holder in list(self._readers):
                holder.conn.close()
            self._writer.close()


@contextmanager
def _busy_as_unavailable() -> Iterator[None]:
    """Another process holding the write lock past ``busy_timeout`` is an outage, not a bug."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            raise Unavailable("the database is busy (another writer holds it); retry later") from exc
        raise
