"""Crash safety of ``memhub serve``: SIGKILL while concurrent clients ingest 1,000 messages loses nothing.

Eight clients each send their share of 1,000 messages, one per request. Mid-way the server process is
killed with SIGKILL (no shutdown code runs: the worker's leases are left dangling, requests in flight
are cut). The server is restarted on the same data folder and each client re-sends every message it has
no acknowledgement for, as a real client retries. Afterwards:

* every message is stored exactly once — acknowledged ones were on disk before their 202, and a resent
  one is recognised as the same submission (content-derived ids), never a second copy;
* every job completes, including those the killed worker had leased (re-claimed when the lease expires),
  and every message has exactly one episode memory;
* the SQLite file passes ``PRAGMA integrity_check``.

The worker killed alone (``memhub worker``) is ``tests/test_worker_crash.py``.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest

from support.polling import poll_until
from support.server import ServerHandle, StartServer

MESSAGES = 1000
CLIENTS = 8
KILL_AFTER_ACKS = 400
SETTINGS = {"lease_seconds": 2, "worker_batch_size": 16, "log_level": "warning"}


class Ingest:
    """The clients' shared book-keeping: which message got which job, and which are still unacknowledged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[str, str] = {}  # message text -> job id, once acknowledged

    def acked(self) -> int:
        with self.lock:
            return len(self.jobs)

    def pending(self, texts: list[str]) -> list[str]:
        with self.lock:
            return [t for t in texts if t not in self.jobs]


def _texts(client: int) -> list[str]:
    share = MESSAGES // CLIENTS
    return [
        f"client {client} note {n}: the blue parcel is on shelf {client * share + n}" for n in range(share)
    ]


def _send(server: ServerHandle, client: int, ingest: Ingest) -> None:
    """Send this client's messages not yet acknowledged; stop quietly when the server goes away."""
    user = f"user-{client}"
    with server.client() as http:
        for text in ingest.pending(_texts(client)):
            body = {"messages": [{"role": "user", "content": text}], "user_id": user}
            try:
                response = http.post("/v1/memories", json=body)
            except httpx.TransportError:
                return  # killed: this message is unacknowledged and will be re-sent
            assert response.status_code == 202, response.text
            with ingest.lock:
                ingest.jobs[text] = response.json()["job_id"]


def _run_clients(server: ServerHandle, ingest: Ingest) -> list[threading.Thread]:
    threads = [threading.Thread(target=_send, args=(server, c, ingest)) for c in range(CLIENTS)]
    for thread in threads:
        thread.start()
    return threads


def _wait_jobs_done(server: ServerHandle, job_ids: set[str], timeout: float) -> Counter[str]:
    with server.client() as http:

        def all_succeeded() -> Counter[str] | None:
            statuses = Counter(http.get(f"/v1/jobs/{job}").json()["status"] for job in job_ids)
            return statuses if statuses["succeeded"] == len(job_ids) else None

        return poll_until(all_succeeded, timeout=timeout, interval=0.5, message="jobs not all succeeded")


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_server_killed_during_concurrent_ingest_loses_and_duplicates_nothing(
    start_server: StartServer,
) -> None:
    server = start_server(**SETTINGS)
    ingest = Ingest()
    threads = _run_clients(server, ingest)
    poll_until(
        lambda: ingest.acked() >= KILL_AFTER_ACKS or not any(t.is_alive() for t in threads),
        interval=0.005,
        message="clients' first acknowledgements",
    )
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    for thread in threads:
        thread.join()
    acked_at_kill = dict(ingest.jobs)
    assert KILL_AFTER_ACKS <= len(acked_at_kill) < MESSAGES, "the kill must land mid-ingest"

    restarted = start_server(server.data_dir, **SETTINGS)
    for thread in _run_clients(restarted, ingest):
        thread.join()
    assert ingest.acked() == MESSAGES
    for text, job in acked_at_kill.items():
        assert ingest.jobs[text] == job  # nothing acknowledged was forgotten and re-created

    statuses = _wait_jobs_done(restarted, set(ingest.jobs.values()), timeout=300)
    assert statuses == Counter(succeeded=len(set(ingest.jobs.values())))
    assert restarted.stop() == 0
    _assert_exactly_once(restarted.data_dir / "memhub.db", set(ingest.jobs))


def _assert_exactly_once(db: Path, texts: set[str]) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = Counter(row[0] for row in conn.execute("SELECT content FROM events"))
        assert set(stored) == texts and set(stored.values()) == {1}
        episodes = Counter(
            row[0]
            for row in conn.execute(
                "SELECT s.event_id FROM memory_sources s JOIN memories m ON m.rid = s.memory_rid "
                "WHERE m.kind = 'episode'"
            )
        )
        assert len(episodes) == MESSAGES and set(episodes.values()) == {1}
        open_jobs = conn.execute("SELECT count(*) FROM jobs WHERE status != 'succeeded'").fetchone()[0]
        assert open_jobs == 0
