"""The store's own settings (``store_settings``): reading the keyword analyser a store was indexed with,
and switching to another one once, the same way on both stores.

Each store re-analyses its chunks its own way (SQLite in SQL through a registered Python function,
PostgreSQL in batches from Python) and locks writers out its own way (``BEGIN IMMEDIATE``, an advisory
lock); what is shared is the decision: nothing to do, the usual case, without taking any lock; else take
the lock and look again, since another process opening the same store may have just done it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from .dialect import Connection

ANALYSER_KEY = "keyword_analyser"
"""The ``store_settings`` row naming the analyser (``analysis.py``) the chunks' keyword text was made by."""


def keyword_analyser(conn: Connection) -> str | None:
    """The analyser the store's keyword index was built with (None before it was recorded)."""
    row = conn.execute(f"SELECT value FROM store_settings WHERE key = '{ANALYSER_KEY}'").fetchone()
    return None if row is None else str(_only_column(row))


def use_analyser(
    conn: Connection,
    name: str,
    exclusive: Callable[[], AbstractContextManager[object]],
    reanalyse: Callable[[], None],
) -> bool:
    """Run ``reanalyse`` inside ``exclusive()`` (a transaction that keeps other writers out) unless the
    store already uses the analyser ``name``; True if it ran. ``reanalyse`` records ``name``."""
    if keyword_analyser(conn) == name:  # the usual case: no lock taken
        return False
    with exclusive():
        if keyword_analyser(conn) == name:  # another process did it meanwhile
            return False
        reanalyse()
    return True


def _only_column(row: Any) -> Any:
    """A one-column row's value, by position or (psycopg's dict rows) by its only key."""
    return next(iter(row.values())) if isinstance(row, Mapping) else row[0]
