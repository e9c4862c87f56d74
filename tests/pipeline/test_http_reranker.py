"""The HTTP reranker against a real fake rerank server on a loopback port (memhub.testing.rerank_server)."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator

import pytest

from memhub.core.errors import InvalidInput, NotSupported, Unavailable
from memhub.core.ports import Reranker
from memhub.pipeline.rerankers import HttpReranker, reranker_for, to_unit_interval
from memhub.testing.openai_server import FakeOpenAIServer, RecordedRequest, Reply, start_fake_openai_server
from memhub.testing.rerank_server import RerankRoute

MODEL = "rerank-test"
SECRET = "sk-rerank-DO-NOT-LEAK-0987654321"
DOCS = ["Berlin is in Germany.", "Paris is the capital of France.", "Cats sleep a lot."]


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with start_fake_openai_server() as server:
        yield server


def make(fake: FakeOpenAIServer, **options: object) -> HttpReranker:
    options.setdefault("backoff", 0.01)
    return HttpReranker(fake.base_url, MODEL, **options)  # type: ignore[arg-type]


def test_scores_come_back_in_input_order_although_the_server_answers_best_first(
    fake: FakeOpenAIServer,
) -> None:
    route = RerankRoute(fake, {"Paris": 0.9, "Berlin": 0.4})
    with make(fake) as reranker:
        assert isinstance(reranker, Reranker)
        scores = reranker.rerank("capital of France?", DOCS)
    assert scores == [0.4, 0.9, 0.0]
    assert route.bodies == [{"model": MODEL, "query": "capital of France?", "documents": DOCS, "top_n": 3}]


def test_logits_are_passed_through_the_sigmoid_and_keep_their_order(fake: FakeOpenAIServer) -> None:
    RerankRoute(fake, {"Paris": 4.5, "Berlin": -1.0}, default=-7.0)  # vLLM / llama.cpp raw scores
    with make(fake) as reranker:
        scores = reranker.rerank("capital of France?", DOCS)
    assert scores == pytest.approx(
        [1 / (1 + math.exp(1.0)), 1 / (1 + math.exp(-4.5)), 1 / (1 + math.exp(7.0))]
    )
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[1] > scores[0] > scores[2]


def test_probabilities_are_kept_as_they_are_and_extreme_logits_stay_in_range() -> None:
    assert to_unit_interval([0.0, 0.25, 1.0]) == [0.0, 0.25, 1.0]
    squashed = to_unit_interval([1e6, -1e6, 0.0])  # no overflow on either side
    assert squashed == [1.0, 0.0, 0.5]


def test_batches_are_merged_and_judged_together(fake: FakeOpenAIServer) -> None:
    route = RerankRoute(fake, {"Paris": 3.0}, default=0.5)  # only the first batch holds a logit
    with make(fake, batch_size=2) as reranker:
        scores = reranker.rerank("q", DOCS)
    assert [len(docs) for _, docs in route.calls] == [2, 1]
    assert scores == pytest.approx(
        [1 / (1 + math.exp(-0.5)), 1 / (1 + math.exp(-3.0)), 1 / (1 + math.exp(-0.5))]
    )


def test_tei_dialect_sends_texts_and_reads_a_bare_list(fake: FakeOpenAIServer) -> None:
    route = RerankRoute(fake, {"Paris": 0.8})
    with HttpReranker(fake.base_url, dialect="tei") as reranker:
        assert reranker.rerank("q", DOCS) == [0.0, 0.8, 0.0]
    assert route.bodies == [{"query": "q", "texts": DOCS, "raw_scores": False}]


def test_server_errors_are_retried_then_succeed(fake: FakeOpenAIServer) -> None:
    RerankRoute(fake, {"Paris": 0.9})
    fake.fail_next(2, status=503)
    with make(fake, max_retries=2) as reranker:
        assert reranker.rerank("q", DOCS) == [0.0, 0.9, 0.0]
    assert len(fake.requests) == 3


def test_server_errors_end_as_unavailable_after_the_retries(fake: FakeOpenAIServer) -> None:
    RerankRoute(fake, {})
    fake.fail(status=500)
    with make(fake, max_retries=1) as reranker, pytest.raises(Unavailable) as caught:
        reranker.rerank("q", DOCS)
    assert "failed after 2 attempts: it answered HTTP 500" in caught.value.message
    assert len(fake.requests) == 2


def test_a_client_error_is_not_retried(fake: FakeOpenAIServer) -> None:
    with make(fake, max_retries=3) as reranker, pytest.raises(Unavailable) as caught:
        reranker.rerank("q", DOCS)  # no /v1/rerank route: 404
    assert "refused the request (HTTP 404" in caught.value.message
    assert len(fake.requests) == 1


def test_a_slow_server_times_out(fake: FakeOpenAIServer) -> None:
    RerankRoute(fake, {})
    fake.delay = 1.0
    with make(fake, timeout=0.2, max_retries=1) as reranker, pytest.raises(Unavailable) as caught:
        reranker.rerank("q", DOCS)
    assert "Timeout" in caught.value.message
    assert len(fake.requests) == 2


def test_the_key_is_sent_but_never_quoted(fake: FakeOpenAIServer, caplog: pytest.LogCaptureFixture) -> None:
    fake.api_key = "the-right-key"  # a wrong key gets a 401 whose message echoes it
    caplog.set_level(logging.DEBUG)
    with make(fake, api_key=SECRET) as reranker, pytest.raises(Unavailable) as caught:
        reranker.rerank("q", DOCS)
    assert fake.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert "the API key was rejected" in caught.value.message
    assert SECRET not in str(caught.value) + repr(reranker) + caplog.text + str(caught.value.details)


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"results": [{"index": 0, "relevance_score": 0.5}]}, "expected 'results' with 3 scores, got 1"),
        ({"results": [{"index": i % 2, "relevance_score": 0.5} for i in range(3)]}, "not a permutation"),
        ({"results": [{"index": i, "relevance_score": "high"} for i in range(3)]}, "no finite"),
        ({"results": [{"index": i, "relevance_score": float("nan")} for i in range(3)]}, "no finite"),
        ({"answer": []}, "expected 'results'"),
    ],
)
def test_a_bad_answer_is_unavailable_not_a_guess(
    fake: FakeOpenAIServer, answer: object, problem: str
) -> None:
    fake.route("/v1/rerank", lambda server, request: Reply(200, answer))
    with make(fake) as reranker, pytest.raises(Unavailable) as caught:
        reranker.rerank("q", DOCS)
    assert problem in caught.value.message


def test_no_passages_make_no_request(fake: FakeOpenAIServer) -> None:
    with make(fake) as reranker:
        assert reranker.rerank("q", []) == []
    assert fake.requests == []


def test_registry_providers_pick_dialect_and_path(fake: FakeOpenAIServer) -> None:
    seen: list[RecordedRequest] = []

    def record(server: FakeOpenAIServer, request: RecordedRequest) -> Reply:
        seen.append(request)
        return Reply(200, {"results": [{"index": 0, "relevance_score": 0.5}]})

    root = fake.base_url.removesuffix("/v1")
    for path in ("/v2/rerank", "/v1/rerank", "/custom/rank"):
        fake.route(path, record)
    with reranker_for("COHERE", root, "rerank-v3.5") as cohere:
        cohere.rerank("q", ["d"])
    with reranker_for("jina", root, "jina-reranker-v2") as jina:
        jina.rerank("q", ["d"])
    with reranker_for("VLLM", root, "bge", api_path="/custom/rank") as custom:
        custom.rerank("q", ["d"])
    assert [r.path for r in seen] == ["/v2/rerank", "/v1/rerank", "/custom/rank"]
    with pytest.raises(NotSupported, match="DASHSCOPE"):
        reranker_for("DASHSCOPE", root, "gte-rerank")
    with pytest.raises(InvalidInput, match="http"):
        reranker_for("COHERE", "ftp://example.invalid", "rerank-v3.5")
