"""Ingestion rate, end to end until searchable: messages submitted through the service, worker drains.

    python bench/ingest.py --messages 5000             # full run, writes bench/results/ingest.json
    python bench/ingest.py --messages 300 --quick      # CI-sized, writes to the temp folder

Counts messages/s from the first submit until every job has succeeded (memories and vectors written,
so they are searchable). The machine's 2 cores are usually shared with other work, which makes wall
time noisy, so the run also reports the CPU seconds this process spent per 1,000 messages (all its
threads: submit, worker, onnxruntime's pool) and the 1-minute load average before and after. The CPU
figure is what capacity planning needs: a machine with ``c`` free cores ingests at most
``c * 1000 / cpu_s_per_1k_messages`` messages/s.

The worker's embedding calls are observed (``Runtime.open(observer=...)``): ``embed_wall_s`` is the
wall time spent inside the model and ``embed_texts`` the texts embedded, so the run says how much of
ingestion is the model.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from common import REPO, peak_rss_mb, workload, write_json
from rich.progress import Progress

from memhub.core.models import MessageInput
from memhub.runtime import Runtime
from memhub.settings import Settings


class EmbedTally:
    """A :class:`memhub.jobs.WorkerObserver`: totals of the worker's embedding calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0
        self.seconds = 0.0

    def embed_batch(self, size: int, seconds: float) -> None:
        self.calls += 1
        self.texts += size
        self.seconds += seconds


def submit(runtime: Runtime, messages: int, per_request: int) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("bench")
    with Progress() as bar:
        task = bar.add_task("submitting", total=messages)
        for user, turns in workload(messages, per_request * 20):
            for i in range(0, len(turns), per_request):
                batch = [MessageInput(role="user", name=s, content=t) for s, t in turns[i : i + per_request]]
                service.add_messages(tenant.id, batch, user_id=user, session_id=f"{user}-s{i // per_request}")
                bar.advance(task, len(batch))


def run(messages: int, per_request: int, data: Path, settings: dict[str, Any]) -> dict[str, Any]:
    tally = EmbedTally()
    runtime = Runtime.open(Settings(data=data, **settings), observer=tally)
    service = runtime.service
    runtime.embedder.embed(["warm-up"])  # model load is not ingestion
    load_before = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    runtime.start_worker()
    submit(runtime, messages, per_request)
    submitted = time.perf_counter() - start
    tenant = service.ensure_tenant("bench")
    while (counts := service.counts(tenant.id)).jobs_pending:
        time.sleep(0.05)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    load_after = os.getloadavg()[0]
    runtime.close()
    return {
        "messages": messages,
        "per_request": per_request,
        "settings": settings,
        "submit_s": round(submitted, 3),
        "until_searchable_s": round(elapsed, 3),
        "messages_per_s": round(messages / elapsed, 1),
        "cpu_s": round(cpu, 2),
        "cpu_s_per_1k_messages": round(cpu / messages * 1000, 2),
        "messages_per_cpu_s": round(messages / cpu, 1),
        "embed_calls": tally.calls,
        "embed_texts": tally.texts,
        "embed_wall_s": round(tally.seconds, 2),
        "embed_wall_share": round(tally.seconds / elapsed, 3),
        "memories": counts.memories,
        "jobs_failed": counts.jobs_failed,
        "peak_rss_mb": peak_rss_mb(),
        "load_average_1m_before_after": [round(load_before, 2), round(load_after, 2)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--per-request", type=int, default=10, help="messages per add call")
    parser.add_argument("--worker-batch-size", type=int, default=None, help="jobs claimed together")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "ingest.json")
    parser.add_argument("--quick", action="store_true", help="small CI run; doesn't overwrite results")
    args = parser.parse_args()
    settings: dict[str, Any] = {}
    if args.worker_batch_size is not None:
        settings["worker_batch_size"] = args.worker_batch_size
    if args.threads is not None:
        settings["embed_threads"] = args.threads
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.messages, args.per_request, Path(tmp), settings)
    print(
        f"ingested {result['messages']} messages in {result['until_searchable_s']} s "
        f"= {result['messages_per_s']} msg/s (target >= 400); "
        f"{result['cpu_s_per_1k_messages']} CPU s per 1k messages "
        f"({result['messages_per_cpu_s']} msg per CPU s); "
        f"model {result['embed_wall_share']:.0%} of wall time; "
        f"load {result['load_average_1m_before_after']}; peak RSS {result['peak_rss_mb']} MB"
    )
    out = Path(tempfile.gettempdir()) / "ingest-quick.json" if args.quick else args.out
    write_json(out, {"ingest": result})


if __name__ == "__main__":
    main()
