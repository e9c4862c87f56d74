"""GoodMem filter expressions (spec §9) → ``core.filters``: the canonical examples, SQL NULL semantics,
and that every malformed or unsupported expression is an ``InvalidInput`` (a 400), never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from memhub.api.compat.goodmem.filters.expression import parse_expression, to_json
from memhub.core.errors import InvalidInput
from memhub.core.filters import matches, parse_filter


def _match(expression: str, metadata: dict[str, Any]) -> bool:
    tree = parse_expression(expression)
    assert matches(parse_filter(to_json(tree)), metadata) == matches(tree, metadata)  # JSON round trip
    return matches(tree, metadata)


@pytest.mark.parametrize(
    ("expression", "yes", "no"),
    [
        ("CAST(val('$.source') AS TEXT) = 'sdk-doc-test'", {"source": "sdk-doc-test"}, {"source": "x"}),
        ("cast(VAL('$.source') as text) == 'a'", {"source": "a"}, {}),
        ("CAST(val('$.year') AS NUMERIC) >= 2000", {"year": 2001}, {"year": 1999}),
        ("2000 <= CAST(val('$.year') AS NUMERIC)", {"year": 2000}, {"year": 1999}),
        ("CAST(val('$.published') AS BOOLEAN) = true", {"published": True}, {"published": False}),
        ("CAST(val('$.tag') AS TEXT) IN ('a', 'b')", {"tag": "b"}, {"tag": "c"}),
        ("exists('$.tags[*]')", {"tags": ["x"]}, {"other": 1}),
        (
            "CAST(val('$.effectiveDate') AS DATE) >= CAST('2024-10-01' AS DATE)",
            {"effectiveDate": "2024-11-02"},
            {"effectiveDate": "2023-01-01"},
        ),
        (
            "NOT (CAST(val('$.status') AS TEXT) = 'archived') AND val('$.owner') IS NOT NULL",
            {"status": "live", "owner": "ann"},
            {"status": "archived", "owner": "ann"},
        ),
        ("val('$.primaryLocation.city') = 'Manila'", {"primaryLocation": {"city": "Manila"}}, {}),
        ("val('$.tags') CONTAINS 'red'", {"tags": ["red", "blue"]}, {"tags": ["blue"]}),
        ("val('$.tags') OVERLAPS ['red', 'green']", {"tags": ["green"]}, {"tags": ["blue"]}),
        ("val('$.a') = 1 OR val('$.b') = 2 -- a comment", {"b": 2}, {"a": 2}),
        ("val('$.name') = 'it''s'", {"name": "it's"}, {"name": "its"}),
        ("val('$.n') > -1.5e1", {"n": -3}, {"n": -20}),
        ("val('$.x') IS NULL", {}, {"x": 1}),
    ],
)
def test_canonical_examples(expression: str, yes: dict[str, Any], no: dict[str, Any]) -> None:
    assert _match(expression, yes)
    assert not _match(expression, no)


@pytest.mark.parametrize(
    "expression",
    [
        "val('$.status') != 'archived'",
        "NOT val('$.status') = 'archived'",
        "val('$.status') NOT IN ('archived')",
        "NOT (val('$.a') = 1 OR val('$.status') = 'archived')",
    ],
)
def test_missing_values_never_match_like_sql_null(expression: str) -> None:
    assert not _match(expression, {})
    assert _match(expression, {"status": "live", "a": 2})


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "val(",
        "val('source') = 'x'",
        "val('$.a[0]') = 1",
        "lower(CAST(val('$.city') AS TEXT)) = 'manila'",
        "EXTRACT(YEAR FROM CAST(val('$.d') AS DATE)) = 2024",
        "val('$.a') LIKE 'x%'",
        "val('$.a') + 1 = 2",
        "val('$.a') = val('$.b')",
        "'a' = 'a'",
        "val('$.a') = NULL",
        "val('$.a') = 1 1",
        "val('$.a') = 'unterminated",
        "val('$.a') = 1 @",
        "CAST(val('$.a') AS BLOB) = 1",
        "CAST('abc' AS NUMERIC) = val('$.a')",
        "(" * 100 + "val('$.a') = 1" + ")" * 100,
        "x" * 10_001,
    ],
)
def test_bad_expressions_are_invalid_input(expression: str) -> None:
    with pytest.raises(InvalidInput):
        parse_expression(expression)
