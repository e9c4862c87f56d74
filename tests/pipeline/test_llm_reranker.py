"""The LLM reranker over real HTTP to a fake chat server: grades become scores, and a bad model never
fails the search — it answers None ("no opinion") and says so in the log."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from memhub.core.ports import Reranker
from memhub.pipeline.llm import ChatClient
from memhub.pipeline.rerankers import LLMReranker
from memhub.testing.chat_server import ChatScript
from memhub.testing.openai_server import FakeOpenAIServer, start_fake_openai_server

DOCS = ["Berlin is in Germany.", "Paris is the capital of France.", "Cats sleep a lot."]


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with start_fake_openai_server() as server:
        yield server


@pytest.fixture
def make(fake: FakeOpenAIServer) -> Iterator[Callable[..., LLMReranker]]:
    """Rerankers on ``fake`` (closed after the test)."""
    made: list[LLMReranker] = []

    def build(**options: int) -> LLMReranker:
        made.append(LLMReranker(ChatClient(fake.base_url, "grader", backoff=0.01, max_retries=0), **options))
        return made[-1]

    yield build
    for reranker in made:
        reranker.close()


def test_grades_become_scores_in_unit_range(fake: FakeOpenAIServer, make: Callable[..., LLMReranker]) -> None:
    script = ChatScript(fake).reply('{"scores": [3, 10, 0]}')
    reranker = make()
    assert isinstance(reranker, Reranker)
    assert reranker.rerank("capital of France?", DOCS) == [0.3, 1.0, 0.0]
    prompt = script.calls[0][-1]["content"]
    assert "Query: capital of France?" in prompt and "[1] Paris is the capital of France." in prompt
    assert script.bodies[0]["response_format"] == {"type": "json_object"}


def test_out_of_range_grades_are_clamped(fake: FakeOpenAIServer, make: Callable[..., LLMReranker]) -> None:
    ChatScript(fake).reply('```json\n{"scores": [12, -1, 5.5]}\n```')  # fenced, as small models do
    assert make().rerank("q", DOCS) == [1.0, 0.0, 0.55]


def test_a_miscounted_reply_is_corrected_once(
    fake: FakeOpenAIServer, make: Callable[..., LLMReranker]
) -> None:
    script = ChatScript(fake).reply('{"scores": [9, 1]}', '{"scores": [9, 1, 2]}')
    assert make().rerank("q", DOCS) == [0.9, 0.1, 0.2]
    assert '"scores" has 2 grades for 3 passages' in script.calls[1][-1]["content"]


def test_two_unusable_replies_keep_the_order_and_log_why(
    fake: FakeOpenAIServer, make: Callable[..., LLMReranker], caplog: pytest.LogCaptureFixture
) -> None:
    ChatScript(fake).reply("I think the second one.", '{"ranking": "second"}')
    caplog.set_level(logging.WARNING, logger="memhub.pipeline.rerankers.llm")
    assert make().rerank("q", DOCS) is None
    assert "keeping the fused order" in caplog.text


def test_an_endpoint_that_is_down_keeps_the_order(
    fake: FakeOpenAIServer, make: Callable[..., LLMReranker]
) -> None:
    ChatScript(fake).status(500)
    assert make().rerank("q", DOCS) is None


def test_passages_are_graded_in_batches_and_cut(
    fake: FakeOpenAIServer, make: Callable[..., LLMReranker]
) -> None:
    script = ChatScript(fake).reply('{"scores": [1, 2]}', '{"scores": [3]}')
    long = "word " * 500
    assert make(batch_size=2, passage_chars=40).rerank("q", [long, "b", "c"]) == [0.1, 0.2, 0.3]
    assert len(script.calls) == 2
    assert len(script.calls[0][-1]["content"]) < 200  # the long passage was cut to 40 characters


def test_no_passages_ask_nothing(fake: FakeOpenAIServer, make: Callable[..., LLMReranker]) -> None:
    script = ChatScript(fake)
    assert make().rerank("q", []) == []
    assert script.calls == []
