"""Load check: N concurrent clients searching through HTTP against a server holding many memories.

    python bench/http_load.py                      # 100,000 memories, 8 clients (takes a while: ingestion)
    python bench/http_load.py --memories 2000      # CI-sized
    python bench/http_load.py --data /tmp/mh-bench # keep the corpus; the next run reuses it
    python bench/http_load.py --url http://host:8420 --api-key mh_... [--server-pid PID]  # a running server

Without ``--url`` it starts ``python -m memhub serve`` on a free loopback port. The corpus is synthetic
first-person chat turns spread over ``--users`` users, submitted in batches of ``--batch`` messages (one
job each) and waited for. Then two phases of ``--requests`` searches each are timed from ``--clients``
concurrent clients: scoped to one user (the usual agent call) and over the whole tenant. Prints a table
and writes ``bench/results/http_load.json``: latency p50/p95/p99 in ms, throughput in requests/s, and
the server's CPU time per request (user + system time of the server process, all its threads, from
``/proc/<pid>/stat`` before and after each phase, divided by the requests): on a shared machine wall
clock mostly measures the neighbours, CPU time measures the server. The 1-minute load average before
and after each phase says how shared the machine was.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

RESULTS = Path(__file__).parent / "results" / "http_load.json"

NAMES = ["Maria", "Tom", "Aisha", "Kenji", "Lena", "Omar", "Priya", "Jonas", "Sofia", "Diego", "Mei", "Ravi"]
PLACES = [
    "Lisbon",
    "the lake",
    "Kyoto",
    "the farmers market",
    "Berlin",
    "the climbing gym",
    "Oslo",
    "the old library",
    "Nairobi",
    "the beach house",
    "Montreal",
    "the bakery on 5th street",
]
THINGS = [
    "a red kayak",
    "sourdough starter",
    "a vintage camera",
    "hiking boots",
    "a cello",
    "tomato seedlings",
    "a chess set",
    "noise-cancelling headphones",
    "a road bike",
    "watercolour paints",
    "a tent",
    "a telescope",
]
TOPICS = [
    "the quarterly report",
    "my sister's wedding",
    "the marathon",
    "a job interview",
    "the house move",
    "my thesis",
    "the dentist appointment",
    "the garden",
    "a birthday party",
    "the tax return",
]
TEMPLATES = [
    "I went to {place} with {name} last {day} and we talked about {topic}.",
    "{name} recommended {thing}, so I ordered one before the trip to {place}.",
    "I'm worried about {topic}; {name} said we should plan it next {day}.",
    "On {day} I finally fixed {thing} and showed it to {name} at {place}.",
    "My plan for {topic} is to ask {name} for help after I get back from {place}.",
    "We spent {day} evening at {place} trying out {thing}, which {name} loved.",
]
QUERIES = [
    "what did I buy before the trip to {place}?",
    "who did I go to {place} with?",
    "what is my plan for {topic}?",
    "when did I fix {thing}?",
    "what did {name} recommend?",
    "what am I worried about?",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        place=rng.choice(PLACES),
        name=rng.choice(NAMES),
        thing=rng.choice(THINGS),
        topic=rng.choice(TOPICS),
        day=rng.choice(DAYS),
    )


# --- the server --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_server(data: Path, model: str | None = None) -> Iterator[tuple[str, str, int]]:
    """``memhub serve`` on a free port with ``data``; yields (url, admin key, pid); SIGTERM at the end."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMHUB_")}
    env["MEMHUB_LOG_LEVEL"] = "warning"
    if model:
        env["MEMHUB_EMBED_MODEL"] = model
    log = (data / "bench-server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "memhub", "serve", "--port", str(port), "--data", str(data)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url, (data / "admin-key").read_text().strip(), process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        log.close()


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"memhub serve exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("memhub serve did not become healthy")


# --- the corpus --------------------------------------------------------------------------------------


def build_corpus(client: httpx.Client, target: int, users: int, batch: int, seed: int) -> dict[str, Any]:
    """Submit messages until the tenant holds ``target`` memories (reusing what is there); wait for jobs."""
    have = client.get("/v1/info").json()["counts"]["memories"]
    if have >= target:
        print(f"corpus: reusing {have} memories")
        return {"reused": True, "memories": have, "seconds": 0.0}
    rng = random.Random(seed + have)
    missing = target - have
    started = time.perf_counter()
    job_ids = []
    for offset in range(0, missing, batch):
        size = min(batch, missing - offset)
        user = f"user-{(have + offset) // batch % users}"
        messages = [{"role": "user", "content": _fill(rng.choice(TEMPLATES), rng)} for _ in range(size)]
        response = client.post("/v1/memories", json={"messages": messages, "user_id": user})
        response.raise_for_status()
        job_ids.append(response.json()["job_id"])
    submitted = time.perf_counter() - started
    print(
        f"corpus: submitted {missing} messages in {len(job_ids)} jobs in {submitted:.1f}s; waiting for jobs"
    )
    _wait_for_jobs(client, job_ids)
    seconds = time.perf_counter() - started
    memories = client.get("/v1/info").json()["counts"]["memories"]
    print(f"corpus: {memories} memories after {seconds:.1f}s ({missing / seconds:.0f} messages/s ingested)")
    return {
        "reused": False,
        "memories": memories,
        "messages": missing,
        "seconds": round(seconds, 2),
        "submit_seconds": round(submitted, 2),
        "messages_per_second": round(missing / seconds, 1),
    }


def _wait_for_jobs(client: httpx.Client, job_ids: list[str]) -> None:
    last_report = time.monotonic()
    for job_id in job_ids:
        while True:
            job = client.get(f"/v1/jobs/{job_id}").json()
            if job["status"] == "succeeded":
                break
            if job["status"] == "failed":
                raise SystemExit(f"job {job_id} failed: {job['last_error']}")
            if time.monotonic() - last_report > 10:
                counts = client.get("/v1/info").json()["counts"]
                print(f"  ... {counts['memories']} memories, {counts['jobs_pending']} jobs pending")
                last_report = time.monotonic()
            time.sleep(0.5)


# --- the load ----------------------------------------------------------------------------------------


def server_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds the server process (every thread) has used so far; None if unknown."""
    if pid is None:
        return None
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_phase_measured(
    url: str, key: str, pid: int | None, *, clients: int, requests: int, users: int | None, seed: int
) -> dict[str, Any]:
    """:func:`run_phase`, plus the server's CPU ms per request and the load average around it."""
    load_before, cpu_before = os.getloadavg()[0], server_cpu_seconds(pid)
    result = asyncio.run(run_phase(url, key, clients=clients, requests=requests, users=users, seed=seed))
    cpu_after = server_cpu_seconds(pid)
    if cpu_before is not None and cpu_after is not None:
        # warm-up requests (3 per client) run on the server too: count them in the divisor
        served = result["requests"] + 3 * clients
        result["server_cpu_ms_per_request"] = round((cpu_after - cpu_before) * 1000 / served, 2)
    result["load_avg_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return result


async def run_phase(
    url: str, key: str, *, clients: int, requests: int, users: int | None, seed: int
) -> dict[str, Any]:
    """``requests`` searches from ``clients`` clients at once; scoped to a user unless ``users`` is None."""
    rng = random.Random(seed)
    bodies = []
    for _ in range(requests):
        body: dict[str, Any] = {"query": _fill(rng.choice(QUERIES), rng), "limit": 10}
        if users is not None:
            body["user_id"] = f"user-{rng.randrange(users)}"
        bodies.append(body)
    latencies: list[float] = []
    errors = 0
    queue = iter(bodies)

    async def one_client() -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
            for _ in range(3):  # warm-up, untimed
                await client.post("/v1/memories/search", json=bodies[0])
            for body in queue:
                started = time.perf_counter()
                response = await client.post("/v1/memories/search", json=body)
                latencies.append((time.perf_counter() - started) * 1000)
                errors += response.status_code != 200

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    wall = time.perf_counter() - started
    return summarise(latencies, wall, errors)


def summarise(latencies: list[float], wall: float, errors: int) -> dict[str, Any]:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)

    return {
        "requests": len(ordered),
        "errors": errors,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "max_ms": round(ordered[-1], 2),
        "throughput_rps": round(len(ordered) / wall, 1),
        "seconds": round(wall, 2),
    }


# --- main --------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memories", type=int, default=100_000, help="corpus size (default 100000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--requests", type=int, default=1000, help="searches per phase (default 1000)")
    parser.add_argument("--users", type=int, default=100, help="users the corpus is spread over")
    parser.add_argument("--batch", type=int, default=500, help="messages per add request")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, help="server data folder to keep/reuse (default: temporary)")
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--api-key", help="API key for --url")
    parser.add_argument("--server-pid", type=int, help="pid of the --url server (for its CPU per request)")
    parser.add_argument("--model", help="the started server's local embedding model (default: its own)")
    parser.add_argument(
        "--phases",
        default="user_scoped,tenant_wide",
        help="comma-separated: user_scoped (searches scoped to one user), tenant_wide",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.url:
        run(args, args.url, args.api_key or os.environ.get("MEMHUB_API_KEY", ""), args.server_pid)
        return
    with tempfile.TemporaryDirectory(prefix="memhub-bench-") as tmp:
        data = args.data or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        with local_server(data, args.model) as (url, key, pid):
            run(args, url, key, pid)


def run(args: argparse.Namespace, url: str, key: str, pid: int | None) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=300) as client:
        corpus = build_corpus(client, args.memories, args.users, args.batch, args.seed)
        info = client.get("/v1/info").json()
    populated = min(args.users, math.ceil(args.memories / args.batch))  # users that got a job
    load_before = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    phases = {}
    wanted = set(args.phases.split(","))
    for name, users in (("user_scoped", populated), ("tenant_wide", None)):
        if name not in wanted:
            continue
        phases[name] = run_phase_measured(
            url, key, pid, clients=args.clients, requests=args.requests, users=users, seed=args.seed
        )
    result = {
        "benchmark": "http_search",
        "memories": info["counts"]["memories"],
        "users": args.users,
        "clients": args.clients,
        "corpus": corpus,
        "phases": phases,
        "server": {"version": info["version"], "backend": info["backend"], "embedder": info["embedder"]},
        "machine": {
            "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(
        f"\n{'phase':12} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7}"
        f" {'cpu ms/req':>10} {'load 1m':>12}"
    )
    for name, p in phases.items():
        load = "->".join(str(x) for x in p["load_avg_1m"])
        print(
            f"{name:12} {p['requests']:8} {p['errors']:6} {p['p50_ms']:8} {p['p95_ms']:8} {p['p99_ms']:8} "
            f"{p['throughput_rps']:7} {p.get('server_cpu_ms_per_request', '-'):>10} {load:>12}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
