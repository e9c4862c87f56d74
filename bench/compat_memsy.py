"""What one Memsy console list and one Memsy ingest cost, in-process, against a tenant of some size.

    python bench/compat_memsy.py                          # 5,000 memories, 30 lists, 10 ingests of 100
    python bench/compat_memsy.py --memories 20000 --requests 50

Builds the real app (``create_app``: SQLite store in a temporary folder, no worker) and talks to it
through Starlette's ``TestClient`` (in-process ASGI, no sockets), so what is timed is the app's own
work. The tenant's memories are written through the real store API (``submit`` then ``complete_job``
with one episode memory per event, no chunks: listing never reads vectors), which takes seconds where
the embedding worker would take minutes; they are Memsy memories (in the default space, tagged as
Memsy events) so the console lists them as it would the worker's.

Times ``GET /console/memories?limit=50&offset=0`` (page 1) and one page deep in the listing, then
``POST /ingest`` with 100 new events. Reports CPU ms per request (``time.process_time``: every thread
of this process, i.e. the app's work, SQLite included) and wall ms; writes
``bench/results/compat_memsy.json``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from common import percentiles, write_json
from fastapi.testclient import TestClient

from memhub.api import create_app
from memhub.core import ids
from memhub.core.models import Job, Memory, MemoryKind, MessageInput, SourceRef
from memhub.core.ports import JobOutcome, StoredMemory
from memhub.core.service import MemoryService
from memhub.settings import Settings

RESULTS = Path(__file__).parent / "results" / "compat_memsy.json"
PREFIX = Settings().memsy_prefix
ORG = "bench-org"


def seed(service: MemoryService, tenant_id: str, count: int) -> None:
    """``count`` Memsy user messages, each with the episode memory the worker would derive from it."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for n in range(count):
        when = start + timedelta(seconds=n)
        tag = {"kind": "user_message", "session_id": f"s-{n % 20}"}
        submitted = service.add_messages(
            tenant_id,
            [_message(f"Bench message {n}: I like topic {n % 37}.", when, tag)],
            user_id=f"actor-{n % 10}",
            session_id=f"s-{n % 20}",
            idempotency_key=f"bench-{n}",
        )
        _complete(service, submitted.job, when)


def _message(content: str, when: datetime, tag: dict[str, Any]) -> MessageInput:
    return MessageInput(role="user", content=content, timestamp=when, metadata={"memsy": tag})


def _complete(service: MemoryService, job: Job, when: datetime) -> None:
    store = service.store
    now = service.now()
    claimed = store.claim_jobs("bench", now, now + timedelta(minutes=5), 1)
    assert claimed and claimed[0].id == job.id, "the bench expects an otherwise idle store"
    event = store.job_events(job.id)[0]
    memory = Memory(
        id=ids.derived_id("bench-memory", job.id),
        tenant_id=job.tenant_id,
        space_id=job.space_id,
        user_id=job.user_id,
        session_id=event.session_id,
        kind=MemoryKind.EPISODE,
        text=event.content,
        metadata=event.metadata,
        sources=[SourceRef(event_id=event.id)],
        occurred_at=when,
        created_at=now,
        updated_at=now,
        valid_from=when,
        job_id=job.id,
    )
    assert store.complete_job(JobOutcome(job_id=job.id, memories=[StoredMemory(memory, [])]), "bench", now)


def timed(call: Callable[[], Any], requests: int) -> dict[str, Any]:
    cpu, wall = [], []
    for _ in range(requests):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        response = call()
        cpu.append((time.process_time() - cpu0) * 1000)
        wall.append((time.perf_counter() - wall0) * 1000)
        assert response.status_code == 200, response.text
    return {"cpu": percentiles(cpu), "wall": percentiles(wall)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memories", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--ingests", type=int, default=10)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data=Path(tmp), worker=False), bootstrap_key=False)
        with TestClient(app) as http:
            service: MemoryService = app.state.service
            _, secret = service.create_api_key(ORG)
            tenant = service.authenticate(secret)
            started = time.perf_counter()
            seed(service, tenant.id, args.memories)
            print(f"seeded {args.memories} memories in {time.perf_counter() - started:.1f} s")
            http.headers["Authorization"] = f"Bearer {secret}"
            rows = {
                "list_page1": timed(
                    lambda: http.get(f"{PREFIX}/console/memories", params={"limit": 50, "offset": 0}),
                    args.requests,
                ),
                "list_offset_1000": timed(
                    lambda: http.get(f"{PREFIX}/console/memories", params={"limit": 50, "offset": 1000}),
                    args.requests,
                ),
            }
            batches = iter(range(args.ingests))

            def ingest() -> Any:
                b = next(batches)
                events = [
                    {
                        "actor_id": f"actor-{i % 10}",
                        "session_id": "ingest",
                        "kind": "user_message",
                        "content": f"ingest batch {b} event {i}: the sky is colour {i}",
                    }
                    for i in range(args.events)
                ]
                return http.post(f"{PREFIX}/ingest", json={"events": events})

            rows[f"ingest_{args.events}"] = timed(ingest, args.ingests)
    print(f"{'request':22} {'cpu p50':>9} {'cpu mean':>9} {'wall p50':>9} {'wall p95':>9}   (ms, n)")
    for name, row in rows.items():
        cpu, wall = row["cpu"], row["wall"]
        print(
            f"{name:22} {cpu['p50_ms']:9.1f} {cpu['mean_ms']:9.1f} {wall['p50_ms']:9.1f}"
            f" {wall['p95_ms']:9.1f}   n={cpu['n']}"
        )
    params = {"memories": args.memories, "requests": args.requests, "events_per_ingest": args.events}
    write_json(args.out, {**params, "requests_timed": rows})


if __name__ == "__main__":
    main()
