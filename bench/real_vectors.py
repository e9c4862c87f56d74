"""Real embeddings for the vector benchmarks: LoCoMo texts and questions through the bundled model, cached.

Random unit vectors are HNSW's worst case (no clusters, every point about as far as every other), so a
recall measured on them says little about real use. This module gives real ones: up to ~30k distinct
texts taken from LoCoMo (turns, the sentences of multi-sentence turns, image captions, observations,
event and session summaries, and speaker-prefixed turns — in that order, duplicates dropped) and its
1,986 questions as queries, embedded with ``LocalEmbedder`` (all-MiniLM-L6-v2).

Embedding runs at ~40-100 short texts per CPU second, so vectors are cached in ``.npy`` files keyed by
a hash of the model id and the texts (default directory: ``$TMPDIR/memhub-bench``); only the first run
pays. Without the LoCoMo file (``bench/common.py``) it falls back to the synthetic corpus.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import time
from pathlib import Path

import numpy as np
from common import LOCOMO, locomo_turns

CACHE = Path(tempfile.gettempdir()) / "memhub-bench"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def corpus_texts(limit: int) -> list[str]:
    """The first ``limit`` distinct texts of the corpus (fewer if the corpus is smaller)."""
    texts: dict[str, None] = {}
    for candidate in _candidates():
        text = candidate.strip()
        if text:
            texts.setdefault(text)
            if len(texts) >= limit:
                break
    return list(texts)


def _candidates() -> list[str]:
    turns = locomo_turns()
    out = [text for _, text in turns]
    out += [s for _, text in turns for s in _SENTENCE.split(text) if len(s.split()) >= 4]
    if LOCOMO.exists():
        out += _annotations(json.loads(LOCOMO.read_text()))
    out += [f"{speaker}: {text}" for speaker, text in turns]
    return out


def _annotations(conversations: list[dict[str, object]]) -> list[str]:
    """Captions, observations, event summaries and session-summary sentences, conversation by conversation."""
    out: list[str] = []
    for conv in conversations:
        for turns in conv["conversation"].values():  # type: ignore[attr-defined]
            if isinstance(turns, list):
                out += [t["blip_caption"] for t in turns if t.get("blip_caption")]
        for session in conv["observation"].values():  # type: ignore[attr-defined]
            out += [item[0] for items in session.values() for item in items]
        for session in conv["event_summary"].values():  # type: ignore[attr-defined]
            out += [e for speaker, events in session.items() if speaker != "date" for e in events]
        for summary in conv["session_summary"].values():  # type: ignore[attr-defined]
            out += _SENTENCE.split(summary)
    return out


def questions(limit: int) -> list[str]:
    """LoCoMo's questions (real queries, none of them in the corpus); synthetic ones without the data."""
    if not LOCOMO.exists():
        return [f"what happened with topic {i % 97}?" for i in range(limit)]
    found = [qa["question"] for conv in json.loads(LOCOMO.read_text()) for qa in conv["qa"]]
    return list(dict.fromkeys(found))[:limit]


def embed_cached(texts: list[str], cache: Path = CACHE, threads: int | None = None) -> np.ndarray:
    """Unit vectors of ``texts`` (float32, one row each), read from the cache when it has them."""
    from memhub.pipeline.embedders.local_onnx import MODEL_ID, LocalEmbedder

    key = hashlib.sha256("\n".join([MODEL_ID, *texts]).encode()).hexdigest()[:20]
    path = cache / f"{MODEL_ID}-{len(texts)}-{key}.npy"
    if path.exists():
        return np.load(path)
    embedder = LocalEmbedder(threads=threads)
    started, parts = time.perf_counter(), []
    for i in range(0, len(texts), 1000):
        parts.append(np.asarray(embedder.embed(texts[i : i + 1000]), dtype=np.float32))
        done = i + len(parts[-1])
        print(f"embedded {done}/{len(texts)} ({done / (time.perf_counter() - started):.0f}/s)", flush=True)
    vectors = np.concatenate(parts) if parts else np.zeros((0, 384), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors
