"""Store backends. :func:`open_store` picks one by URL scheme; ``runtime.py`` is its only caller.

- ``sqlite:///relative/memhub.db`` / ``sqlite:////absolute/memhub.db``: the embedded store (default);
- ``postgresql://…``: PostgreSQL + pgvector — not part of this build yet.
"""

from __future__ import annotations

from memhub.core.errors import InvalidInput
from memhub.core.ports import Store

from .sqlite import SqliteStore

__all__ = ["SqliteStore", "open_store"]

_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def open_store(url: str) -> Store:
    """The store a URL names; :class:`InvalidInput` saying what is supported otherwise."""
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        return SqliteStore.from_url(url)
    if scheme in _POSTGRES_SCHEMES:
        raise InvalidInput(
            "PostgreSQL storage is not available in this build yet; use sqlite:///path/to/memhub.db"
        )
    raise InvalidInput(f"unsupported store URL {url!r}: expected sqlite:///path/to/memhub.db")
