"""The OpenAI-compatible HTTP embedder against a real fake server on a loopback port."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import numpy as np
import pytest

from memhub.core.errors import Unavailable
from memhub.core.ports import Embedder
from memhub.pipeline.embedders import OpenAIEmbedder
from memhub.testing.openai_server import FakeOpenAIServer, RecordedRequest, Reply, start_fake_openai_server

MODEL = "text-embedding-test"
SECRET = "sk-test-DO-NOT-LEAK-1234567890"


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with start_fake_openai_server(dim=8) as server:
        yield server


def make(fake: FakeOpenAIServer, **options: object) -> OpenAIEmbedder:
    options.setdefault("backoff", 0.01)
    return OpenAIEmbedder(fake.base_url, MODEL, **options)  # type: ignore[arg-type]


def embedding_inputs(fake: FakeOpenAIServer) -> list[list[str]]:
    return [r.body["input"] for r in fake.requests if r.path == "/v1/embeddings"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_embeds_in_input_order_and_normalises(fake: FakeOpenAIServer) -> None:
    texts = ["first", "second text", "third, longer text"]
    with make(fake) as embedder:
        got = embedder.embed(texts)
        assert isinstance(embedder, Embedder)
        assert embedder.model_id == f"openai:{MODEL}"
        assert embedder.dim == 8  # learned from the answer
    assert got.dtype == np.float32
    assert np.allclose(got, fake.expected(texts, MODEL), atol=1e-6)  # fake answers in reverse order
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    (request,) = fake.requests
    assert request.method == "POST"
    assert request.body == {"model": MODEL, "input": texts}
    assert "authorization" not in request.headers


def test_batches_across_several_requests(fake: FakeOpenAIServer) -> None:
    texts = [f"text {i}" for i in range(5)]
    with make(fake, batch_size=2) as embedder:
        got = embedder.embed(texts)
    assert embedding_inputs(fake) == [texts[0:2], texts[2:4], texts[4:5]]
    assert np.allclose(got, fake.expected(texts, MODEL), atol=1e-6)


def test_retries_after_a_500_then_succeeds(fake: FakeOpenAIServer) -> None:
    fake.fail_next(1, status=500)
    with make(fake) as embedder:
        got = embedder.embed(["retry me"])
    assert len(fake.requests) == 2
    assert np.allclose(got, fake.expected(["retry me"], MODEL), atol=1e-6)


def test_retries_a_429_honouring_retry_after(fake: FakeOpenAIServer) -> None:
    fake.fail_next(2, status=429, headers={"Retry-After": "0"})
    with make(fake) as embedder:
        embedder.embed(["rate limited"])
    assert len(fake.requests) == 3


def test_gives_up_after_max_retries(fake: FakeOpenAIServer) -> None:
    fake.fail(True, status=503)
    with make(fake, max_retries=2) as embedder, pytest.raises(Unavailable) as caught:
        embedder.embed(["never"])
    assert len(fake.requests) == 3
    assert "HTTP 503" in caught.value.message
    assert "3 attempts" in caught.value.message


def test_a_rejected_key_is_unavailable_and_never_leaked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with start_fake_openai_server(api_key="the-right-key") as fake:
        with make(fake, api_key=SECRET) as embedder, pytest.raises(Unavailable) as caught:
            embedder.embed(["hello"])
        assert len(fake.requests) == 1  # 401 is not retried
        assert fake.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    error = caught.value
    assert "401" in error.message
    assert "key" in error.message
    for text in (str(error), repr(error), str(error.details), repr(embedder), caplog.text):
        assert SECRET not in text
        assert SECRET[:12] not in text


def test_the_right_key_is_sent_as_a_bearer_token() -> None:
    with start_fake_openai_server(api_key=SECRET) as fake, make(fake, api_key=SECRET) as embedder:
        assert embedder.embed(["ok"]).shape == (1, 8)


def test_the_key_is_removed_from_quoted_server_errors() -> None:
    def echo(server: FakeOpenAIServer, request: RecordedRequest) -> Reply:
        sent = request.headers["authorization"]
        return Reply(400, {"error": {"message": f"bad request from {sent}"}})

    with start_fake_openai_server() as fake, make(fake, api_key=SECRET) as embedder:
        fake.route("/v1/embeddings", echo)
        with pytest.raises(Unavailable) as caught:
            embedder.embed(["x"])
        assert len(fake.requests) == 1  # 400 is not retried
    assert "bad request from Bearer ***" in caught.value.message
    assert SECRET not in str(caught.value)


def test_an_unreachable_endpoint_is_unavailable() -> None:
    port = free_port()
    url = f"http://user:pa55word@127.0.0.1:{port}/v1"
    embedder = OpenAIEmbedder(url, MODEL, api_key=SECRET, max_retries=1, backoff=0.01)
    with embedder, pytest.raises(Unavailable) as caught:
        embedder.embed(["anyone there?"])
    message = caught.value.message
    assert f"127.0.0.1:{port}/v1/embeddings" in message
    assert "2 attempts" in message
    assert "pa55word" not in message
    assert SECRET not in message


@pytest.mark.parametrize(
    "body",
    [
        {"data": []},
        {"nothing": True},
        {"data": [{"index": 0, "embedding": "not a list"}]},
        {"data": [{"index": 3, "embedding": [1.0, 2.0]}]},
        {"data": [{"index": 0, "embedding": [0.0, 0.0]}]},
        {"data": [{"index": 0, "embedding": [1.0, "x"]}]},
    ],
)
def test_a_malformed_answer_is_unavailable(fake: FakeOpenAIServer, body: object) -> None:
    fake.route("/v1/embeddings", lambda server, request: Reply(200, body))
    with make(fake) as embedder, pytest.raises(Unavailable) as caught:
        embedder.embed(["x"])
    assert "answered badly" in caught.value.message


def test_a_dimension_mismatch_is_unavailable(fake: FakeOpenAIServer) -> None:
    with make(fake, dim=16) as embedder, pytest.raises(Unavailable) as caught:
        embedder.embed(["x"])
    assert "8-dimensional" in caught.value.message


def test_dim_is_probed_when_asked_first(fake: FakeOpenAIServer) -> None:
    with make(fake) as embedder:
        assert embedder.dim == 8
        assert embedder.dim == 8
    assert len(fake.requests) == 1


def test_empty_input_makes_no_request_when_dim_is_known(fake: FakeOpenAIServer) -> None:
    with make(fake, dim=8) as embedder:
        got = embedder.embed([])
    assert got.shape == (0, 8)
    assert fake.requests == []


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        OpenAIEmbedder("ftp://example.invalid/v1", MODEL)
    with pytest.raises(ValueError):
        OpenAIEmbedder("http://127.0.0.1:1/v1", "")
    with pytest.raises(ValueError):
        OpenAIEmbedder("http://127.0.0.1:1/v1", MODEL, batch_size=0)
