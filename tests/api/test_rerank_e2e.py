"""Reranking end to end: a real ``memhub serve`` started with ``--rerank-base-url`` pointing at a fake
rerank server on loopback, searched over raw HTTP and through the SDK.

What is pinned: ``rerank=true`` orders results as the reranker scores them (its score, sigmoid-squashed
from logits, becomes ``rank_score``; ``score`` stays the calibrated similarity); ``rerank=false`` never
calls it; a reranker that fails makes the search a 503 naming the endpoint (the caller asked for an order
that cannot be had, so it is not silently dropped); a server without a reranker refuses ``rerank=true``
with a 422 naming the setting.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from memhub.client import Client, ServiceUnavailableError, UnprocessableEntityError
from memhub.testing.openai_server import FakeOpenAIServer, start_fake_openai_server
from memhub.testing.rerank_server import RerankRoute
from support.api import add_messages, assert_envelope, search_episodes
from support.server import ServerHandle, launch_server

MODEL = "fake-reranker"
TEXTS = (
    "My cat Miso sleeps on the radiator all winter.",
    "I keep two goldfish in a tank in the kitchen.",
    "Our dog Rex chases the neighbour's cat every morning.",
)
LOGITS = {"goldfish": 4.0, "Rex": 1.0, "Miso": -2.0}  # the reranker's opinion, as raw logits


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAIServer]:
    with start_fake_openai_server() as server:
        yield server


@pytest.fixture(scope="module")
def route(fake: FakeOpenAIServer) -> RerankRoute:
    return RerankRoute(fake, LOGITS)


@pytest.fixture(scope="module")
def reranking_server(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAIServer, route: RerankRoute
) -> Iterator[ServerHandle]:
    handle = launch_server(
        tmp_path_factory.mktemp("memhub-rerank"), rerank_base_url=fake.base_url, rerank_model=MODEL
    )
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def user(reranking_server: ServerHandle) -> str:
    user_id = f"pets-{uuid.uuid4().hex[:8]}"
    with reranking_server.client() as client:
        add_messages(client, user_id, *TEXTS)
    return user_id


def search(client: httpx.Client, user: str, **options: Any) -> list[dict[str, Any]]:
    return search_episodes(client, user, "which pet does the cat live with?", **options)


def test_rerank_orders_results_by_the_rerankers_scores(
    reranking_server: ServerHandle, route: RerankRoute, user: str
) -> None:
    with reranking_server.client() as client:
        calls = len(route.calls)
        fused = search(client, user)
        assert len(route.calls) == calls  # rerank=false never calls the reranker
        reranked = search(client, user, rerank=True)
    assert [r["memory"]["text"] for r in reranked] == [TEXTS[1], TEXTS[2], TEXTS[0]]
    assert [r["memory"]["text"] for r in fused] != [TEXTS[1], TEXTS[2], TEXTS[0]]  # the reranker moved them
    assert [r["rank_score"] for r in reranked] == pytest.approx([sigmoid(4.0), sigmoid(1.0), sigmoid(-2.0)])
    similarity = {r["memory"]["id"]: r["score"] for r in fused}
    assert {r["memory"]["id"]: r["score"] for r in reranked} == similarity  # score is still the similarity
    query, documents = route.calls[-1]
    assert query == "which pet does the cat live with?" and sorted(documents) == sorted(TEXTS)
    assert route.bodies[-1]["model"] == MODEL


def test_the_sdk_asks_for_reranking(reranking_server: ServerHandle, user: str) -> None:
    with Client(reranking_server.base_url, reranking_server.api_key) as sdk:
        results = sdk.memories.search("which pet does the cat live with?", user_id=user, rerank=True)
    assert results[0].memory.text == TEXTS[1]
    assert results[0].rank_score == pytest.approx(sigmoid(4.0))


def test_a_failing_reranker_makes_the_search_a_503_naming_it(
    reranking_server: ServerHandle, fake: FakeOpenAIServer, user: str
) -> None:
    fake.fail(status=500)
    try:
        with reranking_server.client() as client:
            response = client.post(
                "/v1/memories/search", json={"query": "cat", "user_id": user, "rerank": True}
            )
            error = assert_envelope(response, 503, "unavailable")
            assert "rerank endpoint" in error["message"] and "HTTP 500" in error["message"]
            assert search(client, user)  # without rerank the search still answers
    finally:
        fake.fail(False)


def test_rerank_without_a_reranker_is_refused_naming_the_setting(server: ServerHandle) -> None:
    with server.client() as client:
        response = client.post("/v1/memories/search", json={"query": "cat", "rerank": True})
    error = assert_envelope(response, 422, "invalid_input")
    assert "--rerank-base-url" in error["message"] and "MEMHUB_RERANK_BASE_URL" in error["message"]
    with Client(server.base_url, server.api_key) as sdk, pytest.raises(UnprocessableEntityError):
        sdk.memories.search("cat", rerank=True)


def test_the_sdk_sees_a_failing_reranker_as_unavailable(
    reranking_server: ServerHandle, fake: FakeOpenAIServer, user: str
) -> None:
    fake.fail(status=503)
    try:
        with (
            Client(reranking_server.base_url, reranking_server.api_key, max_retries=0) as sdk,
            pytest.raises(ServiceUnavailableError),
        ):
            sdk.memories.search("cat", user_id=user, rerank=True)
    finally:
        fake.fail(False)
