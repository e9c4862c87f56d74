"""How fast the web console's pages render over a tenant holding some data.

    python bench/console.py                    # 1,000 messages over 10 users, 30 timed requests a page
    python bench/console.py --messages 5000 --requests 50

Starts ``memhub serve`` on a free loopback port (``http_load.local_server``: the real store, the bundled
local model, the worker), adds the messages through the native API, signs in to the console with the
admin key as a browser would (the form, then the cookie), then times ``--requests`` sequential GETs of
each page over HTTP (no browser: what is measured is the server's answer, HTML complete). Prints a
table and writes ``bench/results/console.json`` with p50/p95/p99 per page in ms and each page's size.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import percentiles, write_json
from http_load import local_server

RESULTS = Path(__file__).parent / "results" / "console.json"


def ingest(http: httpx.Client, key: str, messages: int, users: int) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    jobs = []
    per_user = max(1, messages // users)
    for u in range(users):
        for start in range(0, per_user, 50):
            batch = [
                {
                    "role": "user",
                    "content": f"Message {start + i} of user {u}: I like topic {(start + i) % 37}.",
                }
                for i in range(min(50, per_user - start))
            ]
            body = {"messages": batch, "user_id": f"user-{u}", "session_id": f"s-{u}-{start // 50}"}
            jobs.append(http.post("/v1/memories", json=body, headers=headers).json()["job_id"])
    for job_id in jobs:
        while http.get(f"/v1/jobs/{job_id}", headers=headers).json()["status"] != "succeeded":
            time.sleep(0.05)


def time_page(http: httpx.Client, path: str, requests: int) -> dict[str, Any]:
    samples, size = [], 0
    for _ in range(requests):
        started = time.perf_counter()
        response = http.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        size = len(response.content)
    return {"path": path, "bytes": size, **percentiles(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        local_server(Path(tmp)) as (url, key, _),
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        ingest(http, key, args.messages, args.users)
        assert http.post("/console/login", data={"api_key": key}).status_code == 303
        listed = http.get("/v1/memories?limit=1", headers={"Authorization": f"Bearer {key}"}).json()
        pages = [
            "/console",
            "/console/users",
            "/console/users/user-0",
            "/console/sessions/s-0-0",
            "/console/memories",
            f"/console/memories/{listed['items'][0]['id']}",
            "/console/search?q=which+topic+does+user+3+like",
        ]
        rows = [time_page(http, path, args.requests) for path in pages]
    print(f"{'page':58} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'KiB':>6}")
    for row in rows:
        timings = f"{row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {row['p99_ms']:8.1f}"
        print(f"{row['path'][:58]:58} {timings} {row['bytes'] / 1024:6.1f}")
    load = os.getloadavg()[0]
    print(f"load average during the run: {load:.1f} on {os.cpu_count()} CPUs")
    params = {"messages": args.messages, "users": args.users, "requests": args.requests}
    write_json(args.out, {**params, "load_average_1m": round(load, 1), "pages": rows})


if __name__ == "__main__":
    main()
