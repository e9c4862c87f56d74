"""Search latency in-process: a whole space of N memories, and one user's memories among them.

    python bench/search.py --memories 100000 --per-user 10000     # full run (targets: p95 <= 10 ms / 5 ms)
    python bench/search.py --memories 2000 --per-user 500 --quick # CI-sized

Latency covers the whole ``MemoryService.search`` call: query embedding, dense + keyword candidates,
fusion, memory fetch. Queries are LoCoMo questions (distinct texts, so no cache helps). Writes
bench/results/search.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import LOCOMO, REPO, peak_rss_mb, percentiles, workload, write_json
from rich.progress import Progress

from memhub.core.models import MessageInput, SearchRequest
from memhub.core.service import MemoryService
from memhub.runtime import Runtime
from memhub.settings import Settings


def queries(n: int) -> list[str]:
    if LOCOMO.exists():
        qs = [q["question"] for conv in json.loads(LOCOMO.read_text()) for q in conv["qa"]]
    else:
        qs = [f"what did they say about topic {i}?" for i in range(n)]
    return [qs[i % len(qs)] for i in range(n)]


def build(runtime: Runtime, tenant_id: str, memories: int, per_user: int) -> None:
    service = runtime.service
    runtime.start_worker()
    with Progress() as bar:
        task = bar.add_task("ingesting", total=memories)
        for user, turns in workload(memories, per_user):
            for i in range(0, len(turns), 50):
                batch = [MessageInput(role="assistant", name=s, content=t) for s, t in turns[i : i + 50]]
                service.add_messages(tenant_id, batch, user_id=user, session_id=f"{user}-{i // 500}")
                bar.advance(task, len(batch))
        while service.counts(tenant_id).jobs_pending:
            time.sleep(0.1)


def measure(service: MemoryService, tenant_id: str, user: str | None, texts: list[str]) -> dict[str, float]:
    for text in texts[:20]:  # warm caches (vector matrix load, SQLite pages)
        service.search(tenant_id, SearchRequest(query=text, user_id=user, limit=10))
    samples = []
    for text in texts:
        start = time.perf_counter()
        service.search(tenant_id, SearchRequest(query=text, user_id=user, limit=10))
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--per-user", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "search.json")
    parser.add_argument("--quick", action="store_true", help="small CI run; doesn't overwrite results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime.open(Settings(data=Path(tmp)))
        tenant = runtime.service.ensure_tenant("bench")
        build(runtime, tenant.id, args.memories, args.per_user)
        texts = queries(args.queries)
        counts = runtime.service.counts(tenant.id)
        space = measure(runtime.service, tenant.id, None, texts)
        one_user = measure(runtime.service, tenant.id, "user-0", texts)
        runtime.close()
    result = {
        "memories": counts.memories,
        "per_user": args.per_user,
        "space_wide": space,
        "one_user": one_user,
        "peak_rss_mb": peak_rss_mb(),
    }
    print(f"space-wide over {counts.memories} memories: {space}  (target p95 <= 10 ms at 100k)")
    print(f"one user with {args.per_user} memories: {one_user}  (target p95 <= 5 ms at 10k)")
    out = Path(tempfile.gettempdir()) / "search-quick.json" if args.quick else args.out
    write_json(out, {"search": result})


if __name__ == "__main__":
    main()
