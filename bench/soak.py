"""Soak: 16 concurrent clients mixing adds and searches on loopback for a bounded time; ends by itself.

    python bench/soak.py                     # 60 s, 16 clients, 1 add in 4 requests
    python bench/soak.py --seconds 600       # a longer soak
    python bench/soak.py --url http://127.0.0.1:8420 --api-key mh_... --pid 1234   # a running server

Without ``--url`` it starts ``python -m memhub serve`` (worker included) on a free loopback port with a
temporary data folder. Each client loops until the deadline: an add (``--batch`` messages for one of
``--users`` users) with probability ``--add-ratio``, else a user-scoped search. The server's resident
set size (``/proc/<pid>/status`` VmRSS) is sampled every ``--sample`` seconds: the first quarter of the
run is warm-up (model, caches, connection pools), and *RSS growth* is the last sample minus the sample
at the end of warm-up (target: flat). Target: 0 errors (any non-2xx or transport error counts).

Prints a summary and writes ``bench/results/soak.json``: throughput, p50/p95/p99 per operation, errors,
RSS samples and growth, and the jobs still pending when the load stopped (ingest backlog).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from common import write_json
from http_load import QUERIES, TEMPLATES, _fill, _free_port, _wait_healthy, summarise

RESULTS = Path(__file__).parent / "results" / "soak.json"


def rss_mb(pid: int) -> float:
    """Resident set size of process ``pid`` now, in MiB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Tally:
    """Latencies and errors per operation, shared by the clients (one event loop: no lock needed)."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {"add": [], "search": []}
        self.errors: dict[str, int] = {"add": 0, "search": 0}
        self.error_samples: list[str] = []

    def record(self, op: str, started: float, ok: bool, detail: str = "") -> None:
        self.latencies[op].append((time.perf_counter() - started) * 1000)
        if not ok:
            self.errors[op] += 1
            if len(self.error_samples) < 10:
                self.error_samples.append(f"{op}: {detail[:200]}")


async def client_loop(
    url: str, key: str, number: int, deadline: float, args: argparse.Namespace, tally: Tally
) -> None:
    rng = random.Random(args.seed * 1000 + number)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        while time.monotonic() < deadline:
            user = f"soak-user-{rng.randrange(args.users)}"
            if rng.random() < args.add_ratio:
                op, path = "add", "/v1/memories"
                texts = [_fill(rng.choice(TEMPLATES), rng) for _ in range(args.batch)]
                messages = [{"role": "user", "content": text} for text in texts]
                body: dict[str, Any] = {"messages": messages, "user_id": user}
                expected = 202
            else:
                op, path, expected = "search", "/v1/memories/search", 200
                body = {"query": _fill(rng.choice(QUERIES), rng), "user_id": user, "limit": 10}
            started = time.perf_counter()
            try:
                response = await client.post(path, json=body)
                tally.record(op, started, response.status_code == expected, response.text)
            except httpx.HTTPError as exc:
                tally.record(op, started, False, repr(exc))


async def sample_rss(pid: int, deadline: float, every: float, samples: list[tuple[float, float]]) -> None:
    started = time.monotonic()
    while True:
        samples.append((round(time.monotonic() - started, 1), rss_mb(pid)))
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(min(every, max(0.0, deadline - time.monotonic())))


async def soak(url: str, key: str, pid: int | None, args: argparse.Namespace) -> dict[str, Any]:
    tally = Tally()
    samples: list[tuple[float, float]] = []
    deadline = time.monotonic() + args.seconds
    started = time.perf_counter()
    tasks = [client_loop(url, key, n, deadline, args, tally) for n in range(args.clients)]
    if pid is not None:
        tasks.append(sample_rss(pid, deadline, args.sample, samples))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    every = [ms for ops in tally.latencies.values() for ms in ops]
    return {
        "overall": summarise(every, wall, sum(tally.errors.values())),
        "add": summarise(tally.latencies["add"], wall, tally.errors["add"]),
        "search": summarise(tally.latencies["search"], wall, tally.errors["search"]),
        "error_samples": tally.error_samples,
        "rss": rss_summary(samples),
    }


def rss_summary(samples: list[tuple[float, float]]) -> dict[str, Any]:
    if not samples:
        return {"samples": []}
    warm = next((mb for t, mb in samples if t >= samples[-1][0] / 4), samples[0][1])
    return {
        "start_mb": samples[0][1],
        "after_warmup_mb": warm,
        "end_mb": samples[-1][1],
        "peak_mb": max(mb for _, mb in samples),
        "growth_after_warmup_mb": round(samples[-1][1] - warm, 1),
        "samples": samples,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load runs (default 60)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--add-ratio", type=float, default=0.25, help="share of requests that add")
    parser.add_argument("--batch", type=int, default=2, help="messages per add (default 2)")
    parser.add_argument("--users", type=int, default=50, help="users the clients spread over")
    parser.add_argument("--sample", type=float, default=2.0, help="seconds between RSS samples")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--api-key", help="API key for --url")
    parser.add_argument("--pid", type=int, help="process id of the --url server, to sample its RSS")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args()


def run(url: str, key: str, pid: int | None, args: argparse.Namespace) -> None:
    load_before = os.getloadavg()[0]
    result = asyncio.run(soak(url, key, pid, args))
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        counts = client.get("/v1/info").json()["counts"]
    payload = {
        "benchmark": "soak",
        "seconds": args.seconds,
        "clients": args.clients,
        "add_ratio": args.add_ratio,
        "batch": args.batch,
        **result,
        "store_after": counts,
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(f"\n{'op':8} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7}")
    for op in ("overall", "add", "search"):
        p = result[op]
        print(
            f"{op:8} {p['requests']:8} {p['errors']:6} {p['p50_ms']:8} {p['p95_ms']:8} {p['p99_ms']:8} "
            f"{p['throughput_rps']:7}"
        )
    rss = result["rss"]
    if "end_mb" in rss:
        print(
            f"server RSS: {rss['start_mb']} MiB at start, {rss['after_warmup_mb']} after warm-up, "
            f"{rss['end_mb']} at end (growth after warm-up {rss['growth_after_warmup_mb']} MiB)"
        )
    print(f"jobs still pending at the end: {counts.get('jobs_pending')}")
    write_json(args.out, payload)


def main() -> None:
    args = parse_args()
    if args.url:
        run(args.url, args.api_key or os.environ.get("MEMHUB_API_KEY", ""), args.pid, args)
        return
    with tempfile.TemporaryDirectory(prefix="memhub-soak-") as tmp, soak_server(Path(tmp)) as (url, key, pid):
        run(url, key, pid, args)


@contextmanager
def soak_server(data: Path) -> Iterator[tuple[str, str, int]]:
    """``memhub serve`` on a free loopback port; yields (base_url, admin key, pid); SIGTERM at the end."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMHUB_")}
    env["MEMHUB_LOG_LEVEL"] = "warning"
    with (data / "soak-server.log").open("ab") as log:
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


if __name__ == "__main__":
    main()
