"""Reconciliation of LLM-extracted facts with the user's existing ones, through the real worker.

A real engine (SQLite file, bundled local model for the dense fact search) with the LLM extractor pointed
at a fake chat server: a new fact supersedes, updates, repeats or joins what is known, and a superseded
fact keeps its text, its sources and gets ``valid_to``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from memhub.core.models import Memory, MemoryKind, MessageInput
from memhub.core.ports import Embedder
from memhub.runtime import Runtime, build_embedder
from memhub.settings import Settings
from memhub.testing.chat_server import ChatScript
from memhub.testing.openai_server import FakeOpenAIServer, start_fake_openai_server


@pytest.fixture(scope="module")
def local_embedder() -> Embedder:
    return build_embedder(Settings())


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with start_fake_openai_server() as server:
        yield server


@pytest.fixture
def script(fake: FakeOpenAIServer) -> ChatScript:
    return ChatScript(fake)


@pytest.fixture
def runtime(tmp_path: Path, fake: FakeOpenAIServer, local_embedder: Embedder) -> Iterator[Runtime]:
    settings = Settings(data=tmp_path, llm_base_url=fake.base_url, llm_model="small-model", llm_max_retries=0)
    rt = Runtime.open(settings, embedder=local_embedder)
    yield rt
    rt.close()


def _facts_reply(*facts: tuple[str, str | None]) -> str:
    return json.dumps({"facts": [{"text": t, "core": True, "slot": s, "turn": 0} for t, s in facts]})


def _say(runtime: Runtime, text: str, msg_id: str, day: int) -> None:
    tenant = runtime.service.ensure_tenant("acme")
    when = datetime(2024, 3, day, 9, 0, tzinfo=timezone.utc)
    message = MessageInput(role="user", content=text, id=msg_id, timestamp=when)
    runtime.service.add_messages(tenant.id, [message], user_id="alice")
    runtime.worker.run_until_idle()


def _facts(runtime: Runtime, *, include_superseded: bool = False) -> dict[str, Memory]:
    tenant = runtime.service.ensure_tenant("acme")
    page = runtime.service.list_memories(
        tenant.id, user_id="alice", kinds=[MemoryKind.FACT], include_superseded=include_superseded
    )
    return {m.text: m for m in page.items}


def test_a_changed_fact_supersedes_the_old_one_keeping_history_and_provenance(
    runtime: Runtime, script: ChatScript
) -> None:
    script.reply(_facts_reply(("User lives in Lisbon", "home")))
    _say(runtime, "I live in Lisbon.", "msg-1", 1)
    script.reply(
        _facts_reply(("User moved to Porto", "home")),
        '{"decisions": [{"new": "N1", "action": "SUPERSEDE", "target": "E1", "text": null}]}',
    )
    _say(runtime, "We just moved to Porto!", "msg-2", 20)

    live = _facts(runtime)
    assert list(live) == ["User moved to Porto"]
    everything = _facts(runtime, include_superseded=True)
    old, new = everything["User lives in Lisbon"], everything["User moved to Porto"]
    assert old.superseded_by == new.id and old.valid_to is not None
    assert new.valid_from == datetime(2024, 3, 20, 9, 0, tzinfo=timezone.utc)
    assert [s.public_id for s in old.sources] == ["msg-1"] and [s.public_id for s in new.sources] == ["msg-2"]
    assert new.metadata["change"] == "supersede" and new.core
    decision_prompt = script.calls[-1][-1]["content"]
    assert "E1: User lives in Lisbon (since 1 March 2024)" in decision_prompt
    assert "N1: User moved to Porto (compare with E1)" in decision_prompt


def test_an_update_replaces_the_fact_with_the_merged_text(runtime: Runtime, script: ChatScript) -> None:
    script.reply(_facts_reply(("User has a dog named Rex", None)))
    _say(runtime, "I have a dog named Rex.", "msg-1", 1)
    script.reply(
        _facts_reply(("User's dog Rex is a beagle", None)),
        '{"decisions": [{"new": "N1", "action": "UPDATE", "target": "E1", '
        '"text": "User has a beagle named Rex"}]}',
    )
    _say(runtime, "Rex is a beagle, by the way.", "msg-2", 2)
    # no slot on either fact: the old one was found by meaning, through the store's dense index
    assert "E1: User has a dog named Rex" in script.calls[-1][-1]["content"]
    assert list(_facts(runtime)) == ["User has a beagle named Rex"]
    assert _facts(runtime)["User has a beagle named Rex"].metadata["change"] == "update"


def test_a_known_fact_is_not_stored_twice_and_costs_no_decision(runtime: Runtime, script: ChatScript) -> None:
    script.reply(_facts_reply(("User is vegetarian", "diet")), _facts_reply(("User is vegetarian.", "diet")))
    _say(runtime, "I'm vegetarian.", "msg-1", 1)
    _say(runtime, "As I said, I'm vegetarian.", "msg-2", 2)
    assert list(_facts(runtime, include_superseded=True)) == ["User is vegetarian"]
    assert len(script.calls) == 2  # two extractions, no reconciliation call


def test_an_unrelated_fact_is_added_beside_the_others(runtime: Runtime, script: ChatScript) -> None:
    script.reply(_facts_reply(("User lives in Lisbon", "home")))
    _say(runtime, "I live in Lisbon.", "msg-1", 1)
    script.reply(_facts_reply(("User plays the cello", "instrument")))
    _say(runtime, "I play the cello.", "msg-2", 2)
    assert set(_facts(runtime)) == {"User lives in Lisbon", "User plays the cello"}


def test_an_unusable_decision_falls_back_to_slot_equality(runtime: Runtime, script: ChatScript) -> None:
    script.reply(_facts_reply(("User works as a nurse", "work")))
    _say(runtime, "I work as a nurse.", "msg-1", 1)
    script.reply(_facts_reply(("User works as a teacher", "work")), "hmm", "I think E1?")
    _say(runtime, "I'm a teacher now.", "msg-2", 2)
    everything = _facts(runtime, include_superseded=True)
    assert everything["User works as a nurse"].superseded_by == everything["User works as a teacher"].id
    assert len(script.calls) == 4  # extraction, decision, corrected decision, then the rule
