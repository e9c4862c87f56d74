"""Metadata filters: a small typed expression tree, parsed from JSON and evaluated in Python.

The native JSON form is a dict. Plain ``{"key": value}`` pairs mean equality and are ANDed; a value may
instead be an operator dict (``{"$in": [...]}``, ``$ne``, ``$nin``, ``$gt``, ``$gte``, ``$lt``,
``$lte``, ``$exists``, ``$contains``, ``$icontains``); ``$and`` / ``$or`` take lists of filters and
``$not`` one filter. Keys may be dotted paths into nested metadata (``"project.name"``).

Stores may translate the tree to their query language; every store can fall back to :func:`matches`,
so the semantics are defined once, here. Protocol adapters with their own filter syntax (GoodMem's
expressions) parse into this same tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union

from .errors import InvalidInput

Op = Literal["eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "exists", "contains", "icontains"]
_OPS: dict[str, Op] = {
    "$eq": "eq",
    "$ne": "ne",
    "$in": "in",
    "$nin": "nin",
    "$gt": "gt",
    "$gte": "gte",
    "$lt": "lt",
    "$lte": "lte",
    "$exists": "exists",
    "$contains": "contains",  # a string field holds the text, or a list field holds the value
    "$icontains": "icontains",  # a string field (or a string member of a list) holds the text, any case
}
_MISSING = object()


@dataclass(frozen=True)
class Condition:
    """``metadata[path] <op> value``."""

    path: tuple[str, ...]
    op: Op
    value: Any


@dataclass(frozen=True)
class And:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    part: Filter


Filter = Union[Condition, And, Or, Not]


def parse_filter(raw: Mapping[str, Any] | None) -> Filter | None:
    """Parse the JSON form; raise :class:`InvalidInput` saying what is wrong. ``None``/``{}`` → None."""
    if raw is None or len(raw) == 0:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidInput("filters must be a JSON object")
    return _parse_object(raw, depth=0)


def _parse_object(raw: Mapping[str, Any], depth: int) -> Filter:
    if depth > 16:
        raise InvalidInput("filters are nested too deeply (max 16 levels)")
    parts: list[Filter] = []
    for key, value in raw.items():
        if key in ("$and", "$or"):
            parts.append(_parse_group(key, value, depth))
        elif key == "$not":
            if not isinstance(value, Mapping):
                raise InvalidInput("$not takes one filter object")
            parts.append(Not(_parse_object(value, depth + 1)))
        elif key.startswith("$"):
            raise InvalidInput(f"unknown filter operator {key!r} at the top level")
        else:
            parts.extend(_parse_field(key, value))
    if not parts:
        raise InvalidInput("empty filter group")
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _parse_group(key: str, value: Any, depth: int) -> Filter:
    if not isinstance(value, list) or not value or not all(isinstance(v, Mapping) for v in value):
        raise InvalidInput(f"{key} takes a non-empty list of filter objects")
    members = tuple(_parse_object(v, depth + 1) for v in value)
    return And(members) if key == "$and" else Or(members)


def _parse_field(key: str, value: Any) -> list[Filter]:
    path = tuple(key.split("."))
    if any(not p for p in path):
        raise InvalidInput(f"bad metadata key {key!r}")
    if not (isinstance(value, Mapping) and value and all(str(k).startswith("$") for k in value)):
        return [Condition(path, "eq", value)]
    out: list[Filter] = []
    for op_name, operand in value.items():
        op = _OPS.get(op_name)
        if op is None:
            raise InvalidInput(f"unknown filter operator {op_name!r} on {key!r}")
        _check_operand(key, op, operand)
        out.append(Condition(path, op, operand))
    return out


def _check_operand(key: str, op: Op, operand: Any) -> None:
    if op in ("in", "nin") and not isinstance(operand, list):
        raise InvalidInput(f"${op} on {key!r} takes a list")
    if op in ("gt", "gte", "lt", "lte") and (
        isinstance(operand, bool) or not isinstance(operand, (int, float, str))
    ):
        raise InvalidInput(f"${op} on {key!r} takes a number or a string")
    if op == "icontains" and not isinstance(operand, str):
        raise InvalidInput(f"$icontains on {key!r} takes a string")
    if op == "exists" and not isinstance(operand, bool):
        raise InvalidInput(f"$exists on {key!r} takes true or false")


def matches(flt: Filter | None, metadata: Mapping[str, Any]) -> bool:
    """Whether ``metadata`` satisfies ``flt`` (None matches everything)."""
    if flt is None:
        return True
    if isinstance(flt, And):
        return all(matches(p, metadata) for p in flt.parts)
    if isinstance(flt, Or):
        return any(matches(p, metadata) for p in flt.parts)
    if isinstance(flt, Not):
        return not matches(flt.part, metadata)
    return _eval_condition(flt, _lookup(metadata, flt.path))


def _lookup(metadata: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = metadata
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _eval_condition(cond: Condition, actual: Any) -> bool:
    if cond.op == "exists":
        return (actual is not _MISSING) == bool(cond.value)
    if actual is _MISSING:
        return cond.op in ("ne", "nin")
    if cond.op == "eq":
        return _same(actual, cond.value)
    if cond.op == "ne":
        return not _same(actual, cond.value)
    if cond.op == "in":
        return any(_same(actual, v) for v in cond.value)
    if cond.op == "nin":
        return not any(_same(actual, v) for v in cond.value)
    if cond.op in ("contains", "icontains"):
        return _contains(actual, cond.value, cond.op == "icontains")
    return _compare(cond.op, actual, cond.value)


def _contains(actual: Any, needle: Any, fold: bool) -> bool:
    """Substring of a string field; for a list field, a member equal to it (``icontains``: a string
    member holding it in any case). Nested lists are not descended."""
    if isinstance(actual, str):
        if not isinstance(needle, str):
            return False
        return needle.lower() in actual.lower() if fold else needle in actual
    if isinstance(actual, list):
        if fold:
            return any(isinstance(x, str) and needle.lower() in x.lower() for x in actual)
        return any(not isinstance(x, list) and _same(x, needle) for x in actual)
    return False


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and not isinstance(b, list):
        return any(_same(x, b) for x in a)  # a list-valued field matches any of its members
    # JSON has no int/bool distinction problem in Python except True == 1: keep them apart.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _compare(op: Op, actual: Any, bound: Any) -> bool:
    numeric = (int, float)
    if isinstance(actual, bool) or isinstance(bound, bool):
        return False
    comparable = (isinstance(actual, numeric) and isinstance(bound, numeric)) or (
        isinstance(actual, str) and isinstance(bound, str)
    )
    if not comparable:
        return False
    if op == "gt":
        return bool(actual > bound)
    if op == "gte":
        return bool(actual >= bound)
    if op == "lt":
        return bool(actual < bound)
    return bool(actual <= bound)
