"""Online backup and offline restore of the SQLite store, through SQLite's own backup API.

Why the backup API rather than copying the file: the store runs in WAL mode, so the newest committed
transactions may live only in ``memhub.db-wal``; a plain ``cp`` of ``memhub.db`` while the server writes
can copy a torn or stale file. ``sqlite3.Connection.backup`` copies pages under one read transaction
(``pages=-1``: all in a single step), so the copy is exactly the database as of one commit — every
acknowledged write before it, none half-way — while the server keeps reading and writing (WAL readers
never block writers). The copy goes to ``DEST.partial`` first, is checked (``PRAGMA integrity_check``)
and switched to a self-contained rollback-journal file, then renamed into place: a crash mid-backup
never leaves a file at DEST that looks complete.

Restore is the reverse, and it is *offline*: replacing a store under a running server would pull data
from under it. :func:`restore_sqlite` opens the target with ``locking_mode=EXCLUSIVE``, which SQLite only
grants in WAL mode when no other process has the database open (a running ``memhub serve`` or
``memhub worker`` always does), so a store in use is refused, not clobbered.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from memhub.core.errors import Conflict, InvalidInput

from ..private import private_file
from .db import parse_sqlite_url

REQUIRED_TABLES = frozenset({"tenants", "api_keys", "events", "memories", "jobs"})
"""Tables every memhub store has: a file without them is not a memhub store (restore refuses it)."""


@dataclass(frozen=True)
class BackupReport:
    """What a backup or restore did: the file written, its size, and how many events it holds."""

    path: Path
    size_bytes: int
    events: int
    replaced: bool = False


def sqlite_path(url: str) -> Path:
    """The database file of a ``sqlite:///`` store URL (:class:`InvalidInput` for other stores)."""
    path, _options = parse_sqlite_url(url)
    return path


def backup_sqlite(url: str, dest: Path, *, overwrite: bool = False) -> BackupReport:
    """Copy the live store at ``url`` to ``dest`` consistently, while other processes keep writing."""
    source = sqlite_path(url)
    if not source.exists():
        raise InvalidInput(f"no memhub store at {source}")
    if dest.exists() and not overwrite:
        raise Conflict(f"{dest} already exists; choose another name or pass --force to replace it")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)  # a backup holds every tenant's memories: owner-only, like the store
    with (
        contextlib.closing(_connect(f"file:{source}?mode=ro")) as src,
        contextlib.closing(_connect(str(partial))) as out,
    ):
        src.backup(out, pages=-1)  # one step = one read transaction = one consistent snapshot
        out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        events = _check(out, partial)
    _fsync(partial)
    os.replace(partial, dest)
    return BackupReport(dest, dest.stat().st_size, events)


def restore_sqlite(src: Path, url: str, *, force: bool = False) -> BackupReport:
    """Replace the store at ``url`` with the backup ``src``; refused while any process has it open."""
    if not src.is_file():
        raise InvalidInput(f"no backup file at {src}")
    with contextlib.closing(_connect(f"file:{src}?mode=ro")) as backup:
        _check(backup, src)
        target = sqlite_path(url)
        existed = target.exists()
        if existed and not force:
            raise Conflict(f"a store already exists at {target}; pass --force to replace it with {src}")
        private_file(target)
        with contextlib.closing(_connect(str(target))) as out:
            _lock_exclusively(out, target)
            backup.backup(out, pages=-1)
            out.execute("PRAGMA journal_mode=WAL")  # what the server expects to find
            events = _check(out, target)
    return BackupReport(target, target.stat().st_size, events, replaced=existed)


def _connect(target: str) -> sqlite3.Connection:
    uri = target.startswith("file:")
    return sqlite3.connect(target, uri=uri, isolation_level=None, timeout=0.2, check_same_thread=False)


def _lock_exclusively(conn: sqlite3.Connection, path: Path) -> None:
    """Hold the database exclusively, or raise :class:`Conflict` if another process has it open."""
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("COMMIT")  # in EXCLUSIVE locking mode the lock outlives the transaction
    except sqlite3.OperationalError as exc:
        raise Conflict(
            f"the store at {path} is in use ({exc}); stop memhub serve / memhub worker before restoring"
        ) from None


def _check(conn: sqlite3.Connection, path: Path) -> int:
    """Integrity-check a copy and confirm it is a memhub store; returns its number of events."""
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{path} is not a readable SQLite database: {exc}") from None
    if verdict != ("ok",):
        raise InvalidInput(f"{path} failed SQLite's integrity check: {verdict[0] if verdict else '?'}")
    missing = REQUIRED_TABLES - tables
    if missing:
        raise InvalidInput(f"{path} is not a memhub store (no table {', '.join(sorted(missing))})")
    count: int = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    return count


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
