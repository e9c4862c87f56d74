"""``--reranker llm`` end to end: a real ``memhub serve`` whose reranker is a chat model (a fake chat
server on loopback). Its grades reorder the results; a reply that can't be used keeps the fused order and
the search still answers 200."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from memhub.testing.chat_server import ChatScript
from memhub.testing.openai_server import FakeOpenAIServer, start_fake_openai_server
from support.api import add_messages, search_episodes
from support.server import ServerHandle, launch_server

TEXTS = (
    "My cat Miso sleeps on the radiator all winter.",
    "I keep two goldfish in a tank in the kitchen.",
    "Our dog Rex chases the neighbour's cat every morning.",
)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAIServer]:
    with start_fake_openai_server() as server:
        yield server


@pytest.fixture(scope="module")
def script(fake: FakeOpenAIServer) -> ChatScript:
    return ChatScript(fake, default="I would rather not grade these.")


@pytest.fixture(scope="module")
def llm_server(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAIServer, script: ChatScript
) -> Iterator[ServerHandle]:
    handle = launch_server(
        tmp_path_factory.mktemp("memhub-rerank-llm"),
        reranker="llm",
        rerank_base_url=fake.base_url,
        rerank_model="grader",
    )
    yield handle
    handle.stop()


@pytest.fixture
def client(llm_server: ServerHandle) -> Iterator[httpx.Client]:
    with llm_server.client() as c:
        yield c


@pytest.fixture(scope="module")
def user(llm_server: ServerHandle) -> str:
    user_id = f"pets-{uuid.uuid4().hex[:8]}"
    with llm_server.client() as c:
        add_messages(c, user_id, *TEXTS)
    return user_id


def search(client: httpx.Client, user: str, **options: Any) -> list[dict[str, Any]]:
    return search_episodes(client, user, "which pet lives with a cat?", **options)


def test_the_models_grades_reorder_the_results(client: httpx.Client, script: ChatScript, user: str) -> None:
    fused = [r["memory"]["text"] for r in search(client, user)]
    script.reply(json.dumps({"scores": [0, 5, 10]}))  # passages are shown in fused order: reverse it
    reranked = search(client, user, rerank=True)
    assert [r["memory"]["text"] for r in reranked] == fused[::-1]
    assert [r["rank_score"] for r in reranked] == [1.0, 0.5, 0.0]
    prompt = script.calls[-1][-1]["content"]
    assert all(f"[{i}] {text}" in prompt for i, text in enumerate(fused))


def test_an_unusable_reply_keeps_the_fused_order(client: httpx.Client, script: ChatScript, user: str) -> None:
    fused = search(client, user)
    asked = len(script.calls)
    reranked = search(client, user, rerank=True)  # the default reply is prose, twice
    assert len(script.calls) == asked + 2  # one corrective retry, then it gives up
    assert [(r["memory"]["id"], r["rank_score"]) for r in reranked] == [
        (r["memory"]["id"], r["rank_score"]) for r in fused
    ]
