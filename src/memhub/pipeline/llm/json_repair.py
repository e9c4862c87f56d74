"""Getting JSON out of what a language model actually wrote.

Asked for JSON, small local models answer with JSON most of the time, and otherwise with JSON inside a
Markdown fence, JSON after a sentence of prose, JSON with trailing commas, Python literals (``True``,
single quotes), or JSON cut off by ``max_tokens``. :func:`parse_json` tries, in order:

1. the text as it is;
2. the inside of the first fenced block (```` ```json ... ``` ````, closing fence optional);
3. for each, the first balanced ``{...}`` / ``[...]``; and if the text ends before it closes, the part
   up to the last complete element, closed properly (a truncated list of facts keeps its complete facts);
4. each candidate again without trailing commas, then as a Python literal (``ast.literal_eval``, which
   evaluates literals only, never code).

Anything else raises :class:`JSONRepairError`, and the caller decides (ask again, or fall back).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from typing import Any

_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9_-]*[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_CLOSER = {"{": "}", "[": "]"}


class JSONRepairError(ValueError):
    """The text holds no JSON value that could be recovered."""


def parse_json(text: str) -> Any:
    """The JSON value in ``text``, repaired if needed (see the module docstring)."""
    for candidate in _candidates(text):
        for variant in (candidate, drop_trailing_commas(candidate)):
            value = _loads(variant)
            if value is not _FAILED:
                return value
    snippet = " ".join(text.split())[:120]
    raise JSONRepairError(f"no JSON object or array could be recovered from: {snippet!r}")


_FAILED = object()


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _FAILED
    return value if isinstance(value, (dict, list)) else _FAILED


def _candidates(text: str) -> Iterator[str]:
    stripped = text.strip()
    yield stripped
    fence = _FENCE.search(stripped)
    inner = fence.group(1).strip() if fence else None
    if inner:
        yield inner
    for source in (inner, stripped):
        if source:
            balanced = first_balanced(source)
            if balanced is not None:
                yield balanced


def first_balanced(text: str) -> str | None:
    """The first ``{...}`` or ``[...]`` in ``text``; if cut short, its complete part, closed."""
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        return None
    start = min(starts)
    stack: list[str] = []
    cut: tuple[int, str] | None = None  # (end, closers) of the longest complete prefix seen so far
    for index, char, in_string in _scan(text, start):
        if in_string:
            continue
        if char in _CLOSER:
            stack.append(_CLOSER[char])
        elif char in "}]":
            if not stack or stack.pop() != char:
                return None
            if not stack:
                return text[start : index + 1]
            cut = (index + 1, "".join(reversed(stack)))
        elif char == ",":
            cut = (index, "".join(reversed(stack)))
    return text[start : cut[0]] + cut[1] if cut else None


def drop_trailing_commas(text: str) -> str:
    """``text`` without commas that directly precede a ``}`` or ``]`` (outside strings)."""
    out: list[str] = []
    pending = ""  # a comma (with the blanks after it) not yet known to be trailing
    for _, char, in_string in _scan(text, 0):
        if not in_string and char == ",":
            out.append(pending)
            pending = ","
        elif pending and not in_string and char.isspace():
            pending += char
        else:
            if pending:
                out.append(pending[1:] if char in "}]" and not in_string else pending)
                pending = ""
            out.append(char)
    out.append(pending)
    return "".join(out)


def _scan(text: str, start: int) -> Iterator[tuple[int, str, bool]]:
    """``(index, char, inside_a_string)`` from ``start``; the quotes themselves count as inside."""
    in_string = False
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            yield index, char, True
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            yield index, char, True
        else:
            yield index, char, False
