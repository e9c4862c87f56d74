"""Looking at a store without changing it, for ``memhub doctor``: does it exist, which migrations ran.

:func:`open_store` migrates a store as it opens it, which is right for a server and wrong for a check
that must report what *would* happen. :func:`schema_status` reads the migrations table on a read-only
connection instead, and compares it with the steps this version of memhub knows.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from memhub.core.errors import NotSupported

from .sqlite.db import parse_sqlite_url
from .sqlite.schema import MIGRATIONS


@dataclass(frozen=True)
class SchemaStatus:
    """Where a store's schema stands. ``unknown``: steps recorded by a newer memhub than this one."""

    exists: bool
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def schema_status(url: str) -> SchemaStatus:
    """The schema status of the store at ``url`` (SQLite only; :class:`NotSupported` otherwise)."""
    if not url.lower().startswith("sqlite:"):
        raise NotSupported("schema inspection supports SQLite stores only")
    path, _options = parse_sqlite_url(url)
    known = [step.name for step in MIGRATIONS]
    if not path.exists():
        return SchemaStatus(exists=False, pending=known)
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        has_table = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
        ).fetchone()
        applied = [row[0] for row in conn.execute("SELECT name FROM migrations")] if has_table else []
    finally:
        conn.close()
    return SchemaStatus(
        exists=True,
        applied=applied,
        pending=[name for name in known if name not in applied],
        unknown=[name for name in applied if name not in known],
    )
