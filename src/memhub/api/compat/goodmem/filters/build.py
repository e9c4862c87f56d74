"""The memhub filter conditions a GoodMem predicate becomes, with SQL's NULL semantics.

GoodMem compiles filters to SQL, where a comparison with a missing value is NULL and filters the row out,
also under ``NOT`` and ``!=``; memhub's ``ne``/``nin`` match a missing key. So every ``ne``/``nin`` built
here is guarded with ``exists`` and ``NOT`` is pushed down to the leaves (:func:`negate`). The operands are
a metadata path (``val('$.a.b')``) or a literal; comparing two paths or two literals can't be expressed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from memhub.core.errors import InvalidInput
from memhub.core.filters import And, Condition, Filter, Not, Op, Or

from .tokens import number_value

_PATH_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(\[\*\])?")
_FLIP: dict[Op, Op] = {"lt": "gt", "lte": "gte", "gt": "lt", "gte": "lte"}
_NEGATE: dict[Op, Op] = {
    "eq": "ne",
    "ne": "eq",
    "in": "nin",
    "nin": "in",
    "gt": "lte",
    "lte": "gt",
    "lt": "gte",
    "gte": "lt",
}


@dataclass(frozen=True)
class MetaPath:
    """``val('$.a.b')``: a metadata path."""

    parts: tuple[str, ...]


@dataclass(frozen=True)
class Lit:
    """A literal value (string, number, boolean, null, or a list of those)."""

    value: Any


Operand = MetaPath | Lit


def cond(path: MetaPath, op: Op, value: Any) -> Filter:
    """A comparison that, like SQL, never matches a memory whose value at ``path`` is missing."""
    condition = Condition(path.parts, op, value)
    if op in ("ne", "nin"):
        return And((Condition(path.parts, "exists", True), condition))
    return condition


def negate(flt: Filter) -> Filter:
    """``NOT`` pushed to the leaves, keeping SQL's rule that a missing value never matches."""
    if isinstance(flt, And):
        return Or(tuple(negate(p) for p in flt.parts))
    if isinstance(flt, Or):
        return And(tuple(negate(p) for p in flt.parts))
    if isinstance(flt, Not):
        return flt.part
    if flt.op == "exists":
        return Condition(flt.path, "exists", not flt.value)
    return cond(MetaPath(flt.path), _NEGATE[flt.op], flt.value)


def parse_path(raw: Any, pos: int) -> MetaPath:
    if not isinstance(raw, str) or not raw.startswith("$."):
        raise InvalidInput(f"invalid filter expression: a path like '$.key' expected at position {pos}")
    parts = raw[2:].split(".")
    if not all(_PATH_PART.fullmatch(p) for p in parts):
        raise InvalidInput(
            f"invalid filter expression: unsupported JSON path {raw!r} at position {pos} "
            "(memhub supports $.key.sub and a trailing [*])"
        )
    return MetaPath(tuple(p.removesuffix("[*]") for p in parts))


def require_path(operand: Operand, pos: int) -> MetaPath:
    if not isinstance(operand, MetaPath):
        raise InvalidInput(f"invalid filter expression: val('$.path') expected at position {pos}")
    return operand


def compare(left: Operand, op: Op, right: Operand, pos: int) -> Filter:
    """``path op literal`` (or the mirror image); two paths or two literals can't be expressed."""
    if isinstance(left, Lit) and isinstance(right, MetaPath):
        left, right, op = right, left, _FLIP.get(op, op)
    path = require_path(left, pos)
    if not isinstance(right, Lit):
        raise InvalidInput(
            f"invalid filter expression: comparing two metadata paths (position {pos}) is not supported"
        )
    if right.value is None:
        raise InvalidInput(f"invalid filter expression: use IS NULL / IS NOT NULL (position {pos})")
    if isinstance(right.value, list) and op not in ("eq", "ne"):
        raise InvalidInput(
            f"invalid filter expression: an array can only be compared with = (position {pos})"
        )
    return cond(path, op, right.value)


def membership(left: Operand, values: list[Any], pos: int) -> Filter:
    """``path IN (...)``, or ``literal IN path`` (the array at path holds the literal)."""
    if isinstance(left, Lit):
        raise InvalidInput(
            f"invalid filter expression: '<value> IN <array>' needs a val() array (position {pos})"
        )
    if any(v is None for v in values):
        raise InvalidInput(f"invalid filter expression: NULL inside IN (...) at position {pos}")
    return cond(left, "in", values)


def contains(left: Operand, right: Operand, *, overlaps: bool, pos: int) -> Filter:
    """``tags CONTAINS 'a'`` / ``CONTAINS ['a','b']`` (all of them); ``OVERLAPS [...]`` (any of them).

    memhub's equality on a list-valued field matches any member, so containment of each element is an
    equality and an overlap is an ``in``.
    """
    path = require_path(left, pos)
    if not isinstance(right, Lit) or right.value is None:
        raise InvalidInput(f"invalid filter expression: a literal expected after CONTAINS/OVERLAPS ({pos})")
    values = right.value if isinstance(right.value, list) else [right.value]
    if not values:
        raise InvalidInput(f"invalid filter expression: empty array at position {pos}")
    if overlaps:
        return cond(path, "in", values)
    parts = tuple(cond(path, "eq", v) for v in values)
    return parts[0] if len(parts) == 1 else And(parts)


def cast_literal(value: Any, target: str) -> Any:
    if target in ("NUMERIC", "INTEGER", "FLOAT") and isinstance(value, str):
        try:
            return number_value(value.strip())
        except ValueError:
            raise InvalidInput(f"invalid filter expression: {value!r} is not a number") from None
    if target == "BOOLEAN" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if target in ("TEXT", "VARCHAR") and not isinstance(value, (str, list)) and value is not None:
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value
