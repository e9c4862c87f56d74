"""LLM post-processing through the real GoodMem SDK: ``llm_id`` makes the registered OpenAI-compatible
LLM (here a local fake chat-completions server) write one ``abstractReply`` after the result sets,
sync and async, streamed and not; a failing LLM becomes a ``status`` event, bad options a 400."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from goodmem import AsyncGoodmem, BadRequestError, Goodmem

from memhub.testing.openai_server import FakeOpenAIServer, RecordedRequest, Reply, start_fake_openai_server
from memhub.testing.rerank_server import RerankRoute
from support.goodmem import base_url, temporary_space, wait_completed
from support.server import ServerHandle

KEY = "sk-test-llm"


def chat(server: FakeOpenAIServer, request: RecordedRequest) -> Reply:
    """Answers with the number of memories it was shown, so the test can tell they were sent."""
    prompt = request.body["messages"][-1]["content"]
    shown = prompt.count("\n[")
    text = f"{shown} memories say Paris is the capital of France."
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    return Reply(200, {"id": "c1", "object": "chat.completion", "model": "m", "choices": [choice]})


@pytest.fixture(scope="module")
def server(outbound_server: ServerHandle) -> ServerHandle:
    """The registered endpoints are fakes on 127.0.0.1: this server's operator allows that address."""
    return outbound_server


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeOpenAIServer]:
    with start_fake_openai_server(api_key=KEY) as fake:
        fake.route("/v1/chat/completions", chat)
        yield fake


@pytest.fixture(scope="module")
def setup(server: ServerHandle, fake_llm: FakeOpenAIServer) -> Iterator[tuple[Any, str, str]]:
    with (
        Goodmem(base_url=base_url(server), api_key=server.api_key) as client,
        temporary_space(client, "llm") as space,
    ):
        for text in ("Paris is the capital of France.", "France borders Spain and Italy."):
            memory = client.memories.create(space_id=space.space_id, original_content=text)
            assert wait_completed(client, memory.memory_id).processing_status == "COMPLETED"
        llm = client.llms.create(
            display_name="fake",
            provider_type="CUSTOM_OPENAI_COMPATIBLE",
            endpoint_url=fake_llm.base_url,
            model_identifier="fake-chat",
            api_key=KEY,
        ).llm
        assert llm.credentials is None  # stored to call the LLM, never echoed
        yield client, space.space_id, llm.llm_id
        client.llms.delete(id=llm.llm_id)


def test_llm_writes_the_abstract_reply_last(setup: tuple[Any, str, str], fake_llm: FakeOpenAIServer) -> None:
    client, sid, llm_id = setup
    events = client.memories.retrieve(
        message="What is the capital of France?",
        space_ids=[sid],
        llm_id=llm_id,
        llm_temp=0.5,
        gen_token_budget=64,
        sys_prompt="Answer briefly.",
        stream=False,
    )
    reply = events[-1].abstract_reply
    assert reply is not None and reply.text == "2 memories say Paris is the capital of France."
    last_set = [e.result_set_boundary for e in events if e.result_set_boundary][-1]
    assert reply.result_set_id == last_set.result_set_id
    scores = [e.retrieved_item.chunk.relevance_score for e in events if e.retrieved_item]
    assert reply.relevance_score == pytest.approx(max(scores))
    sent = fake_llm.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert (sent.body["model"], sent.body["temperature"], sent.body["max_tokens"]) == ("fake-chat", 0.5, 64)
    assert sent.body["messages"][0] == {"role": "system", "content": "Answer briefly."}
    assert "Paris is the capital of France." in sent.body["messages"][1]["content"]


def test_llm_after_reranker_summarises_the_reranked_set(
    setup: tuple[Any, str, str], fake_llm: FakeOpenAIServer
) -> None:
    client, sid, llm_id = setup
    RerankRoute(fake_llm, {"borders": 0.9, "capital": 0.2})  # the same fake serves /v1/rerank too
    reranker = client.rerankers.create(
        display_name="rr",
        provider_type="VLLM",
        endpoint_url=fake_llm.base_url,
        model_identifier="r",
        api_key=KEY,
    )
    try:
        with client.memories.retrieve(
            message="capital of France",
            space_ids=[sid],
            reranker_id=reranker.reranker_id,
            llm_id=llm_id,
            max_results=1,
        ) as stream:
            events = list(stream)
    finally:
        client.rerankers.delete(id=reranker.reranker_id)
    stages = [e.result_set_boundary.stage_name for e in events if e.result_set_boundary]
    assert stages == ["vector_search", "vector_search", "rerank", "rerank"]
    assert not [e for e in events if e.status]  # the reranker answered
    assert events[-1].abstract_reply.text.startswith("1 memories")  # only the reranked, capped set
    prompt = fake_llm.requests[-1].body["messages"][-1]["content"]
    assert "France borders Spain and Italy." in prompt  # the reranker's best, not the vector search's


def test_llm_async(server: ServerHandle, setup: tuple[Any, str, str]) -> None:
    _, sid, llm_id = setup

    async def run() -> None:
        ac: Any
        async with AsyncGoodmem(base_url=base_url(server), api_key=server.api_key) as ac:
            async with await ac.memories.retrieve(message="France", space_ids=[sid], llm_id=llm_id) as s:
                events = [e async for e in s]
            assert events[-1].abstract_reply.text.endswith("capital of France.")

    asyncio.run(run())


def test_failing_llm_is_a_status_event_and_bad_options_a_400(
    setup: tuple[Any, str, str], fake_llm: FakeOpenAIServer
) -> None:
    client, sid, llm_id = setup
    fake_llm.fail(status=503)
    try:
        events = client.memories.retrieve(message="France", space_ids=[sid], llm_id=llm_id, stream=False)
    finally:
        fake_llm.fail(on=False)
    assert any(e.retrieved_item for e in events)
    assert str(events[-1].status.code).endswith("SUMMARIZATION_FAILED") and "503" in events[-1].status.message
    with pytest.raises(BadRequestError):
        client.memories.retrieve(message="France", space_ids=[sid], llm_id=llm_id, llm_temp=3.0, stream=False)
