"""A :class:`~memhub.core.models.Scope` as an SQL condition on ``memories m``, for both stores.

Metadata filters are not here: SQLite evaluates them by calling the core's own ``matches`` from SQL,
PostgreSQL translates them to ``jsonb`` expressions (each store's ``scope.py``).
"""

from __future__ import annotations

from typing import Any

from memhub.core.models import Scope

from .dialect import Dialect


def scope_condition(d: Dialect, scope: Scope) -> tuple[str, list[Any]]:
    """``WHERE`` text (in the driver's placeholder style) and parameters selecting the scope's memories."""
    clauses = ["m.tenant_id = ?"]
    params: list[Any] = [scope.tenant_id]
    equal = (("m.user_id", scope.user_id), ("m.session_id", scope.session_id))
    kinds = None if scope.kinds is None else [kind.value for kind in scope.kinds]
    for column, value in (("m.space_id", scope.space_ids), *equal, ("m.kind", kinds), ("m.core", scope.core)):
        if value is None:
            continue
        if isinstance(value, list):
            condition, values = d.any_of(column, value)
        else:
            condition, values = f"{column} = ?", [value]
        clauses.append(condition)
        params.extend(values)
    if not scope.include_superseded:
        clauses.append("m.superseded_by IS NULL")
    return d.sql(" AND ".join(clauses)), params
