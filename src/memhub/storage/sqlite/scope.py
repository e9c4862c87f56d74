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
from typing import Any

from memhub.core.filters import Filter, matches
from memhub.core.models import Scope

from ..sql.codec import decode_json
from .rows import placeholders

FILTER_FUNCTION = "memhub_filter"


def scope_condition(scope: Scope) -> tuple[str, list[Any]]:
    """``WHERE`` text and parameters selecting the scope's memories (alias ``m``)."""
    clauses = ["m.tenant_id = ?"]
    params: list[Any] = [scope.tenant_id]
    if scope.space_ids is not None:
        clauses.append(f"m.space_id IN ({placeholders(len(scope.space_ids))})")
        params.extend(scope.space_ids)
    if scope.user_id is not None:
        clauses.append("m.user_id = ?")
        params.append(scope.user_id)
    if scope.session_id is not None:
        clauses.append("m.session_id = ?")
        params.append(scope.session_id)
    if scope.kinds is not None:
        clauses.append(f"m.kind IN ({placeholders(len(scope.kinds))})")
        params.extend(kind.value for kind in scope.kinds)
    if scope.core is not None:
        clauses.append("m.core = ?")
        params.append(int(scope.core))
    if not scope.include_superseded:
        clauses.append("m.superseded_by IS NULL")
    return " AND ".join(clauses), params


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
