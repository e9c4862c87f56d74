"""The LLM extractor over real HTTP to a fake chat server: what it extracts, and how it survives bad models.

The input is never lost: every turn stays an episode whatever the model does, and when the model fails
(malformed twice, HTTP errors, timeouts) the rule extractor's facts are used instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from memhub.core.models import Event, EventKind, MemoryDraft, MemoryKind
from memhub.core.ports import ExtractionContext, Extractor
from memhub.pipeline.extractors.llm import LLMExtractor
from memhub.pipeline.llm import ChatClient
from memhub.testing.chat_server import ChatScript
from memhub.testing.openai_server import FakeOpenAIServer, start_fake_openai_server

WHEN = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)
FACTS = {
    "facts": [
        {"text": "Caroline lives in Lisbon", "core": True, "slot": "home", "category": "personal", "turn": 0},
        {"text": "Caroline is tired today", "core": False, "slot": None, "category": "other", "turn": 0},
    ]
}


def _event(content: str, position: int = 0, role: str = "user", kind: EventKind = EventKind.MESSAGE) -> Event:
    return Event(
        id=f"e{position}",
        tenant_id="t",
        space_id="s",
        user_id="u",
        session_id="s1",
        kind=kind,
        role=role,
        name="Caroline" if role == "user" else None,
        content=content,
        occurred_at=WHEN,
        created_at=WHEN,
        job_id="j",
        position=position,
    )


TURNS = [
    _event("I live in Lisbon, and I'm so tired today.", 0),
    _event("Sorry to hear that! Lisbon is lovely though.", 1, role="assistant"),
]


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with start_fake_openai_server() as server:
        yield server


@pytest.fixture
def chat(fake: FakeOpenAIServer) -> Iterator[ChatClient]:
    with ChatClient(fake.base_url, "small-model", timeout=5.0, max_retries=0, backoff=0.01) as client:
        yield client


def _facts(drafts: list[MemoryDraft]) -> list[MemoryDraft]:
    return [d for d in drafts if d.kind is MemoryKind.FACT]


def _episodes(drafts: list[MemoryDraft]) -> list[str]:
    return [d.text for d in drafts if d.kind is MemoryKind.EPISODE]


def test_is_an_extractor() -> None:
    assert isinstance(LLMExtractor(ChatClient("http://127.0.0.1:9/v1", "m")), Extractor)


def test_extracts_core_and_passing_facts_with_provenance_and_keeps_every_turn(
    fake: FakeOpenAIServer, chat: ChatClient
) -> None:
    script = ChatScript(fake).reply(json.dumps(FACTS))
    drafts = LLMExtractor(chat).extract(TURNS, ExtractionContext())
    assert _episodes(drafts) == [e.content for e in TURNS]
    facts = {d.text: d for d in _facts(drafts)}
    assert set(facts) == {"Caroline lives in Lisbon", "Caroline is tired today"}
    home = facts["Caroline lives in Lisbon"]
    assert home.core and not facts["Caroline is tired today"].core
    assert home.source_positions == [0] and home.supersedes is None
    assert home.metadata == {"extractor": "llm", "change": "add", "slot": "home", "category": "personal"}
    assert home.chunks[0].dense_key == "[8 May 2023] Caroline lives in Lisbon"
    prompt = script.calls[0][-1]["content"]
    assert "[0] user (Caroline), 8 May 2023: I live in Lisbon" in prompt
    assert "[1] assistant, 8 May 2023: Sorry" in prompt


def test_the_prompt_carries_earlier_turns_and_known_facts(fake: FakeOpenAIServer, chat: ChatClient) -> None:
    script = ChatScript(fake)
    from memhub.core.models import Memory

    known = Memory(
        id="m1",
        tenant_id="t",
        space_id="s",
        kind=MemoryKind.FACT,
        text="Caroline has a dog named Rex",
        occurred_at=WHEN,
        created_at=WHEN,
        updated_at=WHEN,
    )
    context = ExtractionContext(existing_facts=[known], previous_events=[_event("Hi, I'm back!", 7)])
    LLMExtractor(chat).extract(TURNS, context)
    prompt = script.calls[0][-1]["content"]
    assert "Known facts about the user:\n- Caroline has a dog named Rex" in prompt
    assert "Earlier turns (context only):\nuser (Caroline), 8 May 2023: Hi, I'm back!" in prompt


@pytest.mark.parametrize(
    "reply",
    [
        "```json\n" + json.dumps(FACTS, indent=2) + "\n```",
        json.dumps(FACTS).replace("}]}", "},]}"),
        "Here is what I found: " + json.dumps(FACTS) + " Let me know!",
        json.dumps(FACTS)[:-40],  # cut off by max_tokens inside the second fact
    ],
    ids=["fenced", "trailing-comma", "prose-around", "truncated"],
)
def test_malformed_json_is_repaired_without_asking_again(
    fake: FakeOpenAIServer, chat: ChatClient, reply: str
) -> None:
    script = ChatScript(fake).reply(reply)
    facts = _facts(LLMExtractor(chat).extract(TURNS, ExtractionContext()))
    assert "Caroline lives in Lisbon" in [d.text for d in facts]
    assert len(script.calls) == 1


def test_prose_is_corrected_once_and_the_second_reply_used(fake: FakeOpenAIServer, chat: ChatClient) -> None:
    script = ChatScript(fake).reply("The user lives in Lisbon and is tired.", json.dumps(FACTS))
    facts = _facts(LLMExtractor(chat).extract(TURNS, ExtractionContext()))
    assert len(facts) == 2 and len(script.calls) == 2
    assert "Reply again with only a JSON object" in script.calls[1][-1]["content"]


def _rule_fallback(drafts: list[MemoryDraft]) -> None:
    """What the rule extractor gives for TURNS: both episodes and its own core fact, in the third person."""
    assert _episodes(drafts) == [e.content for e in TURNS]
    facts = _facts(drafts)
    assert [d.text for d in facts] == ["Caroline lives in Lisbon, and they are so tired on 8 May 2023"]
    assert "extractor" not in facts[0].metadata and facts[0].metadata["slot"] == "home"


def test_two_unusable_replies_fall_back_to_the_rule_extractor(
    fake: FakeOpenAIServer, chat: ChatClient
) -> None:
    script = ChatScript(fake).reply("no idea", '{"memories": "none"}')
    _rule_fallback(LLMExtractor(chat).extract(TURNS, ExtractionContext()))
    assert len(script.calls) == 2


def test_http_errors_fall_back_to_the_rule_extractor(fake: FakeOpenAIServer, chat: ChatClient) -> None:
    ChatScript(fake).status(500, times=3)
    _rule_fallback(LLMExtractor(chat).extract(TURNS, ExtractionContext()))


def test_a_timeout_falls_back_to_the_rule_extractor_within_the_timeout(fake: FakeOpenAIServer) -> None:
    release = ChatScript(fake).held(json.dumps(FACTS))
    try:  # the reply is held until extraction has returned: it can only have come from the fallback
        with ChatClient(fake.base_url, "small-model", timeout=0.3, max_retries=0) as chat:
            drafts = LLMExtractor(chat).extract(TURNS, ExtractionContext())
    finally:
        release.set()
    _rule_fallback(drafts)


def test_an_unreachable_endpoint_falls_back_to_the_rule_extractor() -> None:
    with ChatClient("http://127.0.0.1:9/v1", "small-model", timeout=1.0, max_retries=0) as chat:
        _rule_fallback(LLMExtractor(chat).extract(TURNS, ExtractionContext()))


def test_turns_without_a_user_message_documents_and_verbatim_jobs_never_reach_the_model(
    fake: FakeOpenAIServer, chat: ChatClient
) -> None:
    script = ChatScript(fake)
    extractor = LLMExtractor(chat)
    assistant_only = extractor.extract([TURNS[1]], ExtractionContext())
    document = extractor.extract(
        [_event("A long manual. " * 10, kind=EventKind.DOCUMENT)], ExtractionContext()
    )
    verbatim = extractor.extract(TURNS, ExtractionContext(derive_facts=False))
    assert _episodes(assistant_only) == [TURNS[1].content]
    assert [d.kind for d in document] == [MemoryKind.DOCUMENT]
    assert _episodes(verbatim) == [turn.content for turn in TURNS]
    assert script.calls == []


def test_a_fact_pointing_at_an_assistant_turn_is_credited_to_the_user_turn(
    fake: FakeOpenAIServer, chat: ChatClient
) -> None:
    ChatScript(fake).reply(
        '{"facts": [{"text": "Caroline likes Lisbon", "core": "true", "turn": 1}, "junk"]}'
    )
    (fact,) = _facts(LLMExtractor(chat).extract(TURNS, ExtractionContext()))
    assert fact.source_positions == [0] and fact.core
