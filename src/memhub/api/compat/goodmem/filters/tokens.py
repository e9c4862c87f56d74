"""GoodMem filter expressions, lexically: the tokens, and what a string or number literal's text means."""

from __future__ import annotations

import re
from dataclasses import dataclass

from memhub.core.errors import InvalidInput

_TOKEN = re.compile(
    r"""\s+|--[^\n]*
    |(?P<str>'(?:[^'\\]|''|\\.)*')
    |(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op><=|>=|<>|!=|==|\|\||[=<>(),\[\]+\-*/%])""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # "str", "num", "word", "op", "end"
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise InvalidInput(f"invalid filter expression: unexpected {text[pos]!r} at position {pos}")
        kind = match.lastgroup
        if kind is not None:
            tokens.append(Token(kind, match.group(kind), pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def string_value(token: Token) -> str:
    """``'it''s'`` and ``'it\\'s'`` both mean ``it's`` (clients escape either way)."""
    body = token.text[1:-1]
    return re.sub(r"''|\\(.)", lambda m: m.group(1) if m.group(1) is not None else "'", body)


def number_value(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eE") else int(text)
