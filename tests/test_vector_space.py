"""One vector space per store: choosing the bundled model, and refusing a store another model embedded."""

from __future__ import annotations

from pathlib import Path

import pytest

import memhub
from memhub.core.errors import InvalidInput
from memhub.runtime import Runtime, build_embedder, local_model_file
from memhub.settings import Settings
from support.embedders import HashEmbedder


def test_embed_model_selects_the_bundled_model() -> None:
    assert build_embedder(Settings()).model_id == "all-MiniLM-L6-v2"
    fast = Settings(embed_model="paraphrase-MiniLM-L3-v2")
    assert build_embedder(fast).model_id == "paraphrase-MiniLM-L3-v2"
    assert local_model_file(fast) == "paraphrase-MiniLM-L3-v2.int8.onnx"
    assert local_model_file(Settings()) == "all-MiniLM-L6-v2.int8.onnx"


def test_an_unknown_local_model_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidInput, match="all-MiniLM-L6-v2, paraphrase-MiniLM-L3-v2"):
        build_embedder(Settings(embed_model="text-embedding-3-small"))


def test_a_store_embedded_by_another_model_is_refused_naming_the_way_out(tmp_path: Path) -> None:
    with memhub.Client(path=str(tmp_path), embedder=HashEmbedder(64)) as client:
        done = client.memories.add([{"role": "user", "content": "I live in Lisbon."}], user_id="u", wait=True)
        assert done.memory_ids
    settings = Settings(data=tmp_path, database_url=None)
    with pytest.raises(InvalidInput) as refused:
        Runtime.open(settings, embedder=HashEmbedder(32))
    message = refused.value.message
    assert "test-hash-64" in message and "test-hash-32" in message
    assert "--embed-model test-hash-64" in message and "memhub reindex" in message
    # the same model opens the store as before, and its memories are still found
    with memhub.Client(path=str(tmp_path), embedder=HashEmbedder(64)) as client:
        assert client.memories.search("Lisbon", user_id="u", limit=3)
