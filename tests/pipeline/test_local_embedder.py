"""The bundled all-MiniLM-L6-v2 embedder, run for real (onnxruntime, shipped model files)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from memhub.core.ports import Embedder
from memhub.pipeline.embedders import LocalEmbedder

GOLDEN = Path(__file__).with_name("golden_vectors.json")

MIXED = [
    "short",
    "A medium-length sentence about the user's favourite hiking trails in the Alps.",
    "",
    " ".join(["A long text that keeps going about many different things."] * 12),
    "Hi!",
    "Second medium sentence: the meeting moved to Thursday at 15:30 CET.",
    "東京は日本の首都です。",
]


@pytest.fixture(scope="module")
def embedder() -> Iterator[LocalEmbedder]:
    model = LocalEmbedder()
    model.load()
    yield model


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)))


def test_matches_torch_golden_vectors(embedder: LocalEmbedder) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    texts = [item["text"] for item in golden["items"]]
    expected = np.array([item["vector"] for item in golden["items"]], dtype=np.float32)
    assert expected.shape == (len(texts), 384)
    got = embedder.embed(texts)
    for text, cosine in zip(texts, cosines(got, expected), strict=True):
        assert cosine >= 0.999, (text, cosine)


def test_implements_the_embedder_protocol(embedder: LocalEmbedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.model_id == "all-MiniLM-L6-v2"
    assert embedder.dim == 384


def test_rows_are_normalised_float32(embedder: LocalEmbedder) -> None:
    got = embedder.embed(MIXED)
    assert got.dtype == np.float32
    assert got.shape == (len(MIXED), 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert np.all(np.isfinite(got))


def test_batch_equals_one_by_one_in_input_order(embedder: LocalEmbedder) -> None:
    together = embedder.embed(MIXED)
    alone = np.concatenate([embedder.embed([text]) for text in MIXED])
    assert np.all(cosines(together, alone) > 0.99999)


def test_order_is_preserved_whatever_the_lengths(embedder: LocalEmbedder) -> None:
    forward = embedder.embed(MIXED)
    backward = embedder.embed(MIXED[::-1])
    assert np.allclose(forward, backward[::-1], atol=1e-5)
    # each row is its own text's vector: distinct texts, distinct rows
    similarity = forward @ forward.T
    assert np.all(np.argmax(similarity, axis=1) == np.arange(len(MIXED)))


def test_batch_size_and_token_budget_do_not_change_results(embedder: LocalEmbedder) -> None:
    small = LocalEmbedder(batch_size=2, max_batch_tokens=256)
    texts = MIXED * 3
    assert np.all(cosines(small.embed(texts), embedder.embed(texts)) > 0.99999)


def test_duplicates_get_identical_rows(embedder: LocalEmbedder) -> None:
    got = embedder.embed(["same text", "other", "same text"])
    assert np.allclose(got[0], got[2], atol=1e-6)


def test_empty_input_gives_an_empty_matrix(embedder: LocalEmbedder) -> None:
    for empty in ([], ()):
        got = embedder.embed(empty)
        assert got.shape == (0, 384)
        assert got.dtype == np.float32


def test_long_input_is_truncated_at_256_tokens(embedder: LocalEmbedder) -> None:
    head = " ".join(f"word{i}" for i in range(200))  # ~600 tokens: well past 256
    first = embedder.embed([head + " and then one ending", head + " but another, different ending"])
    assert np.allclose(first[0], first[1], atol=1e-6)  # only the first 256 tokens count
    huge = embedder.embed(["lorem ipsum " * 20_000])
    assert huge.shape == (1, 384)
    assert abs(float(np.linalg.norm(huge)) - 1.0) < 1e-5


def test_similar_texts_are_closer_than_unrelated_ones(embedder: LocalEmbedder) -> None:
    a, b, c = embedder.embed(
        ["I live in Lisbon, Portugal.", "My home is in Lisbon.", "The GPU kernel failed to compile."]
    )
    assert float(a @ b) > float(a @ c) + 0.3


def test_concurrent_calls_give_the_same_results(embedder: LocalEmbedder) -> None:
    texts = [f"thread sentence number {i} about topic {i % 3}" for i in range(40)]
    expected = embedder.embed(texts)
    results: dict[int, np.ndarray] = {}

    def work(k: int) -> None:
        results[k] = embedder.embed(texts[k::4])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for k in range(4):
        assert np.allclose(results[k], expected[k::4], atol=1e-5)


def test_lazy_load_from_any_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    fresh = LocalEmbedder(threads=1)
    assert fresh.dim == 384  # known without loading
    got = fresh.embed(["loaded through importlib.resources"])
    assert got.shape == (1, 384)


def test_rejects_bad_arguments(embedder: LocalEmbedder) -> None:
    with pytest.raises(ValueError):
        LocalEmbedder(threads=0)
    with pytest.raises(ValueError):
        LocalEmbedder(batch_size=0)
    with pytest.raises(ValueError):
        LocalEmbedder(max_batch_tokens=10)
    with pytest.raises(TypeError):
        embedder.embed([b"bytes are not text"])  # type: ignore[list-item]


def test_batches_of_one_call_run_in_parallel_with_the_same_rows(embedder: LocalEmbedder) -> None:
    texts = [f"message number {i} about {'hiking ' * (i % 7)}in the mountains" for i in range(40)]
    parallel = LocalEmbedder(threads=2, max_batch_tokens=256)
    got = parallel.embed(texts)
    one_by_one = np.vstack([embedder.embed([text]) for text in texts])
    assert np.allclose(got, one_by_one, atol=1e-5)
    assert any(t.name.startswith("memhub-embed") for t in threading.enumerate())


# --- the fast bundled model: paraphrase-MiniLM-L3-v2, dynamically quantised int8 ----------------------

FAST_GOLDEN = Path(__file__).with_name("golden_vectors_paraphrase-MiniLM-L3-v2.json")


@pytest.fixture(scope="module")
def fast() -> LocalEmbedder:
    return LocalEmbedder(model="paraphrase-MiniLM-L3-v2", threads=1)


def test_fast_model_matches_its_float32_golden_vectors(fast: LocalEmbedder) -> None:
    golden = json.loads(FAST_GOLDEN.read_text(encoding="utf-8"))
    texts = [item["text"] for item in golden["items"]]
    expected = np.array([item["vector"] for item in golden["items"]], dtype=np.float32)
    got = fast.embed(texts)
    # int8 compute: scripts/build_fast_model.py measured min 0.9939 over its 28 check sentences
    for text, cosine in zip(texts, cosines(got, expected), strict=True):
        assert cosine >= 0.99, (text, cosine)


def test_fast_model_names_its_own_vector_space(fast: LocalEmbedder) -> None:
    assert isinstance(fast, Embedder)
    assert fast.model_id == "paraphrase-MiniLM-L3-v2"
    assert fast.dim == 384
    default = LocalEmbedder(threads=1).embed(["I live in Lisbon."])
    assert float(cosines(fast.embed(["I live in Lisbon."]), default)[0]) < 0.99  # a different space


def test_fast_model_truncates_at_128_tokens_and_batches_like_the_default(fast: LocalEmbedder) -> None:
    head = " ".join(f"word{i}" for i in range(100))  # ~300 tokens: past 128
    first = fast.embed([head + " and then one ending", head + " but another, different ending"])
    assert np.allclose(first[0], first[1], atol=1e-6)
    together = fast.embed(MIXED)
    alone = np.concatenate([fast.embed([text]) for text in MIXED])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # int8 activations are quantised per model run with one scale for the whole batch, so a text's vector
    # moves slightly with its batch mates (measured 0.9949-1.0 here), unlike the float32-compute default
    assert np.all(cosines(together, alone) > 0.99)
    a, b, c = fast.embed(["I live in Lisbon, Portugal.", "My home is in Lisbon.", "The GPU kernel failed."])
    assert float(a @ b) > float(a @ c) + 0.3


def test_unknown_local_model_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="paraphrase-MiniLM-L3-v2"):
        LocalEmbedder(model="all-MiniLM-L12-v2")


def test_unshipped_model_names_its_width_and_the_script_that_builds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from memhub.core.errors import Unavailable
    from memhub.pipeline.embedders import local_onnx

    mpnet = LocalEmbedder(model="all-mpnet-base-v2", threads=1)
    assert mpnet.dim == 768  # the store sizes its vector space from this, before any file is read
    missing = local_onnx.LocalModel(file="absent.onnx", max_tokens=256, build="scripts/build_mpnet_model.py")
    monkeypatch.setitem(local_onnx.LOCAL_MODELS, "absent", missing)
    with pytest.raises(Unavailable, match=r"not shipped.*scripts/build_mpnet_model\.py"):
        LocalEmbedder(model="absent", threads=1).embed(["hello"])
