"""Speed and memory of the bundled local embedder (all-MiniLM-L6-v2 on onnxruntime, in-process).

Measures, in one fresh process:

- ``load_s``: building the session (``LocalEmbedder().load()``: imports onnxruntime + tokenizers,
  reads the 24 MB int8 model and folds it to float32); ``rss_before_load_mb`` / ``rss_after_load_mb``
  are the process RSS just before and after (the difference is what an eager load costs at start-up);
- ``sentences_per_s_batch32``: chat-sized sentences (LoCoMo turns when ``../shared/data/locomo10.json``
  exists, else synthetic ones) embedded in calls of 32, as the worker does;
- ``single_sentence_ms``: latency of ``embed([one sentence])``, p50/p95 over ``--single`` calls;
- ``by_batch``: the same sentences in calls of 1, 8 and 32: texts per wall second and per CPU second;
- ``dense_keys_per_s_batch32``: what the worker really embeds for a chat turn, ``[date] speaker: turn``
  followed by the previous turn (``memhub.pipeline.keys.dense_key``), ~2x the tokens of a bare turn;
- ``long_texts_per_s_batch32``: 256-token texts (the truncation limit) in calls of 32;
- ``rss_after_mb`` / ``peak_rss_mb``: memory after all of that (the per-batch token budget bounds it).

Wall-clock numbers only mean something on an otherwise idle machine: the 1-minute load average before
and after is recorded, and ``sentences_per_cpu_s_batch32`` (texts per CPU second of this process) is
less sensitive to other work.

Prints a summary and writes ``bench/results/embed.json``. Run from the repository root::

    python bench/embed.py                 # ~1 minute on 2 cores
    python bench/embed.py --threads 1     # pin onnxruntime's intra-op threads
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import statistics
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

RESULTS = HERE / "results" / "embed.json"
LOCOMO = HERE.parent.parent / "shared" / "data" / "locomo10.json"


def rss_mb() -> float:
    """Current resident set size (Linux), else the peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def sentences(n: int) -> list[str]:
    """``n`` chat turns: LoCoMo's if available, otherwise synthetic ones of varied length."""
    texts: list[str] = []
    if LOCOMO.exists():
        for conversation in json.loads(LOCOMO.read_text(encoding="utf-8")):
            for key, turns in conversation["conversation"].items():
                if key.startswith("session_") and isinstance(turns, list):
                    texts.extend(turn["text"] for turn in turns if turn.get("text"))
    if not texts:
        words = "I went to the market yesterday and bought fresh bread cheese and some apples for the trip"
        vocab = words.split()
        texts = [" ".join(vocab[(i * 7) % len(vocab) :] + vocab[: 3 + i % 11]) for i in range(997)]
    return [texts[i % len(texts)] for i in range(n)]


def dense_keys(texts: list[str]) -> list[str]:
    """Each turn keyed as the worker keys it: date and speaker, then the turn before it."""
    keys = [f"[7 May 2023] Caroline: {texts[0]}"]
    keys += [
        f"[7 May 2023] Caroline: {text}\nMelanie: {before}" for before, text in itertools.pairwise(texts)
    ]
    return keys


def long_texts(n: int) -> list[str]:
    return [f"Document {i}: " + " ".join(f"token{i}x{j}" for j in range(120)) for i in range(n)]


def per_second(embed: Any, texts: list[str], batch: int) -> tuple[float, float]:
    """(texts per wall-clock second, texts per CPU second of this process)."""
    start, cpu = time.perf_counter(), time.process_time()
    for offset in range(0, len(texts), batch):
        embed(texts[offset : offset + batch])
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return round(len(texts) / wall, 1), round(len(texts) / cpu, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the bundled local embedder.")
    parser.add_argument("--sentences", type=int, default=1024, help="sentences for the throughput run")
    parser.add_argument("--single", type=int, default=100, help="calls for the single-sentence latency")
    parser.add_argument("--long", type=int, default=128, help="256-token texts for the long-text run")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON output (smoke runs use a temp file)")
    args = parser.parse_args()

    from memhub.pipeline.embedders import LocalEmbedder

    load_before = round(os.getloadavg()[0], 2)  # other work on the machine skews every number
    rss_before = rss_mb()
    embedder = LocalEmbedder(threads=args.threads)
    start = time.perf_counter()
    embedder.load()
    load_s = round(time.perf_counter() - start, 3)
    rss_after_load = rss_mb()

    corpus = sentences(args.sentences + args.single)
    tokenizer = embedder._get().tokenizer  # only to report the workload's token counts
    tokens = [len(e.ids) for e in tokenizer.encode_batch(corpus[: args.sentences])]
    embedder.embed(corpus[:64])  # warm-up
    throughput, throughput_cpu = per_second(embedder.embed, corpus[: args.sentences], 32)
    by_batch = {
        str(size): dict(
            zip(
                ("per_s", "per_cpu_s"),
                per_second(embedder.embed, corpus[: min(256, args.sentences)], size),
                strict=True,
            )
        )
        for size in (1, 8, 32)
    }
    keys = dense_keys(corpus[: args.sentences])
    key_tokens = [len(e.ids) for e in tokenizer.encode_batch(keys)]
    keys_throughput, keys_throughput_cpu = per_second(embedder.embed, keys, 32)

    latencies = []
    for text in corpus[args.sentences :]:
        start = time.perf_counter()
        embedder.embed([text])
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()

    long_throughput, _ = per_second(embedder.embed, long_texts(args.long), 32)

    results = {
        "model": embedder.model_id,
        "dim": embedder.dim,
        "threads": args.threads or "onnxruntime default",
        "load_s": load_s,
        "rss_before_load_mb": rss_before,
        "rss_after_load_mb": rss_after_load,
        "sentences_per_s_batch32": throughput,
        "sentences_per_cpu_s_batch32": throughput_cpu,
        "sentence_tokens_mean": round(statistics.fmean(tokens), 1),
        "by_batch": by_batch,
        "dense_keys_per_s_batch32": keys_throughput,
        "dense_keys_per_cpu_s_batch32": keys_throughput_cpu,
        "dense_key_tokens_mean": round(statistics.fmean(key_tokens), 1),
        "single_sentence_ms": {
            "p50": round(latencies[len(latencies) // 2], 2),
            "p95": round(latencies[int(len(latencies) * 0.95) - 1], 2),
            "n": len(latencies),
        },
        "long_texts_per_s_batch32": long_throughput,
        "long_text_tokens": 256,  # every long text is cut to the model's limit
        "rss_after_mb": rss_mb(),
        "peak_rss_mb": peak_rss_mb(),
        "corpus": "LoCoMo turns" if LOCOMO.exists() else "synthetic",
        "load_average_1m_before_after": [load_before, round(os.getloadavg()[0], 2)],
    }
    machine = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    for key, value in results.items():
        print(f"{key:28} {value}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, **results}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
