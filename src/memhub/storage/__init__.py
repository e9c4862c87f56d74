"""Store backends. :func:`open_store` picks one by URL scheme; ``runtime.py`` is its only caller.

- ``sqlite:///relative/memhub.db`` / ``sqlite:////absolute/memhub.db``: the embedded store (default);
- ``postgresql://user:password@host:5432/dbname``: PostgreSQL + pgvector (``pip install "memhub[postgres]"``);
  psycopg is imported only then, so the default install does not need it.
"""

from __future__ import annotations

from pathlib import Path

from memhub.core.errors import InvalidInput
from memhub.core.ports import Store

from .sql.analysis import KeywordAnalyser
from .sqlite.backup import BackupReport, backup_sqlite, restore_sqlite
from .sqlite.store import SqliteStore

__all__ = ["BackupReport", "SqliteStore", "backup_store", "open_store", "restore_store"]

_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def open_store(url: str, keyword_stemmer: str = "english") -> Store:
    """The store a URL names, indexing keywords with ``keyword_stemmer`` (``sql/analysis.py``);
    :class:`InvalidInput` saying what is supported otherwise."""
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        return SqliteStore.from_url(url, KeywordAnalyser(keyword_stemmer))
    if scheme in _POSTGRES_SCHEMES:
        return _open_postgres(url, KeywordAnalyser(keyword_stemmer))
    raise InvalidInput(
        f"unsupported store URL {url!r}: expected sqlite:///path/to/memhub.db or postgresql://host/dbname"
    )


def _open_postgres(url: str, analyser: KeywordAnalyser) -> Store:
    try:
        from .postgres.store import PostgresStore
    except ImportError as exc:  # the optional extra is not installed
        raise InvalidInput(
            f'PostgreSQL support needs extra packages ({exc.name} is missing): pip install "memhub[postgres]"'
        ) from exc
    return PostgresStore.from_url(url, analyser)


def backup_store(url: str, dest: Path, *, overwrite: bool = False) -> BackupReport:
    """A consistent copy of the (possibly running) store at ``url`` written to the file ``dest``."""
    _require_sqlite(url, "backup")
    return backup_sqlite(url, dest, overwrite=overwrite)


def restore_store(src: Path, url: str, *, force: bool = False) -> BackupReport:
    """Replace the store at ``url`` (not in use by any process) with the backup file ``src``."""
    _require_sqlite(url, "restore")
    return restore_sqlite(src, url, force=force)


def _require_sqlite(url: str, what: str) -> None:
    if url.partition(":")[0].lower() != "sqlite":
        raise InvalidInput(f"memhub {what} handles SQLite stores; back up PostgreSQL with pg_dump")
