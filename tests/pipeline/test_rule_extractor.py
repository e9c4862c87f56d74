"""The default (no-LLM) extractor: episodes for every turn, core facts for first-person statements."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from memhub.core.models import Event, EventKind, Memory, MemoryKind
from memhub.core.ports import ExtractionContext
from memhub.pipeline.extractors import RuleExtractor

WHEN = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)


def _event(content: str, position: int = 0, role: str = "user", name: str | None = None) -> Event:
    return Event(
        id=f"e{position}",
        tenant_id="t",
        space_id="s",
        user_id="u",
        session_id="s1",
        kind=EventKind.MESSAGE,
        role=role,
        name=name,
        content=content,
        occurred_at=WHEN,
        created_at=WHEN,
        job_id="j",
        position=position,
    )


def _facts(content: str, **kw: str) -> list[str]:
    drafts = RuleExtractor().extract([_event(content, **kw)], ExtractionContext())
    return [d.text for d in drafts if d.kind is MemoryKind.FACT]


def test_every_message_becomes_a_verbatim_episode_with_provenance() -> None:
    events = [_event("hi there", 0), _event("Hello! How can I help?", 1, role="assistant")]
    drafts = RuleExtractor().extract(events, ExtractionContext())
    episodes = [d for d in drafts if d.kind is MemoryKind.EPISODE]
    assert [d.text for d in episodes] == ["hi there", "Hello! How can I help?"]
    assert [d.source_positions for d in episodes] == [[0], [1]]
    assert episodes[0].chunks[0].dense_key == "[8 May 2023] user: hi there"
    assert "Hello! How can I help?" in episodes[0].chunks[0].sparse_key  # neighbour in the window key


@pytest.mark.parametrize(
    ("content", "fact"),
    [
        ("My son's name is Todd the Great", "User's son's name is Todd the Great"),
        ("Hey! My name is mario .. my brother's name is Wario!", "User's brother's name is Wario"),
        ("I live in Lisbon these days.", "User lives in Lisbon these days"),
        ("I prefer Berlin for Europe meetings", "User prefers Berlin for Europe meetings"),
        ("I work as a nurse at the clinic", "User works as a nurse at the clinic"),
        ("I'm allergic to peanuts", "User is allergic to peanuts"),
        (
            "Please use Berlin when I mention Europe.",
            "User wants the assistant to use Berlin when they mention Europe",
        ),
        ("I am 34 years old", "User is 34 years old"),
    ],
)
def test_first_person_stable_facts_become_core_facts(content: str, fact: str) -> None:
    assert fact in _facts(content)


def test_facts_use_the_speakers_name_when_given() -> None:
    assert "Caroline's son's name is Todd" in _facts("my son's name is Todd", name="Caroline")


def test_assistant_statements_are_not_user_facts() -> None:
    assert _facts("My name is Assistant", role="assistant") == []


def test_small_talk_yields_no_fact() -> None:
    assert _facts("what a lovely day it is") == []


def test_a_new_value_for_the_same_slot_supersedes_the_old_fact() -> None:
    old = Memory(
        id="m-old",
        tenant_id="t",
        space_id="s",
        user_id="u",
        kind=MemoryKind.FACT,
        core=True,
        text="User lives in Paris",
        metadata={"slot": "home"},
        occurred_at=WHEN,
        created_at=WHEN,
        updated_at=WHEN,
    )
    drafts = RuleExtractor().extract([_event("I live in Berlin")], ExtractionContext(existing_facts=[old]))
    fact = next(d for d in drafts if d.kind is MemoryKind.FACT)
    assert fact.supersedes == "m-old"
    assert fact.core


def test_repeating_a_known_fact_adds_nothing() -> None:
    old = Memory(
        id="m-old",
        tenant_id="t",
        space_id="s",
        user_id="u",
        kind=MemoryKind.FACT,
        core=True,
        text="User lives in Berlin",
        metadata={"slot": "home"},
        occurred_at=WHEN,
        created_at=WHEN,
        updated_at=WHEN,
    )
    drafts = RuleExtractor().extract([_event("I live in Berlin")], ExtractionContext(existing_facts=[old]))
    assert [d.kind for d in drafts] == [MemoryKind.EPISODE]


def test_documents_become_one_chunked_memory() -> None:
    doc = _event("Paragraph one. " * 200).model_copy(
        update={"kind": EventKind.DOCUMENT, "metadata": {"chunk_size": 500, "chunk_overlap": 50}}
    )
    drafts = RuleExtractor().extract([doc], ExtractionContext())
    assert len(drafts) == 1 and drafts[0].kind is MemoryKind.DOCUMENT
    assert len(drafts[0].chunks) > 4


def _fact_drafts(content: str, **kw: str) -> list[tuple[str, bool]]:
    drafts = RuleExtractor().extract([_event(content, **kw)], ExtractionContext())
    return [(d.text, d.core) for d in drafts if d.kind is MemoryKind.FACT]


@pytest.mark.parametrize(
    ("content", "fact", "core"),
    [
        (
            "I live in Portland with my husband Marcus.",
            "User lives in Portland with their husband Marcus",
            True,
        ),
        (
            "We have two kids, Sofia who is 9 and Leo who is 6.",
            "User has two kids, Sofia who is 9 and Leo who is 6",
            True,
        ),
        ("My manager is called Priya and we meet every Monday.", "User's manager is called Priya", True),
        ("My wife Elena is a nurse.", "User's wife Elena is a nurse", True),
        ("I'm vegetarian.", "User is vegetarian", True),
        ("We adopted a beagle named Pickle.", "User adopted a beagle named Pickle", True),
        ("I drive a blue 2018 Honda Civic.", "User drives a blue 2018 Honda Civic", False),
        (
            "I've been playing the cello for twenty years.",
            "User has been playing the cello for twenty years",
            False,
        ),
        (
            "I'm training for a half marathon in October.",
            "User is training for a half marathon in October",
            False,
        ),
        (
            "Every Saturday morning I swim with my daughter.",
            "Every Saturday morning User swims with their daughter",
            False,
        ),
        ("I plan to buy a new cycle.", "User plans to buy a new cycle", False),
        (
            "I'm flying to Tokyo next month with my sister.",
            "User is flying to Tokyo in June 2023 with their sister",
            False,
        ),
        ("I went to a support group yesterday.", "User went to a support group on 7 May 2023", False),
        ("Yesterday, I took my kids to the zoo.", "On 7 May 2023, User took their kids to the zoo", False),
    ],
)
def test_facts_people_tell_an_assistant_are_third_person_and_only_the_stable_profile_is_core(
    content: str, fact: str, core: bool
) -> None:
    assert (fact, core) in _fact_drafts(content)


@pytest.mark.parametrize(
    "content",
    [
        "You should try the new cafe on Main Street.",
        "Thanks so much, I really appreciate it!",
        "Here's a photo I took of the lake.",
        "Haven't tried it yet, but it looks great.",
        "Did you go to the concert?",
        "A lot's happened since we last talked.",
    ],
)
def test_what_is_not_a_statement_about_the_speaker_yields_no_fact(content: str) -> None:
    assert _facts(content) == []


def test_no_fact_keeps_a_first_person_word() -> None:
    text = (
        "My husband and I live in Denver. I recently joined a rock band and have been practicing guitar. "
        "Buddy and I have a great time doing walks. I wanna start a dance studio. I'm so proud of myself "
        "and my kids, they mean the world to me."
    )
    facts = _facts(text, name="Jo")
    assert len(facts) >= 4
    for fact in facts:
        assert not re.search(r"\bI\b|\b(?:my|me|mine|myself)\b", fact, re.IGNORECASE), fact
    assert "Jo and their husband live in Denver" in facts
    assert "Jo recently joined a rock band and has been practicing guitar" in facts


def test_each_fact_points_at_the_message_it_came_from() -> None:
    events = [_event("hello there", 0), _event("I live in Leeds.", 1), _event("I drive a Civic.", 2)]
    drafts = RuleExtractor().extract(events, ExtractionContext())
    facts = {d.text: d.source_positions for d in drafts if d.kind is MemoryKind.FACT}
    assert facts == {"User lives in Leeds": [1], "User drives a Civic": [2]}
