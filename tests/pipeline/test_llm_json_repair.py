"""Recovering JSON from what small models actually write."""

from __future__ import annotations

import pytest

from memhub.pipeline.llm import JSONRepairError, parse_json
from memhub.pipeline.llm.json_repair import drop_trailing_commas, first_balanced

FACTS = {"facts": [{"text": "User lives in Lisbon", "core": True}]}


@pytest.mark.parametrize(
    "reply",
    [
        '{"facts": [{"text": "User lives in Lisbon", "core": true}]}',
        '```json\n{"facts": [{"text": "User lives in Lisbon", "core": true}]}\n```',
        '```\n{"facts": [{"text": "User lives in Lisbon", "core": true}]}',  # fence never closed
        'Sure! Here they are:\n{"facts": [{"text": "User lives in Lisbon", "core": true}]}\nHope it helps',
        '{"facts": [{"text": "User lives in Lisbon", "core": true,},],}',
        "{'facts': [{'text': 'User lives in Lisbon', 'core': True}]}",  # a Python literal
    ],
    ids=["plain", "fenced", "open-fence", "prose-around", "trailing-commas", "python-literal"],
)
def test_recovers_the_facts_object(reply: str) -> None:
    assert parse_json(reply) == FACTS


def test_a_truncated_reply_keeps_its_complete_items() -> None:
    cut = '{"facts": [{"text": "User lives in Lisbon", "core": true}, {"text": "User is a nur'
    assert parse_json(cut) == FACTS


def test_prose_without_json_is_an_error_quoting_the_reply() -> None:
    with pytest.raises(JSONRepairError, match="I could not find any facts"):
        parse_json("I could not find any facts in this conversation.")


def test_brackets_and_commas_inside_strings_are_left_alone() -> None:
    text = '{"text": "a, b] and {c},", "n": [1, 2,]}'
    assert drop_trailing_commas(text) == '{"text": "a, b] and {c},", "n": [1, 2]}'
    assert first_balanced('x {"a": "}", "b": "\\"]"} y') == '{"a": "}", "b": "\\"]"}'


def test_mismatched_brackets_are_not_guessed() -> None:
    assert first_balanced('{"a": [1, 2}') is None
