"""The memhub side of ``bench/vs_mem0.py``: the same workload as ``mem0_driver.py``, through memhub's SDK.

    python bench/vs_mem0_memhub.py workload --messages 10000 --data DIR --out FILE   # in-process
    python bench/vs_mem0_memhub.py http --data DIR --out FILE      # memhub serve over DIR, searched by HTTP
    python bench/vs_mem0_memhub.py idle --out FILE                 # RSS of an idle memhub serve
    python bench/vs_mem0_memhub.py locomo --out FILE               # ranked turn ids per LoCoMo question

Each mode runs in its own process (started by ``vs_mem0.py``) so its peak RSS is its own. In-process
means the public embedded client, ``memhub.Client(path=...)``: what a user calls, the same app as the
server, called through an in-process transport. "Until searchable" = until no job is pending.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from common import LOCOMO, peak_rss_mb, percentiles, workload

import memhub
from memhub.benchmarks.locomo_data import load
from memhub.benchmarks.memhub_backend import MemhubBackend
from memhub.settings import Settings

EPOCH = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)


def disk_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, 2)


def questions(n: int) -> list[str]:
    qs = [q["question"] for conv in json.loads(LOCOMO.read_text()) for q in conv["qa"]]
    return [qs[i % len(qs)] for i in range(n)]


def messages_of(user_index: int, turns: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Messages dated one day per user: a repeated conversation is a new conversation, not a cache hit.

    (memhub never re-embeds a key it has embedded before; the dense key holds the date, so identical
    turns of different users on different days are embedded again, like mem0 does every time.)
    """
    when = (EPOCH + timedelta(days=user_index)).isoformat()
    return [{"role": "user", "name": s, "content": t, "timestamp": when} for s, t in turns]


def client(data: Path, threads: int, model: str | None) -> Any:
    settings = Settings(database_url=None, embed_threads=threads, embed_model=model)
    return memhub.Client(path=str(data), settings=settings)


def run_workload(args: argparse.Namespace) -> dict[str, Any]:
    mh = client(args.data, args.threads, args.model)
    mh.memories.search("warm-up", user_id="nobody")  # model load is not ingestion
    start, cpu = time.perf_counter(), time.process_time()
    for n, (user, turns) in enumerate(workload(args.messages, args.per_user)):
        msgs = messages_of(n, turns)
        for i in range(0, len(msgs), args.per_request):
            mh.memories.add(msgs[i : i + args.per_request], user_id=user, session_id=f"{user}-{i}")
    submitted = time.perf_counter() - start
    waiting = time.thread_time()  # this thread's "still pending?" polling is not ingestion
    while (counts := mh.info().counts).jobs_pending:
        time.sleep(0.05)
    waiting = time.thread_time() - waiting
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu - waiting
    latencies = search_latencies(lambda q: mh.memories.search(q, user_id="user-0", limit=10), args.queries)
    search_cpu_ms = latencies.pop("cpu_ms")  # in this process: the embedded client's search, all threads
    mh.close()
    return {
        "messages": args.messages,
        "submit_s": round(submitted, 3),
        "ingest_s": round(elapsed, 3),
        "messages_per_s": round(args.messages / elapsed, 1),
        "ingest_cpu_s": round(cpu, 2),
        "search_cpu_ms": search_cpu_ms,
        "memories": counts.memories,
        "jobs_failed": counts.jobs_failed,
        "search_one_user": latencies,
        "peak_rss_mb": peak_rss_mb(),
        "disk_mb": disk_mb(args.data),
    }


def search_latencies(search: Any, n: int) -> dict[str, float]:
    texts = questions(n)
    for text in texts[:10]:  # warm-up: vector matrix load, SQLite pages
        search(text)
    samples = []
    cpu = time.process_time()
    for text in texts:
        t0 = time.perf_counter()
        search(text)
        samples.append((time.perf_counter() - t0) * 1000)
    return {**percentiles(samples), "cpu_ms": round((time.process_time() - cpu) / len(texts) * 1000, 2)}


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS / VmHWM (peak) of a process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {k: round(int(fields[k].split()[0]) / 1024, 1) for k in ("VmRSS", "VmHWM")}


@contextmanager
def serve(data: Path, threads: int | None, model: str | None) -> Iterator[tuple[str, str, int]]:
    """``memhub serve`` on a free loopback port; yields (url, admin key, pid).

    ``threads``/``model``: the model's threads and name (None: the server's defaults)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMHUB_")}
    env["MEMHUB_LOG_LEVEL"] = "warning"
    if threads:
        env["MEMHUB_EMBED_THREADS"] = str(threads)
    if model:
        env["MEMHUB_EMBED_MODEL"] = model
    cmd = [sys.executable, "-m", "memhub", "serve", "--port", str(port), "--data", str(data)]
    with (data / "bench-server.log").open("ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc)
            yield url, (data / "admin-key").read_text().strip(), proc.pid
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"memhub serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("memhub serve did not become healthy")


def run_http(args: argparse.Namespace) -> dict[str, Any]:
    with serve(args.data, args.threads, args.model) as (url, key, pid):
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:

            def search(q: str) -> None:
                body = {"query": q, "user_id": "user-0", "limit": 10}
                http.post("/v1/memories/search", json=body).raise_for_status()

            latencies = search_latencies(search, args.queries)
            latencies.pop("cpu_ms")  # the client's, not the server's
        return {"search_one_user": latencies, "server_mb": proc_status(pid)}


def run_idle(args: argparse.Namespace) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="memhub-idle-") as tmp,
        serve(Path(tmp), args.threads, args.model) as s,
    ):
        time.sleep(args.settle)
        return {"idle_server_mb": proc_status(s[2]), "settle_s": args.settle}


def run_locomo(args: argparse.Namespace) -> dict[str, Any]:
    backend = MemhubBackend(modes=("hybrid",), client_factory=lambda p: client(p, args.threads, args.model))
    ranked: dict[str, dict[int, list[list[str]]]] = {}
    ingest_s = 0.0
    for conv in load(args.locomo)[: args.convs]:
        t0 = time.perf_counter()
        backend.ingest(replace(conv, sessions=conv.sessions[: args.max_sessions]), lambda n: None)
        ingest_s += time.perf_counter() - t0
        ranked[conv.sample_id] = {
            i: backend.search(conv, "hybrid", q.question, args.k)
            for i, q in enumerate(conv.questions)
            if q.category in (1, 2, 3, 4) and i < args.max_questions
        }
    backend.close()
    return {"ranked": ranked, "ingest_s": round(ingest_s, 3), "peak_rss_mb": peak_rss_mb()}


MODES = {"workload": run_workload, "http": run_http, "idle": run_idle, "locomo": run_locomo}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, help="memhub data folder (workload builds it, http reads it)")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--model", help="local embedding model (default: memhub's default)")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--per-user", type=int, default=500)
    parser.add_argument("--per-request", type=int, default=20)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--settle", type=float, default=3.0, help="idle seconds before reading RSS")
    parser.add_argument("--locomo", type=Path, default=LOCOMO)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--max-questions", type=int, default=10**9, help="per conversation (quick runs)")
    parser.add_argument("--max-sessions", type=int, default=10**9, help="per conversation (quick runs)")
    parser.add_argument("--convs", type=int, default=10, help="first N LoCoMo conversations")
    args = parser.parse_args()
    args.out.write_text(json.dumps(MODES[args.mode](args)))


if __name__ == "__main__":
    main()
