"""Scale-out on PostgreSQL: API replicas and separate workers sharing one database and one job queue.

Two ``memhub serve --no-worker`` processes take 2,000 messages concurrently; two ``memhub worker``
processes drain the queue, and one of them is killed with SIGKILL mid-run. Every message must end in
exactly one episode memory: no job lost (the killed worker's leases expire and the survivor takes them),
none completed twice (claims are ``FOR UPDATE SKIP LOCKED``; completion checks the lease under a row
lock; ids derive from the job, so a re-run rewrites nothing).
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from memhub.core.models import MemoryKind, Scope
from memhub.storage import open_store
from support.polling import poll_until
from support.postgres import PostgresServer
from support.server import ServerHandle, launch_server, start_worker

REQUESTS = 200
PER_REQUEST = 10  # 2,000 messages
USERS = 8


def _start_worker(data: Path, url: str, log: Path) -> subprocess.Popen[bytes]:
    return start_worker(
        data, log, database_url=url, lease_seconds=3, worker_batch_size=8, log_level="warning"
    )


def _submit(api: ServerHandle, key: str, n: int) -> str:
    messages = [
        {"role": "user", "content": f"request {n} message {m}: parcel {n}-{m} left depot {n * m % 97}"}
        for m in range(PER_REQUEST)
    ]
    with api.client(key) as client:
        response = client.post("/v1/memories", json={"messages": messages, "user_id": f"user-{n % USERS}"})
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def _pending(api: ServerHandle, key: str) -> tuple[int, int]:
    with api.client(key) as client:
        counts = client.get("/v1/info").json()["counts"]
    return counts["jobs_pending"], counts["jobs_failed"]


@pytest.mark.slow
@pytest.mark.timeout(960)  # its own waits allow 300 s + 600 s; the suite-wide 300 s cut it short under load
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_two_apis_two_workers_one_killed_every_message_once(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.new_database()
    apis = [launch_server(tmp_path / f"api{i}", args=["--no-worker"], database_url=url) for i in range(2)]
    workers: list[subprocess.Popen[bytes]] = []
    try:
        key = apis[0].api_key or apis[1].api_key  # the keys live in the shared database
        with ThreadPoolExecutor(8) as pool:
            job_ids = list(pool.map(lambda n: _submit(apis[n % 2], key, n), range(REQUESTS)))
        assert len(set(job_ids)) == REQUESTS
        log = tmp_path / "workers.log"
        workers = [_start_worker(tmp_path / f"worker{i}", url, log) for i in range(2)]
        poll_until(lambda: _pending(apis[0], key)[0] < REQUESTS * 0.8, timeout=300, message="first jobs done")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        assert _pending(apis[1], key)[0] > 0, "everything finished before the kill"
        poll_until(
            lambda: _pending(apis[1], key) == (0, 0), timeout=600, interval=0.2, message="queue drained"
        )
        workers[1].send_signal(signal.SIGTERM)
        assert workers[1].wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
        for api in apis:
            api.stop()
    _assert_every_message_in_one_episode(url, job_ids)


def _assert_every_message_in_one_episode(url: str, job_ids: list[str]) -> None:
    store = open_store(url)
    try:
        tenant = store.list_tenants()[0]
        sources: Counter[str] = Counter()
        owners: Counter[str] = Counter()
        cursor = None
        while True:
            page = store.list_memories(
                Scope(tenant_id=tenant.id, kinds=[MemoryKind.EPISODE]), None, cursor, 1000
            )
            for memory in page.items:
                sources.update(s.event_id for s in memory.sources)
                owners[memory.id] += 1
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        events = store.list_events(tenant.id, limit=5000).items
        assert len(events) == REQUESTS * PER_REQUEST
        assert set(sources) == {e.id for e in events}  # no message lost ...
        assert set(sources.values()) == {1}  # ... and none in two episodes
        jobs = [store.get_job(tenant.id, job_id) for job_id in job_ids]
        assert {job.status.value for job in jobs} == {"succeeded"}
        written = Counter(memory_id for job in jobs for memory_id in job.memory_ids)
        assert set(written.values()) == {1}  # no memory claimed by two jobs
    finally:
        store.close()
