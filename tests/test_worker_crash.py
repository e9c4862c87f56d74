"""Crash safety of ingestion: a worker process killed with SIGKILL mid-job loses nothing, duplicates nothing.

The queue lives in the SQLite file; a claim is a lease. A killed worker's leased jobs are re-claimed by
the next worker once the lease expires, and every id written derives from the job, so the re-run writes
the same memories, never a second copy.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from memhub.core.models import JobStatus, MemoryKind, MessageInput
from memhub.runtime import Runtime
from memhub.settings import Settings
from support.polling import poll_until
from support.server import start_worker

pytestmark = pytest.mark.e2e  # runs `memhub worker` processes

JOBS = 40
PER_JOB = 10


def _start_worker(data: Path, log: Path) -> subprocess.Popen[bytes]:
    return start_worker(data, log, lease_seconds=2, worker_batch_size=2, log_level="warning")


def _statuses(runtime: Runtime, tenant_id: str, job_ids: list[str]) -> Counter[JobStatus]:
    return Counter(runtime.service.get_job(tenant_id, j).status for j in job_ids)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_worker_killed_mid_job_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    runtime = Runtime.open(Settings(data=tmp_path, worker=False))
    tenant = runtime.service.ensure_tenant("crash")
    job_ids = []
    for j in range(JOBS):
        messages = [
            MessageInput(role="assistant", content=f"job {j} message {m}: the parcel went to depot {j * m}")
            for m in range(PER_JOB)
        ]
        job_ids.append(runtime.service.add_messages(tenant.id, messages, user_id=f"u{j % 3}").job.id)

    log = tmp_path / "worker.log"
    first = _start_worker(tmp_path, log)
    try:
        poll_until(lambda: _statuses(runtime, tenant.id, job_ids)[JobStatus.SUCCEEDED] >= 2, timeout=120)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    at_kill = _statuses(runtime, tenant.id, job_ids)
    assert at_kill[JobStatus.SUCCEEDED] < JOBS, "the worker finished everything before it was killed"

    second = _start_worker(tmp_path, log)
    try:
        poll_until(lambda: _statuses(runtime, tenant.id, job_ids)[JobStatus.SUCCEEDED] == JOBS, timeout=180)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0, log.read_text()

    sources: Counter[str] = Counter()
    cursor = None
    while True:
        page = runtime.service.list_memories(tenant.id, cursor=cursor, limit=1000)
        for memory in page.items:
            assert memory.kind is MemoryKind.EPISODE
            sources.update(s.event_id for s in memory.sources)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(sources) == JOBS * PER_JOB  # every message has its episode ...
    assert set(sources.values()) == {1}  # ... exactly once
    assert runtime.service.counts(tenant.id).memories == JOBS * PER_JOB
    runtime.close()
    with sqlite3.connect(tmp_path / "memhub.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
