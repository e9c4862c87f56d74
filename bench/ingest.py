"""Ingestion rate, end to end until searchable: messages submitted through the service, worker drains.

    python bench/ingest.py --messages 10000            # full run
    python bench/ingest.py --messages 300 --quick      # CI-sized

Counts messages/s from the first submit until every job has succeeded (memories and vectors written,
so they are searchable). Prints a line and writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import REPO, peak_rss_mb, workload, write_json
from rich.progress import Progress

from memhub.core.models import MessageInput
from memhub.runtime import Runtime
from memhub.settings import Settings


def run(messages: int, per_request: int, data: Path) -> dict[str, float]:
    runtime = Runtime.open(Settings(data=data))
    service = runtime.service
    tenant = service.ensure_tenant("bench")
    runtime.embedder.embed(["warm-up"])  # model load is not ingestion
    start = time.perf_counter()
    runtime.start_worker()
    with Progress() as bar:
        task = bar.add_task("submitting", total=messages)
        for user, turns in workload(messages, per_request * 20):
            for i in range(0, len(turns), per_request):
                batch = [MessageInput(role="user", name=s, content=t) for s, t in turns[i : i + per_request]]
                service.add_messages(tenant.id, batch, user_id=user, session_id=f"{user}-s{i // per_request}")
                bar.advance(task, len(batch))
    submitted = time.perf_counter() - start
    while (counts := service.counts(tenant.id)).jobs_pending:
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    runtime.close()
    return {
        "messages": messages,
        "per_request": per_request,
        "submit_s": round(submitted, 3),
        "until_searchable_s": round(elapsed, 3),
        "messages_per_s": round(messages / elapsed, 1),
        "memories": counts.memories,
        "jobs_failed": counts.jobs_failed,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--per-request", type=int, default=10, help="messages per add call")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "ingest.json")
    parser.add_argument("--quick", action="store_true", help="small CI run; doesn't overwrite results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.messages, args.per_request, Path(tmp))
    print(
        f"ingested {result['messages']} messages in {result['until_searchable_s']} s "
        f"= {result['messages_per_s']} msg/s (target >= 400); peak RSS {result['peak_rss_mb']} MB"
    )
    out = Path(tempfile.gettempdir()) / "ingest-quick.json" if args.quick else args.out
    write_json(out, {"ingest": result})


if __name__ == "__main__":
    main()
