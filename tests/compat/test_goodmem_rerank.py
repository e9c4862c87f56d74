"""GoodMem's registered rerankers, called for real, through the real GoodMem SDK.

A reranker registered with ``rerankers.create`` (provider, endpoint, model, API key) points at a fake
rerank server on loopback; ``retrieve(reranker_id=...)`` must order its ``rerank`` set as that server
scores the chunks, report those scores as ``relevanceScore`` (``relevance_threshold`` applies to them),
send the registered key, and — when the reranker fails — say ``RERANKING_FAILED`` and fall back to the
vector results instead of failing the retrieval (GoodMem spec §6.4 rule 6).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from goodmem import Goodmem

from memhub.testing.openai_server import FakeOpenAIServer, start_fake_openai_server
from memhub.testing.rerank_server import RerankRoute
from support.goodmem import base_url, temporary_space, wait_completed
from support.server import ServerHandle

KEY = "sk-rerank-goodmem"
TEXTS = (
    "Paris is the capital of France.",
    "France borders Spain and Italy.",
    "The Eiffel Tower was finished in 1889.",
)
SCORES = {"Eiffel": 0.9, "borders": 0.6, "capital": 0.1}


@pytest.fixture(scope="module")
def server(outbound_server: ServerHandle) -> ServerHandle:
    """The registered endpoints are fakes on 127.0.0.1: this server's operator allows that address."""
    return outbound_server


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAIServer]:
    with start_fake_openai_server(api_key=KEY) as server:
        yield server


@pytest.fixture(scope="module")
def route(fake: FakeOpenAIServer) -> RerankRoute:
    return RerankRoute(fake, SCORES)


@pytest.fixture(scope="module")
def setup(server: ServerHandle, fake: FakeOpenAIServer, route: RerankRoute) -> Iterator[tuple[Any, str, str]]:
    with (
        Goodmem(base_url=base_url(server), api_key=server.api_key) as client,
        temporary_space(client, "rerank") as space,
    ):
        for text in TEXTS:
            memory = client.memories.create(space_id=space.space_id, original_content=text)
            assert wait_completed(client, memory.memory_id).processing_status == "COMPLETED"
        reranker = client.rerankers.create(
            display_name="fake",
            provider_type="VLLM",
            endpoint_url=fake.base_url,  # .../v1 + VLLM's default /rerank
            model_identifier="bge-reranker-test",
            api_key=KEY,
        )
        assert reranker.credentials is None  # stored to call the reranker, never echoed
        yield client, space.space_id, reranker.reranker_id
        client.rerankers.delete(id=reranker.reranker_id)


def rerank_set(events: list[Any]) -> list[tuple[str, float]]:
    """(chunk text, relevance score) of the items of the ``rerank`` result set, in stream order."""
    begin = next(
        e.result_set_boundary
        for e in events
        if e.result_set_boundary and e.result_set_boundary.stage_name == "rerank"
    )
    return [
        (e.retrieved_item.chunk.chunk.chunk_text, e.retrieved_item.chunk.relevance_score)
        for e in events
        if e.retrieved_item and e.retrieved_item.chunk.result_set_id == begin.result_set_id
    ]


def test_the_registered_reranker_orders_the_rerank_set(
    setup: tuple[Any, str, str], fake: FakeOpenAIServer, route: RerankRoute
) -> None:
    client, sid, reranker_id = setup
    events = client.memories.retrieve(
        message="capital of France",
        space_ids=[sid],
        reranker_id=reranker_id,
        chronological_resort=False,
        stream=False,
    )
    assert rerank_set(events) == [(TEXTS[2], 0.9), (TEXTS[1], 0.6), (TEXTS[0], 0.1)]
    assert not [e for e in events if e.status]
    sent = fake.requests[-1]
    assert sent.path == "/v1/rerank" and sent.headers["authorization"] == f"Bearer {KEY}"
    assert route.bodies[-1]["model"] == "bge-reranker-test"
    assert sorted(route.calls[-1][1]) == sorted(TEXTS)


def test_relevance_threshold_applies_to_the_rerankers_scores(setup: tuple[Any, str, str]) -> None:
    client, sid, reranker_id = setup
    events = client.memories.retrieve(
        message="capital of France",
        space_ids=[sid],
        reranker_id=reranker_id,
        relevance_threshold=0.5,
        chronological_resort=False,
        stream=False,
    )
    assert rerank_set(events) == [(TEXTS[2], 0.9), (TEXTS[1], 0.6)]


def test_a_failing_reranker_falls_back_to_the_vector_results(
    setup: tuple[Any, str, str], fake: FakeOpenAIServer
) -> None:
    client, sid, reranker_id = setup
    fake.fail(status=500)
    try:
        events = client.memories.retrieve(
            message="capital of France",
            space_ids=[sid],
            reranker_id=reranker_id,
            chronological_resort=False,
            stream=False,
        )
    finally:
        fake.fail(False)
    (status,) = [e.status for e in events if e.status]
    assert str(status.code).endswith("RERANKING_FAILED") and "HTTP 500" in status.message
    vector = [
        (e.retrieved_item.chunk.chunk.chunk_text, e.retrieved_item.chunk.relevance_score)
        for e in events
        if e.retrieved_item
    ][: len(TEXTS)]
    assert rerank_set(events) == vector  # the vector order and scores, announced as not reranked


def test_by_default_the_rerank_set_is_resorted_chronologically(setup: tuple[Any, str, str]) -> None:
    """GoodMem's documented server defaults: ``chronological_resort`` true, ``max_results`` 10."""
    client, sid, reranker_id = setup
    events = client.memories.retrieve(
        message="capital of France", space_ids=[sid], reranker_id=reranker_id, stream=False
    )
    assert [text for text, _ in rerank_set(events)] == list(TEXTS)  # created in this order


def test_max_results_defaults_to_ten_whatever_the_requested_size(
    server: ServerHandle, setup: tuple[Any, str, str]
) -> None:
    client, _, reranker_id = setup
    with temporary_space(client, "rerank-many") as space:
        for i in range(12):
            memory = client.memories.create(
                space_id=space.space_id, original_content=f"Note {i} about France."
            )
            assert wait_completed(client, memory.memory_id).processing_status == "COMPLETED"
        events = client.memories.retrieve(
            message="France",
            space_ids=[space.space_id],
            reranker_id=reranker_id,
            requested_size=12,
            stream=False,
        )
    assert len(rerank_set(events)) == 10
    events_all = [e for e in events if e.retrieved_item]
    assert len(events_all) == 12 + 10  # the vector set keeps requestedSize; the rerank set is cut at 10


def test_chronological_resort_must_be_a_boolean(server: ServerHandle, setup: tuple[Any, str, str]) -> None:
    _, sid, reranker_id = setup
    body = {
        "message": "capital of France",
        "spaceKeys": [{"spaceId": sid}],
        "postProcessor": {
            "name": "com.goodmem.retrieval.postprocess.ChatPostProcessorFactory",
            "config": {"reranker_id": reranker_id, "chronological_resort": "yes"},
        },
    }
    answer = httpx.post(
        base_url(server) + "/v1/memories:retrieve", json=body, headers={"x-api-key": server.api_key}
    )
    assert answer.status_code == 400, answer.text
    assert "chronological_resort" in answer.text
