"""``runtime.build_reranker``: which reranker the settings make, and the settings it refuses at start-up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from memhub.core.errors import InvalidInput
from memhub.pipeline.rerankers import HttpReranker, LLMReranker
from memhub.runtime import build_reranker
from memhub.settings import Settings


def test_no_base_url_means_no_reranker() -> None:
    assert build_reranker(Settings(rerank_model="m")) is None


def test_http_and_tei_make_an_http_reranker_and_llm_a_chat_grader() -> None:
    http = build_reranker(Settings(rerank_base_url="http://127.0.0.1:9/v1", rerank_model="bge"))
    tei = build_reranker(Settings(rerank_base_url="http://127.0.0.1:9", reranker="tei"))  # TEI needs no model
    llm = build_reranker(Settings(rerank_base_url="http://127.0.0.1:9/v1", reranker="llm", rerank_model="q"))
    assert isinstance(http, HttpReranker) and "'cohere'" in repr(http) and http.where.endswith("/v1/rerank")
    assert isinstance(tei, HttpReranker) and "'tei'" in repr(tei)
    assert isinstance(llm, LLMReranker)
    for reranker in (http, tei, llm):
        reranker.close()


def test_the_key_comes_from_the_environment_and_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMHUB_RERANK_API_KEY", "sk-rerank-secret")
    reranker = build_reranker(Settings(rerank_base_url="http://127.0.0.1:9/v1", rerank_model="bge"))
    assert isinstance(reranker, HttpReranker)
    assert "sk-rerank-secret" not in repr(reranker)
    reranker.close()


def test_a_base_url_without_a_model_is_refused_naming_the_flag() -> None:
    with pytest.raises(ValidationError, match="--rerank-model"):
        Settings(rerank_base_url="http://127.0.0.1:9/v1")


def test_a_non_http_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="http"):
        Settings(rerank_base_url="ftp://127.0.0.1/v1", rerank_model="bge")
    unchecked = Settings.model_construct(
        rerank_base_url="ftp://127.0.0.1/v1", rerank_model="bge", reranker="http"
    )
    with pytest.raises(InvalidInput, match="rerank-base-url"):  # runtime checks it again
        build_reranker(unchecked)
