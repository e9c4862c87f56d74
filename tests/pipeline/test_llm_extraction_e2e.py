"""End to end: ``memhub serve --llm-base-url <fake>`` extracts a core fact that the SDK then finds."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from memhub.client import Client
from memhub.core.models import JobStatus, MemoryKind
from memhub.testing.chat_server import ChatScript
from memhub.testing.openai_server import FakeOpenAIServer, start_fake_openai_server
from support.server import StartServer

FACT = "Ada's daughter Mia is allergic to peanuts"


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with start_fake_openai_server() as server:
        yield server


def test_an_llm_extracted_core_fact_is_searchable_with_its_source(
    fake: FakeOpenAIServer, start_server: StartServer
) -> None:
    script = ChatScript(fake).reply(
        "```json\n"
        + json.dumps({"facts": [{"text": FACT, "core": True, "slot": "daughter allergy", "turn": 0}]})
        + "\n```"
    )
    server = start_server(args=("--llm-base-url", fake.base_url, "--llm-model", "tiny-local"))
    conversation = [
        {
            "role": "user",
            "name": "Ada",
            "content": "Mia can't have peanuts, remember that for recipes.",
            "id": "m1",
        },
        {"role": "assistant", "content": "Noted, no peanuts for Mia.", "id": "m2"},
    ]
    with Client(server.base_url, api_key=server.api_key) as client:
        pending = client.memories.add(conversation, user_id="ada")
        assert client.jobs.wait(pending.job_id, timeout=60).status == JobStatus.SUCCEEDED
        hits = client.memories.search(
            "what is Mia allergic to?", user_id="ada", kinds=[MemoryKind.FACT], core=True
        )
        episodes = client.memories.list(user_id="ada", kind="episode")
    assert hits and hits[0].memory.text == FACT and hits[0].memory.core
    assert hits[0].sources == ["m1"] and hits[0].memory.metadata["extractor"] == "llm"
    assert {m.text for m in episodes} == {c["content"] for c in conversation}  # the turns are kept verbatim
    assert (
        script.bodies[0]["model"] == "tiny-local"
        and "Mia can't have peanuts" in script.calls[0][-1]["content"]
    )
