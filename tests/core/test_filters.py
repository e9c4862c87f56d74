"""Metadata filters: parsing errors are InvalidInput with a useful message; evaluation semantics."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memhub.core.errors import InvalidInput
from memhub.core.filters import And, Condition, Or, matches, parse_filter

META = {"project": "apollo", "tags": ["a", "b"], "n": 5, "flag": True, "nested": {"k": "v"}}


def test_empty_filter_is_none_and_matches_everything() -> None:
    assert parse_filter(None) is None
    assert parse_filter({}) is None
    assert matches(None, META)


def test_plain_pairs_are_an_and_of_equalities() -> None:
    flt = parse_filter({"project": "apollo", "n": 5})
    assert isinstance(flt, And)
    assert matches(flt, META)
    assert not matches(parse_filter({"project": "apollo", "n": 6}), META)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"n": {"$gt": 4}}, True),
        ({"n": {"$gte": 5, "$lt": 6}}, True),
        ({"n": {"$lte": 4}}, False),
        ({"project": {"$in": ["apollo", "gemini"]}}, True),
        ({"project": {"$nin": ["apollo"]}}, False),
        ({"project": {"$ne": "gemini"}}, True),
        ({"missing": {"$exists": False}}, True),
        ({"missing": {"$ne": 1}}, True),
        ({"tags": "a"}, True),
        ({"nested.k": "v"}, True),
        ({"flag": 1}, False),
        ({"n": True}, False),
        ({"$or": [{"n": 1}, {"project": "apollo"}]}, True),
        ({"$not": {"project": "apollo"}}, False),
        ({"$and": [{"n": {"$gt": 1}}, {"tags": "c"}]}, False),
    ],
)
def test_operators(raw: dict[str, Any], expected: bool) -> None:
    assert matches(parse_filter(raw), META) is expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"n": {"$regex": "x"}}, "unknown filter operator '$regex'"),
        ({"$xor": []}, "unknown filter operator '$xor'"),
        ({"n": {"$in": 3}}, "takes a list"),
        ({"n": {"$gt": [1]}}, "takes a number or a string"),
        ({"n": {"$exists": "yes"}}, "takes true or false"),
        ({"$or": []}, "non-empty list"),
        ({"$not": 3}, "one filter object"),
        ({"a..b": 1}, "bad metadata key"),
    ],
)
def test_bad_filters_say_what_is_wrong(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("$", r"\$")):
        parse_filter(raw)


def test_or_parses_into_or_node() -> None:
    flt = parse_filter({"$or": [{"a": 1}, {"b": 2}]})
    assert flt == Or((Condition(("a",), "eq", 1), Condition(("b",), "eq", 2)))


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3))


@given(key=st.text(alphabet="abc", min_size=1, max_size=3), value=json_scalars, meta_value=json_scalars)
def test_equality_agrees_with_python_equality_for_same_types(key: str, value: Any, meta_value: Any) -> None:
    flt = parse_filter({key: value})
    same = type(value) is type(meta_value) and value == meta_value
    assert matches(flt, {key: meta_value}) is same


@given(st.dictionaries(st.text(alphabet="xyz", min_size=1, max_size=2), json_scalars, max_size=4))
def test_not_is_the_complement(meta: dict[str, Any]) -> None:
    inner = {"x": 1}
    assert matches(parse_filter({"$not": inner}), meta) is not matches(parse_filter(inner), meta)
