"""A :class:`~memhub.core.models.Scope` and a metadata filter as SQL conditions on ``memories m``.

The metadata filter is evaluated by the core's own :func:`~memhub.core.filters.matches`, registered as
the SQL function ``memhub_filter(metadata)`` for the duration of one query. Translating the filter tree
to ``json_extract`` would be faster, but it would be a second definition of the semantics (JSON
``true`` vs ``1``, list-valued fields matching any member, missing keys under ``$ne``), and the two would
drift. Evaluating inside SQL (rather than after it) keeps ``LIMIT`` and keyset cursors exact: a page is
full whenever enough matching rows exist.
"""

from __future__ import annotations

import sqlite3

from memhub.core.filters import Filter, matches

from ..sql.codec import decode_json

FILTER_FUNCTION = "memhub_filter"


def filter_condition(conn: sqlite3.Connection, flt: Filter | None) -> str:
    """Bind ``flt`` to ``memhub_filter`` on ``conn`` and return the condition to AND in ('' if none).

    Call it right before executing the query that uses it: the binding lasts until the next call on the
    same connection (connections are per thread, so no other query can see it meanwhile).
    """
    if flt is None:
        return ""

    def evaluate(metadata: str) -> bool:
        return matches(flt, decode_json(metadata))

    conn.create_function(FILTER_FUNCTION, 1, evaluate, deterministic=True)
    return f" AND {FILTER_FUNCTION}(m.metadata)"
