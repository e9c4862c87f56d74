"""GoodMem metadata filter expressions → memhub's filter tree (``memhub.core.filters``).

GoodMem filters are SQL-like strings over a memory's JSON metadata (spec §9), e.g.
``CAST(val('$.source') AS TEXT) = 'sdk-doc-test' AND exists('$.tags[*]')``. They are parsed here by a
small recursive-descent parser (precedence ``OR`` < ``AND`` < ``NOT`` < predicate) into the same tree
every other door uses, so one implementation (``core/filters.py``, or a store's translation of it)
decides what matches. Anything that cannot be parsed, or that the tree cannot express (``LIKE``,
``lower()``, ``EXTRACT``, arithmetic), is an :class:`InvalidInput` naming the position: a 400, never a 500.

Why the translation looks the way it does:

* **SQL NULL semantics.** GoodMem compiles filters to SQL, where a comparison with a missing value is
  NULL and filters the row out — also under ``NOT`` and ``!=``. memhub's ``ne``/``nin`` match a missing
  key, so every ``ne``/``nin`` is guarded with ``exists``, and ``NOT`` is pushed down to the leaves (De
  Morgan) instead of becoming a ``Not`` node, which would match rows where the value is missing.
* **CAST** only says how SQL should read a value: on a metadata path it is dropped (memhub compares JSON
  values as they are); on a literal it converts the literal (``CAST('2024-10-01' AS DATE)`` stays an ISO
  string, which orders correctly against ISO dates in metadata).
* **Arrays.** ``$.tags[*]`` addresses the array itself: memhub's equality matches any member of a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from memhub.core.errors import InvalidInput
from memhub.core.filters import And, Condition, Filter, Not, Op, Or

MAX_LENGTH = 10_000
MAX_DEPTH = 32

_TOKEN = re.compile(
    r"""\s+|--[^\n]*
    |(?P<str>'(?:[^'\\]|''|\\.)*')
    |(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op><=|>=|<>|!=|==|\|\||[=<>(),\[\]+\-*/%])""",
    re.VERBOSE,
)
_PATH_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(\[\*\])?")
_COMPARE: dict[str, Op] = {"=": "eq", "==": "eq", "!=": "ne", "<>": "ne", "<": "lt", "<=": "lte", ">": "gt"}
_COMPARE[">="] = "gte"
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
_CAST_TYPES = frozenset({"TEXT", "NUMERIC", "BOOLEAN", "DATE", "TIMESTAMP", "VARCHAR", "INTEGER", "FLOAT"})
_UNSUPPORTED_OPS = frozenset({"||", "+", "-", "*", "/", "%"})


@dataclass(frozen=True)
class _Token:
    kind: str  # "str", "num", "word", "op", "end"
    text: str
    pos: int


@dataclass(frozen=True)
class _Path:
    """``val('$.a.b')``: a metadata path."""

    parts: tuple[str, ...]


@dataclass(frozen=True)
class _Lit:
    """A literal value (string, number, boolean, null, or a list of those)."""

    value: Any


_Operand = _Path | _Lit


def parse_expression(text: str) -> Filter:
    """Parse a GoodMem filter expression; :class:`InvalidInput` (a 400) saying where it went wrong."""
    if len(text) > MAX_LENGTH:
        raise InvalidInput(f"filter expression is longer than {MAX_LENGTH} characters")
    parser = _Parser(_tokenize(text))
    result = parser.disjunction(0)
    parser.expect_end()
    return result


def to_json(flt: Filter) -> dict[str, Any]:
    """The tree in memhub's JSON filter form (what :class:`SearchRequest.filters` carries)."""
    if isinstance(flt, And):
        return {"$and": [to_json(p) for p in flt.parts]}
    if isinstance(flt, Or):
        return {"$or": [to_json(p) for p in flt.parts]}
    if isinstance(flt, Not):
        return {"$not": to_json(flt.part)}
    return {".".join(flt.path): {f"${flt.op}": flt.value}}


# ---------------------------------------------------------------------------------------------------
# tokens


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise InvalidInput(f"invalid filter expression: unexpected {text[pos]!r} at position {pos}")
        kind = match.lastgroup
        if kind is not None:
            tokens.append(_Token(kind, match.group(kind), pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _string_value(token: _Token) -> str:
    """``'it''s'`` and ``'it\\'s'`` both mean ``it's`` (clients escape either way)."""
    body = token.text[1:-1]
    return re.sub(r"''|\\(.)", lambda m: m.group(1) if m.group(1) is not None else "'", body)


def _number_value(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eE") else int(text)


# ---------------------------------------------------------------------------------------------------
# conditions with SQL NULL semantics


def _cond(path: _Path, op: Op, value: Any) -> Filter:
    """A comparison that, like SQL, never matches a memory whose value at ``path`` is missing."""
    condition = Condition(path.parts, op, value)
    if op in ("ne", "nin"):
        return And((Condition(path.parts, "exists", True), condition))
    return condition


def _negate(flt: Filter) -> Filter:
    """``NOT`` pushed to the leaves, keeping SQL's rule that a missing value never matches."""
    if isinstance(flt, And):
        return Or(tuple(_negate(p) for p in flt.parts))
    if isinstance(flt, Or):
        return And(tuple(_negate(p) for p in flt.parts))
    if isinstance(flt, Not):
        return flt.part
    if flt.op == "exists":
        return Condition(flt.path, "exists", not flt.value)
    return _cond(_Path(flt.path), _NEGATE[flt.op], flt.value)


def _parse_path(raw: Any, pos: int) -> _Path:
    if not isinstance(raw, str) or not raw.startswith("$."):
        raise InvalidInput(f"invalid filter expression: a path like '$.key' expected at position {pos}")
    parts = raw[2:].split(".")
    if not all(_PATH_PART.fullmatch(p) for p in parts):
        raise InvalidInput(
            f"invalid filter expression: unsupported JSON path {raw!r} at position {pos} "
            "(memhub supports $.key.sub and a trailing [*])"
        )
    return _Path(tuple(p.removesuffix("[*]") for p in parts))


# ---------------------------------------------------------------------------------------------------
# the parser


class _Parser:
    """Recursive descent over the token list; every method consumes what it parsed."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._i = 0

    # --- token helpers ------------------------------------------------------------------------
    @property
    def _tok(self) -> _Token:
        return self._tokens[self._i]

    def _advance(self) -> _Token:
        token = self._tok
        self._i = min(self._i + 1, len(self._tokens) - 1)
        return token

    def _is_word(self, *words: str) -> bool:
        return self._tok.kind == "word" and self._tok.text.upper() in words

    def _is_op(self, text: str) -> bool:
        return self._tok.kind == "op" and self._tok.text == text

    def _fail(self, what: str) -> InvalidInput:
        found = repr(self._tok.text) if self._tok.kind != "end" else "the end"
        return InvalidInput(
            f"invalid filter expression: {what} expected at position {self._tok.pos}, found {found}"
        )

    def _expect_op(self, text: str) -> None:
        if not self._is_op(text):
            raise self._fail(repr(text))
        self._advance()

    def _expect_word(self, word: str) -> None:
        if not self._is_word(word):
            raise self._fail(word)
        self._advance()

    def expect_end(self) -> None:
        if self._tok.kind != "end":
            raise self._fail("an operator or the end")

    # --- boolean structure --------------------------------------------------------------------
    def disjunction(self, depth: int) -> Filter:
        if depth > MAX_DEPTH:
            raise InvalidInput(f"filter expression is nested too deeply (max {MAX_DEPTH})")
        parts = [self._conjunction(depth)]
        while self._is_word("OR"):
            self._advance()
            parts.append(self._conjunction(depth))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def _conjunction(self, depth: int) -> Filter:
        parts = [self._negation(depth)]
        while self._is_word("AND"):
            self._advance()
            parts.append(self._negation(depth))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def _negation(self, depth: int) -> Filter:
        if self._is_word("NOT"):
            self._advance()
            return _negate(self._negation(depth + 1))
        return self._predicate(depth)

    def _predicate(self, depth: int) -> Filter:
        if self._is_op("("):
            self._advance()
            inner = self.disjunction(depth + 1)
            self._expect_op(")")
            return inner
        if self._is_word("EXISTS"):
            return self._exists()
        start = self._tok.pos
        left = self._operand()
        return self._comparison(left, start)

    def _exists(self) -> Filter:
        self._advance()
        self._expect_op("(")
        token = self._tok
        if token.kind != "str":
            raise self._fail("a quoted JSON path")
        self._advance()
        self._expect_op(")")
        path = _parse_path(_string_value(token), token.pos)
        return Condition(path.parts, "exists", True)

    # --- predicates ---------------------------------------------------------------------------
    def _comparison(self, left: _Operand, start: int) -> Filter:
        if self._tok.kind == "op" and self._tok.text in _COMPARE:
            op = _COMPARE[self._advance().text]
            return _compare(left, op, self._operand(), start)
        negated = self._is_word("NOT")
        if negated:
            self._advance()
        result = self._keyword_predicate(left, start)
        return _negate(result) if negated else result

    def _keyword_predicate(self, left: _Operand, start: int) -> Filter:
        if self._is_word("IN"):
            self._advance()
            return _membership(left, self._in_list(), start)
        if self._is_word("IS"):
            self._advance()
            negated = self._is_word("NOT")
            if negated:
                self._advance()
            self._expect_word("NULL")
            return Condition(_require_path(left, start).parts, "exists", negated)
        if self._is_word("CONTAINS", "OVERLAPS"):
            word = self._advance().text.upper()
            right = self._operand()
            return _contains(left, right, overlaps=word == "OVERLAPS", pos=start)
        if self._is_word("LIKE", "ILIKE"):
            raise InvalidInput(
                f"invalid filter expression: {self._tok.text.upper()} is not supported by memhub"
            )
        if self._tok.kind == "op" and self._tok.text in _UNSUPPORTED_OPS:
            raise InvalidInput(
                f"invalid filter expression: operator {self._tok.text!r} at position {self._tok.pos} "
                "is not supported by memhub"
            )
        raise self._fail("a comparison")

    def _in_list(self) -> list[Any]:
        if self._is_op("["):
            return list(self._array())
        self._expect_op("(")
        values = [self._literal_value()]
        while self._is_op(","):
            self._advance()
            values.append(self._literal_value())
        self._expect_op(")")
        return values

    # --- operands -----------------------------------------------------------------------------
    def _operand(self) -> _Operand:
        token = self._tok
        if token.kind == "word" and token.text.upper() == "VAL":
            return self._val()
        if token.kind == "word" and token.text.upper() == "CAST":
            return self._cast()
        if token.kind == "word" and token.text.upper() not in ("TRUE", "FALSE", "NULL"):
            raise InvalidInput(
                f"invalid filter expression: {token.text!r} at position {token.pos} is not supported "
                "by memhub (use val(), exists(), CAST(), literals and comparisons)"
            )
        return _Lit(self._literal_value())

    def _val(self) -> _Path:
        self._advance()
        self._expect_op("(")
        token = self._tok
        if token.kind != "str":
            raise self._fail("a quoted JSON path")
        self._advance()
        self._expect_op(")")
        return _parse_path(_string_value(token), token.pos)

    def _cast(self) -> _Operand:
        self._advance()
        self._expect_op("(")
        inner = self._operand()
        self._expect_word("AS")
        if not (self._tok.kind == "word" and self._tok.text.upper() in _CAST_TYPES):
            raise self._fail("a type (TEXT, NUMERIC, BOOLEAN, DATE, TIMESTAMP)")
        target = self._advance().text.upper()
        self._expect_op(")")
        return inner if isinstance(inner, _Path) else _Lit(_cast_literal(inner.value, target))

    def _literal_value(self) -> Any:
        token = self._tok
        if token.kind == "str":
            self._advance()
            return _string_value(token)
        if token.kind == "num":
            self._advance()
            return _number_value(token.text)
        if self._is_op("-") and self._tokens[self._i + 1].kind == "num":
            self._advance()
            return -_number_value(self._advance().text)
        if self._is_op("["):
            return self._array()
        if self._is_word("TRUE", "FALSE", "NULL"):
            word = self._advance().text.upper()
            return {"TRUE": True, "FALSE": False, "NULL": None}[word]
        raise self._fail("a value")

    def _array(self) -> list[Any]:
        self._expect_op("[")
        values: list[Any] = []
        while not self._is_op("]"):
            if values:
                self._expect_op(",")
            values.append(self._literal_value())
        self._advance()
        return values


# ---------------------------------------------------------------------------------------------------
# building conditions from operands


def _require_path(operand: _Operand, pos: int) -> _Path:
    if not isinstance(operand, _Path):
        raise InvalidInput(f"invalid filter expression: val('$.path') expected at position {pos}")
    return operand


def _compare(left: _Operand, op: Op, right: _Operand, pos: int) -> Filter:
    """``path op literal`` (or the mirror image); two paths or two literals can't be expressed."""
    if isinstance(left, _Lit) and isinstance(right, _Path):
        left, right, op = right, left, _FLIP.get(op, op)
    path = _require_path(left, pos)
    if not isinstance(right, _Lit):
        raise InvalidInput(
            f"invalid filter expression: comparing two metadata paths (position {pos}) is not supported"
        )
    if right.value is None:
        raise InvalidInput(f"invalid filter expression: use IS NULL / IS NOT NULL (position {pos})")
    if isinstance(right.value, list) and op not in ("eq", "ne"):
        raise InvalidInput(
            f"invalid filter expression: an array can only be compared with = (position {pos})"
        )
    return _cond(path, op, right.value)


def _membership(left: _Operand, values: list[Any], pos: int) -> Filter:
    """``path IN (...)``, or ``literal IN path`` (the array at path holds the literal)."""
    if isinstance(left, _Lit):
        raise InvalidInput(
            f"invalid filter expression: '<value> IN <array>' needs a val() array (position {pos})"
        )
    if any(v is None for v in values):
        raise InvalidInput(f"invalid filter expression: NULL inside IN (...) at position {pos}")
    return _cond(left, "in", values)


def _contains(left: _Operand, right: _Operand, *, overlaps: bool, pos: int) -> Filter:
    """``tags CONTAINS 'a'`` / ``CONTAINS ['a','b']`` (all of them); ``OVERLAPS [...]`` (any of them).

    memhub's equality on a list-valued field matches any member, so containment of each element is an
    equality and an overlap is an ``in``.
    """
    path = _require_path(left, pos)
    if not isinstance(right, _Lit) or right.value is None:
        raise InvalidInput(f"invalid filter expression: a literal expected after CONTAINS/OVERLAPS ({pos})")
    values = right.value if isinstance(right.value, list) else [right.value]
    if not values:
        raise InvalidInput(f"invalid filter expression: empty array at position {pos}")
    if overlaps:
        return _cond(path, "in", values)
    parts = tuple(_cond(path, "eq", v) for v in values)
    return parts[0] if len(parts) == 1 else And(parts)


def _cast_literal(value: Any, target: str) -> Any:
    if target in ("NUMERIC", "INTEGER", "FLOAT") and isinstance(value, str):
        try:
            return _number_value(value.strip())
        except ValueError:
            raise InvalidInput(f"invalid filter expression: {value!r} is not a number") from None
    if target == "BOOLEAN" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if target in ("TEXT", "VARCHAR") and not isinstance(value, (str, list)) and value is not None:
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value
