"""A :class:`~memhub.core.models.Scope` and a metadata filter as SQL conditions on ``memories m``.

The SQLite store evaluates filters by calling :func:`~memhub.core.filters.matches` from SQL; PostgreSQL
cannot call into Python, so here the filter tree is translated to ``jsonb`` expressions, rule for rule
the semantics of ``core/filters.py`` (``tests/storage/test_postgres_filters.py`` checks the translation
against ``matches`` on the same documents, so the two definitions cannot drift unnoticed):

- a path is looked up key by key with ``->`` and a *text* key, which yields NULL on arrays and scalars:
  only objects are descended, like ``_lookup``; NULL is "missing" (JSON ``null`` is the jsonb ``'null'``);
- equality is ``jsonb`` equality, which keeps ``true`` and ``1`` apart (like ``_same``) and compares
  numbers by value (``1 = 1.0``); a scalar or object operand also matches an array field holding it,
  at any depth of nested arrays (a recursive CTE over array members);
- ``$gt``/``$gte``/``$lt``/``$lte`` compare numbers with numbers and strings with strings (in code point
  order: ``COLLATE "C"`` on UTF-8), and are false for any other pairing, booleans included;
- every condition is made two-valued (``coalesce(…, false)``), so ``$not``, ``$ne`` and ``$nin`` are
  true for a missing key, as in Python.
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from memhub.core.filters import And, Condition, Filter, Not, Or

Params = list[Any]


def filter_condition(flt: Filter | None, params: Params) -> str:
    """`` AND <condition>`` for ``flt`` ('' if None), appending its parameters to ``params``."""
    if flt is None:
        return ""
    return " AND " + _node(flt, params)


def _node(flt: Filter, params: Params) -> str:
    if isinstance(flt, And):
        return "(" + " AND ".join(_node(p, params) for p in flt.parts) + ")"
    if isinstance(flt, Or):
        return "(" + " OR ".join(_node(p, params) for p in flt.parts) + ")"
    if isinstance(flt, Not):
        return f"(NOT {_node(flt.part, params)})"
    return f"coalesce({_condition(flt, params)}, false)"


def _path(path: tuple[str, ...], params: Params) -> str:
    params.extend(path)
    return "m.metadata" + "".join(" -> %s::text" for _ in path)


def _condition(cond: Condition, params: Params) -> str:
    if cond.op == "exists":
        value = _path(cond.path, params)
        return f"({value} IS {'NOT ' if cond.value else ''}NULL)"
    if cond.op == "eq":
        return _same(cond.path, cond.value, params)
    if cond.op == "in":
        return _any_same(cond.path, cond.value, params)
    if cond.op in ("ne", "nin"):
        missing = _path(cond.path, params)  # first: its placeholders come first in the text
        values = [cond.value] if cond.op == "ne" else cond.value
        return f"({missing} IS NULL OR NOT {_any_same(cond.path, values, params)})"
    return _compare(cond, params)


def _any_same(path: tuple[str, ...], values: list[Any], params: Params) -> str:
    if not values:
        return "false"
    return "(" + " OR ".join(_same(path, v, params) for v in values) + ")"


def _same(path: tuple[str, ...], value: Any, params: Params) -> str:
    """``_same(actual, value)`` as SQL: NULL (→ false) when the key is missing.

    Parameters are appended in the order their placeholders appear in the returned text.
    """
    if isinstance(value, list):  # a list only equals a list (core's _same); a scalar may be a member
        actual = _path(path, params)
        params.append(Jsonb(value))
        return f"({actual} = %s::jsonb)"
    equal = f"{_path(path, params)} = %s::jsonb"
    params.append(Jsonb(value))
    typeof = _path(path, params)
    actual = _path(path, params)
    params.append(Jsonb(value))
    # Every value reachable from the field through arrays only (its members, their members…), since
    # _same lets a list match any member, recursively; objects are not descended. The CASE keeps the
    # recursive query off the common case, a scalar field.
    members = (
        f"CASE WHEN jsonb_typeof({typeof}) = 'array' THEN EXISTS (WITH RECURSIVE node(v) AS ("
        f"SELECT {actual} UNION ALL SELECT e.v FROM node"
        " CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(node.v) = 'array'"
        " THEN node.v ELSE '[]'::jsonb END) AS e(v)) SELECT 1 FROM node WHERE node.v = %s::jsonb)"
        " ELSE false END"
    )
    return f"({equal} OR {members})"


_SQL_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _compare(cond: Condition, params: Params) -> str:
    op = _SQL_OPS[cond.op]
    if isinstance(cond.value, str):
        typeof = _path(cond.path, params)
        text = _path(cond.path, params)
        params.append(cond.value)
        return f"(jsonb_typeof({typeof}) = 'string' AND ({text} #>> '{{}}') COLLATE \"C\" {op} %s)"
    typeof = _path(cond.path, params)
    number = _path(cond.path, params)
    params.append(cond.value)
    return (
        f"(CASE WHEN jsonb_typeof({typeof}) = 'number'"
        f" THEN ({number})::numeric {op} %s::numeric ELSE false END)"
    )
