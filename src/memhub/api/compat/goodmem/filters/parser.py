"""The recursive-descent parser of GoodMem filter expressions (``OR`` < ``AND`` < ``NOT`` < predicate).

It reads the tokens of ``tokens`` and leaves what each predicate means to the builders of
``build``; whatever it can't parse is an :class:`InvalidInput` naming the position.
"""

from __future__ import annotations

from typing import Any

from memhub.core.errors import InvalidInput
from memhub.core.filters import And, Condition, Filter, Op, Or

from .build import (
    Lit,
    MetaPath,
    Operand,
    cast_literal,
    compare,
    contains,
    membership,
    negate,
    parse_path,
    require_path,
)
from .tokens import Token, number_value, string_value

MAX_DEPTH = 32
_COMPARE: dict[str, Op] = {"=": "eq", "==": "eq", "!=": "ne", "<>": "ne", "<": "lt", "<=": "lte", ">": "gt"}
_COMPARE[">="] = "gte"
_CAST_TYPES = frozenset({"TEXT", "NUMERIC", "BOOLEAN", "DATE", "TIMESTAMP", "VARCHAR", "INTEGER", "FLOAT"})
_UNSUPPORTED_OPS = frozenset({"||", "+", "-", "*", "/", "%"})


class Parser:
    """Recursive descent over the token list; every method consumes what it parsed."""

    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._i = 0

    # --- token helpers ------------------------------------------------------------------------
    @property
    def _tok(self) -> Token:
        return self._tokens[self._i]

    def _advance(self) -> Token:
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
            return negate(self._negation(depth + 1))
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
        path = parse_path(string_value(token), token.pos)
        return Condition(path.parts, "exists", True)

    # --- predicates ---------------------------------------------------------------------------
    def _comparison(self, left: Operand, start: int) -> Filter:
        if self._tok.kind == "op" and self._tok.text in _COMPARE:
            op = _COMPARE[self._advance().text]
            return compare(left, op, self._operand(), start)
        negated = self._is_word("NOT")
        if negated:
            self._advance()
        result = self._keyword_predicate(left, start)
        return negate(result) if negated else result

    def _keyword_predicate(self, left: Operand, start: int) -> Filter:
        if self._is_word("IN"):
            self._advance()
            return membership(left, self._in_list(), start)
        if self._is_word("IS"):
            self._advance()
            negated = self._is_word("NOT")
            if negated:
                self._advance()
            self._expect_word("NULL")
            return Condition(require_path(left, start).parts, "exists", negated)
        if self._is_word("CONTAINS", "OVERLAPS"):
            word = self._advance().text.upper()
            right = self._operand()
            return contains(left, right, overlaps=word == "OVERLAPS", pos=start)
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
    def _operand(self) -> Operand:
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
        return Lit(self._literal_value())

    def _val(self) -> MetaPath:
        self._advance()
        self._expect_op("(")
        token = self._tok
        if token.kind != "str":
            raise self._fail("a quoted JSON path")
        self._advance()
        self._expect_op(")")
        return parse_path(string_value(token), token.pos)

    def _cast(self) -> Operand:
        self._advance()
        self._expect_op("(")
        inner = self._operand()
        self._expect_word("AS")
        if not (self._tok.kind == "word" and self._tok.text.upper() in _CAST_TYPES):
            raise self._fail("a type (TEXT, NUMERIC, BOOLEAN, DATE, TIMESTAMP)")
        target = self._advance().text.upper()
        self._expect_op(")")
        return inner if isinstance(inner, MetaPath) else Lit(cast_literal(inner.value, target))

    def _literal_value(self) -> Any:
        token = self._tok
        if token.kind == "str":
            self._advance()
            return string_value(token)
        if token.kind == "num":
            self._advance()
            return number_value(token.text)
        if self._is_op("-") and self._tokens[self._i + 1].kind == "num":
            self._advance()
            return -number_value(self._advance().text)
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
