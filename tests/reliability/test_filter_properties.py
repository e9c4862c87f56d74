"""Hypothesis properties of the metadata filter (``core/filters.py``), the one definition every store uses.

* Any JSON a caller can send parses to a filter or is refused with :class:`InvalidInput` (a 422), never
  another exception (a 500), and evaluating a parsed filter on any metadata never raises.
* The logic is boolean logic: ``$not`` negates, ``$and``/``$or`` are conjunction/disjunction (so De
  Morgan holds), ``$nin`` is the negation of ``$in`` and ``$ne`` of equality, ``$exists`` true and false
  split every document in two.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from memhub.core.errors import InvalidInput
from memhub.core.filters import matches, parse_filter

KEYS = st.sampled_from(["a", "b", "c", "a.x", "b.y"])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(-3, 3, allow_nan=False), st.sampled_from("xyz")
)
JSON = st.recursive(
    SCALARS | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)
METADATA = st.fixed_dictionaries(
    {},
    optional={
        "a": SCALARS | st.lists(SCALARS, max_size=3) | st.fixed_dictionaries({"x": SCALARS}),
        "b": SCALARS | st.fixed_dictionaries({"y": SCALARS}),
        "c": SCALARS | st.lists(SCALARS, max_size=3),
    },
)


def _condition() -> st.SearchStrategy[dict[str, Any]]:
    operand = st.one_of(
        SCALARS.map(lambda v: v),
        st.tuples(st.sampled_from(["$eq", "$ne"]), SCALARS).map(lambda t: {t[0]: t[1]}),
        st.tuples(st.sampled_from(["$in", "$nin"]), st.lists(SCALARS, max_size=3)).map(
            lambda t: {t[0]: t[1]}
        ),
        st.tuples(
            st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), st.integers(-3, 3) | st.sampled_from("xyz")
        ).map(lambda t: {t[0]: t[1]}),
        st.booleans().map(lambda b: {"$exists": b}),
        st.tuples(st.just("$contains"), SCALARS).map(lambda t: {t[0]: t[1]}),
        st.sampled_from(["x", "X", "y", ""]).map(lambda text: {"$icontains": text}),
    )
    return st.builds(lambda key, value: {key: value}, KEYS, operand)


FILTERS = st.recursive(
    _condition(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"$and": parts}),
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"$or": parts}),
        inner.map(lambda part: {"$not": part}),
    ),
    max_leaves=6,
)


@settings(max_examples=400, derandomize=True)
@given(
    raw=st.dictionaries(
        st.text(max_size=6) | st.sampled_from(["$and", "$or", "$not", "$in"]), JSON, max_size=4
    ),
    metadata=METADATA,
)
def test_any_json_parses_or_is_invalid_input_and_never_crashes_evaluation(
    raw: dict[str, Any], metadata: dict[str, Any]
) -> None:
    try:
        flt = parse_filter(raw)
    except InvalidInput as exc:
        assert exc.message
        return
    assert isinstance(matches(flt, metadata), bool)


@settings(max_examples=300, derandomize=True)
@given(raw=FILTERS, other=FILTERS, metadata=METADATA)
def test_filters_obey_boolean_logic(
    raw: dict[str, Any], other: dict[str, Any], metadata: dict[str, Any]
) -> None:
    f, g = matches(parse_filter(raw), metadata), matches(parse_filter(other), metadata)
    assert matches(parse_filter({"$not": raw}), metadata) is (not f)
    assert matches(parse_filter({"$and": [raw, other]}), metadata) is (f and g)
    assert matches(parse_filter({"$or": [raw, other]}), metadata) is (f or g)
    de_morgan = {"$and": [{"$not": raw}, {"$not": other}]}
    assert matches(parse_filter(de_morgan), metadata) is (not (f or g))


@settings(max_examples=300, derandomize=True)
@given(key=KEYS, values=st.lists(SCALARS, max_size=3), value=SCALARS, metadata=METADATA)
def test_negated_operators_are_complements(
    key: str, values: list[Any], value: Any, metadata: dict[str, Any]
) -> None:
    def check(raw: dict[str, Any]) -> bool:
        return matches(parse_filter(raw), metadata)

    assert check({key: {"$nin": values}}) is (not check({key: {"$in": values}}))
    assert check({key: {"$ne": value}}) is (not check({key: {"$eq": value}}))
    assert check({key: value}) is check({key: {"$eq": value}})
    assert check({key: {"$exists": True}}) is (not check({key: {"$exists": False}}))


@settings(max_examples=200, derandomize=True)
@given(members=st.lists(SCALARS, min_size=1, max_size=4), data=st.data())
def test_a_list_valued_field_matches_each_of_its_members(members: list[Any], data: st.DataObject) -> None:
    member = data.draw(st.sampled_from(members))
    assert matches(parse_filter({"tags": member}), {"tags": members})
    assert matches(parse_filter({"tags": {"$in": [member]}}), {"tags": members})


def test_a_list_of_booleans_matches_a_boolean() -> None:
    """Regression (found by the property above): the bool guard ran before the list rule, so
    ``{"flags": false}`` never matched ``{"flags": [false]}``."""
    assert matches(parse_filter({"flags": False}), {"flags": [True, False]})
    assert not matches(parse_filter({"flags": 0}), {"flags": [False]})
