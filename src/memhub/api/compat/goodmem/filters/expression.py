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

The work is split in three: ``tokens`` (tokens and literal texts), ``parser``
(the grammar) and ``build`` (the conditions each predicate becomes, with the rules above).
"""

from __future__ import annotations

from typing import Any

from memhub.core.errors import InvalidInput
from memhub.core.filters import And, Filter, Not, Or

from .parser import Parser
from .tokens import tokenize

MAX_LENGTH = 10_000


def parse_expression(text: str) -> Filter:
    """Parse a GoodMem filter expression; :class:`InvalidInput` (a 400) saying where it went wrong."""
    if len(text) > MAX_LENGTH:
        raise InvalidInput(f"filter expression is longer than {MAX_LENGTH} characters")
    parser = Parser(tokenize(text))
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
