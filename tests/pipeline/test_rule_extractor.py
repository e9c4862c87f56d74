"""The default (no-LLM) extractor: episodes for every turn, core facts for first-person statements."""

from __future__ import annotations

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
