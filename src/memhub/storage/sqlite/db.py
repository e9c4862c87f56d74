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

import shutil
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from memhub.core.errors import InvalidInput, StorageFull, Unavailable

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
        self._disk_was_full = False
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
        # Freed pages are zeroed, so deleted text does not linger in the file's free pages.
        conn.execute("PRAGMA secure_delete=ON")
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
            if self._disk_was_full:
                self._give_back_wal()
            try:
                with store_errors():
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        yield conn
                        conn.execute("COMMIT")
                    except BaseException:
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        raise
            except StorageFull:
                self._disk_was_full = True
                raise

    def _give_back_wal(self) -> None:
        """Since the disk last filled up, copy the WAL into the file and truncate it before each write.

        Below ``wal_autocheckpoint`` (1,000 pages) every commit appends each page it touched to the WAL
        again, and the WAL file keeps its size: on a disk that filled up it holds many copies of the
        same pages (3 MiB disk: 424 frames of 112 pages, 1.7 MB a checkpoint turns into 0.3 MB of file
        growth; ``docs/decisions/full-disk.md``), and freed space went to more copies until the disk was
        full again. This fails while the disk is still full (the file cannot grow) and is retried on the
        next write; the store leaves this mode once :data:`LOW_SPACE_BYTES` are free again."""
        try:
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            free = shutil.disk_usage(self.path.parent).free
        except (sqlite3.OperationalError, OSError):
            return
        self._disk_was_full = free < LOW_SPACE_BYTES

    def checkpoint(self) -> None:
        """Copy the WAL into the file and truncate it (after a forget: the WAL holds the deleted rows'
        pages as they were until later writes overwrite them). Waits for readers up to
        ``busy_timeout``; a reader of another process that stays longer leaves the WAL as it is."""
        with self._write_lock:
            self._check_open()
            with store_errors():
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction on this thread's connection: every statement sees the same snapshot."""
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            with store_errors():
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

    def check_ready(self) -> None:
        """A read on this thread's connection, and room left on the file's disk (:data:`MIN_FREE_BYTES`)."""
        with self.read() as conn:
            conn.execute("SELECT 1 FROM meta LIMIT 1").fetchall()
        try:
            free = shutil.disk_usage(self.path.parent).free
        except OSError as exc:
            raise Unavailable(f"the store's folder cannot be read ({exc.strerror})") from exc
        if free < MIN_FREE_BYTES:
            raise StorageFull(f"the store's disk is full ({free} bytes free); free some space")


MIN_FREE_BYTES = 1 << 20
"""Below this much free space on the store's disk, the server reports itself not ready."""

LOW_SPACE_BYTES = 8 << 20
"""After a full disk, each write checkpoints the WAL first until this much is free: twice the WAL that
SQLite keeps by itself (``wal_autocheckpoint``, 1,000 pages of 4 KiB), so its copies cannot fill it again."""


@contextmanager
def store_errors() -> Iterator[None]:
    """SQLite's operational failures in the core's words, never a 500: another process holding the write
    lock past ``busy_timeout`` or a failing disk is an outage (503), a full disk is :class:`StorageFull`
    (507); both roll the transaction back, so nothing was written."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            raise Unavailable("the database is busy (another writer holds it); retry later") from exc
        if "full" in text:
            raise StorageFull("the store's disk is full: nothing was written; free some space") from exc
        if any(reason in text for reason in ("disk i/o", "readonly", "read-only", "unable to open")):
            raise Unavailable(f"the store cannot be written ({exc}); check its disk") from exc
        raise
