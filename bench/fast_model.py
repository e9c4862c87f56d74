"""CPU cost and quality of the two bundled models, through memhub's ``LocalEmbedder``, in one run.

For each model (``all-MiniLM-L6-v2``, ``paraphrase-MiniLM-L3-v2``), with one onnxruntime thread:

- ``cpu_ms_per_key``: CPU time of this process (``time.process_time``, not wall: the machine is shared)
  per memhub dense key (``[date] speaker: turn`` + the previous turn, as ``bench/embed.py`` builds them),
  embedded in calls of 32 as the worker does;
- ``cpu_ms_per_query``: per LoCoMo question (or a chat turn without the data), one call each, as a
  search does.

The models take turns, round by round, so both see the same load. With ``--fp32 PATH`` (the float32
graph ``scripts/build_fast_model.py --keep-float PATH`` writes) it also reports the minimum and mean
cosine of L3-int8 to L3-float32 over the keys and queries, each embedded alone.

    nice -n 10 python bench/fast_model.py [--keys 512] [--queries 200] [--rounds 3] [--fp32 PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from embed import LOCOMO, dense_keys, sentences

from memhub.pipeline.embedders.local_onnx import FAST_MODEL_ID, MODEL_ID, LocalEmbedder

RESULTS = Path(__file__).resolve().parent / "results" / "fast_model.json"


def questions(n: int) -> list[str]:
    texts: list[str] = []
    if LOCOMO.exists():
        for conversation in json.loads(LOCOMO.read_text(encoding="utf-8")):
            texts.extend(str(qa["question"]) for qa in conversation["qa"])
    return (texts or sentences(n))[:n]


def cpu_ms(embed: Callable[[Sequence[str]], Any], texts: list[str], batch: int) -> float:
    start = time.process_time()
    for offset in range(0, len(texts), batch):
        embed(texts[offset : offset + batch])
    return (time.process_time() - start) * 1000 / len(texts)


def fp32_cosines(fp32: Path, embedder: LocalEmbedder, texts: list[str]) -> tuple[float, float]:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    folder = Path(__file__).resolve().parents[1] / "src" / "memhub" / "pipeline" / "model"
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=128)
    tokenizer.no_padding()  # tokenizer.json pads by default; one text per run needs none
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(fp32), options, providers=["CPUExecutionProvider"])
    cosines = []
    for text in texts:
        encoding = tokenizer.encode(text)
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.ones_like(ids)
        hidden = session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})[0]
        reference = hidden.mean(axis=1)[0]
        reference /= np.linalg.norm(reference)
        cosines.append(float(embedder.embed([text])[0] @ reference))
    return round(min(cosines), 4), round(float(np.mean(cosines)), 4)


def compare(
    models: dict[str, LocalEmbedder], keys: list[str], asked: list[str], rounds: int
) -> dict[str, Any]:
    """Median CPU ms per key and per query of each model, the models taking turns round by round."""
    for model in models.values():
        model.embed(keys[:32] + asked[:8])  # load and warm up
    load_before = os.getloadavg()[0]
    per_key: dict[str, list[float]] = {name: [] for name in models}
    per_query: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            per_key[name].append(cpu_ms(model.embed, keys, 32))
            per_query[name].append(cpu_ms(model.embed, asked, 1))
    return {
        "command": " ".join(["python", *sys.argv]),
        "keys": len(keys),
        "queries": len(asked),
        "rounds": rounds,
        "loadavg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "models": {
            name: {
                "cpu_ms_per_key": round(float(np.median(per_key[name])), 2),
                "cpu_ms_per_query": round(float(np.median(per_query[name])), 2),
            }
            for name in models
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--keys", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fp32", type=Path, help="L3's float32 graph, for the int8-vs-fp32 cosine")
    args = parser.parse_args()
    keys = dense_keys(sentences(args.keys))
    asked = questions(args.queries)
    models = {name: LocalEmbedder(model=name, threads=1) for name in (MODEL_ID, FAST_MODEL_ID)}
    result = compare(models, keys, asked, args.rounds)
    base, fast = result["models"][MODEL_ID], result["models"][FAST_MODEL_ID]
    result["l6_over_l3"] = {
        "per_key": round(base["cpu_ms_per_key"] / fast["cpu_ms_per_key"], 2),
        "per_query": round(base["cpu_ms_per_query"] / fast["cpu_ms_per_query"], 2),
    }
    if args.fp32 is not None:
        low, mean = fp32_cosines(args.fp32, models[FAST_MODEL_ID], keys[:300] + asked)
        result["l3_int8_vs_fp32_cosine"] = {"min": low, "mean": mean, "texts": 300 + len(asked)}
    print(json.dumps(result, indent=1))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
