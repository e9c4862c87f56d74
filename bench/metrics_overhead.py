"""What /metrics costs: the per-request overhead of MetricsMiddleware, and the time of one scrape.

The middleware is measured around a trivial ASGI app (so the figure is the instrumentation alone, not
a route), in-process and without a network; the scrape on a real SQLite store holding ``--memories``
memories (one ``counts()`` read, a ``stat`` of the files, and the text exposition).

    python bench/metrics_overhead.py [--requests 20000] [--memories 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from common import REPO, machine, percentiles, write_json
from prometheus_client.exposition import generate_latest

from memhub.api.metrics import Metrics, MetricsMiddleware
from memhub.core.models import MessageInput
from memhub.runtime import Runtime
from memhub.settings import Settings


async def _plain_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _drive(app: Any, requests: int) -> float:
    """Seconds per request of ``app`` over ``requests`` calls."""
    scope = {"type": "http", "method": "GET", "path": "/v1/memories/x", "headers": []}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        return None

    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - started) / requests


def middleware_overhead_us(requests: int) -> dict[str, float]:
    metrics = Metrics()
    plain = min(asyncio.run(_drive(_plain_app, requests)) for _ in range(3))
    wrapped = min(asyncio.run(_drive(MetricsMiddleware(_plain_app, metrics), requests)) for _ in range(3))
    return {"plain_us": plain * 1e6, "with_metrics_us": wrapped * 1e6, "overhead_us": (wrapped - plain) * 1e6}


def scrape_ms(memories: int, scrapes: int = 50) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        runtime = Runtime.open(Settings(data=Path(folder)))
        tenant = runtime.service.ensure_tenant("bench").id
        for start in range(0, memories, 100):
            batch = [
                MessageInput(role="user", content=f"bench message {i}")
                for i in range(start, min(start + 100, memories))
            ]
            runtime.service.add_messages(tenant, batch, user_id=f"u{start}")
        runtime.worker.run_until_idle()
        metrics = Metrics()
        metrics.watch_store(lambda: runtime)
        samples = []
        for _ in range(scrapes):
            started = time.perf_counter()
            generate_latest(metrics.registry)
            samples.append((time.perf_counter() - started) * 1000)
        count = runtime.store.counts().memories
        runtime.close()
    return {"memories": count, **percentiles(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--memories", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "metrics.json")
    args = parser.parse_args()
    overhead = middleware_overhead_us(args.requests)
    print(
        f"middleware: {overhead['plain_us']:.1f} µs/request bare, {overhead['with_metrics_us']:.1f} µs "
        f"with metrics (+{overhead['overhead_us']:.1f} µs)"
    )
    scrape = scrape_ms(args.memories)
    print(
        f"scrape of a store with {scrape['memories']} memories: "
        f"p50 {scrape['p50_ms']:.2f} ms, p95 {scrape['p95_ms']:.2f} ms"
    )
    write_json(
        args.out,
        {"machine": machine(), "middleware": overhead, "scrape": scrape},
    )


if __name__ == "__main__":
    main()
