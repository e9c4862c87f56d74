"""What one GoodMem memory list costs, in-process, against a space of some size.

    python bench/compat_goodmem.py --label before     # 2,000 memories, 30 requests per kind
    python bench/compat_goodmem.py --label after --memories 2000 --requests 30

Builds the real app (``create_app``: SQLite store in a temporary folder, no worker) and talks to it
through Starlette's ``TestClient`` (in-process ASGI, no sockets), so what is timed is the app's own
work. The memories are created through ``POST /v1/memories`` as a GoodMem client would (the worker is
off, so every one stays ``PENDING``: a list still has to read each listed memory's job for its status).
Half carry ``metadata.source = "even"``, half ``"odd"``.

Times ``GET /v1/spaces/{id}/memories`` for the first page of 50, a page 1,000 memories deep (the
offset token GoodMem clients pass back), the first page with a metadata filter, the first page with a
status filter, and the first page sorted by ``updated_at`` (an order only the jobs know, so the whole
space is read). Reports CPU ms per request (``time.process_time``: every thread of this process, i.e.
the app's work, SQLite included) and wall ms; writes the run under ``--label`` into
``bench/results/compat_goodmem.json``, keeping the other labels' runs (before/after comparisons).
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import percentiles, write_json
from fastapi.testclient import TestClient

from memhub.api import create_app
from memhub.core.service import MemoryService
from memhub.settings import Settings

RESULTS = Path(__file__).parent / "results" / "compat_goodmem.json"
PREFIX = Settings().goodmem_prefix


def seed(http: TestClient, count: int) -> str:
    """A space holding ``count`` text memories; returns its id."""
    embedder = {
        "displayName": "bench",
        "providerType": "TEI",
        "endpointUrl": "http://localhost:1",  # never called: memhub embeds with its own model
        "modelIdentifier": "local",
        "dimensionality": 384,
    }
    made = http.post(f"{PREFIX}/v1/embedders", json=embedder)
    assert made.status_code == 200, made.text
    weights = [{"embedderId": made.json()["embedderId"], "defaultRetrievalWeight": 1.0}]
    space = http.post(f"{PREFIX}/v1/spaces", json={"name": "bench", "spaceEmbedders": weights})
    assert space.status_code == 200, space.text
    space_id: str = space.json()["spaceId"]
    for n in range(count):
        body = {
            "spaceId": space_id,
            "originalContent": f"Bench memory {n}: notes on topic {n % 37}.",
            "contentType": "text/plain",
            "metadata": {"source": "even" if n % 2 == 0 else "odd", "n": n},
        }
        created = http.post(f"{PREFIX}/v1/memories", json=body)
        assert created.status_code == 200, created.text
    return space_id


def offset_token(offset: int) -> str:
    """The token a list returns for the page starting at ``offset`` (URL-safe base64 of ``{"o": n}``)."""
    raw = json.dumps({"o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def timed(call: Callable[[], Any], requests: int, expect: int) -> dict[str, Any]:
    cpu, wall = [], []
    for _ in range(requests):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        response = call()
        cpu.append((time.process_time() - cpu0) * 1000)
        wall.append((time.perf_counter() - wall0) * 1000)
        assert response.status_code == 200, response.text
        assert len(response.json()["memories"]) == expect, "the page is not the size it should be"
    return {"cpu": percentiles(cpu), "wall": percentiles(wall)}


def requests_to_time(count: int) -> dict[str, tuple[dict[str, Any], int]]:
    """name -> (query parameters, memories the page must hold)."""
    page = min(50, count)
    return {
        "list_page1": ({"max_results": 50}, page),
        "list_offset_1000": ({"max_results": 50, "next_token": offset_token(1000)}, min(50, count - 1000)),
        "list_filter_page1": (
            {"max_results": 50, "filter": "CAST(val('$.source') AS TEXT) = 'even'"},
            min(50, (count + 1) // 2),
        ),
        "list_status_page1": ({"max_results": 50, "status_filter": "PENDING"}, page),
        "list_by_updated_at_page1": ({"max_results": 50, "sort_by": "updated_at"}, page),
    }


def previous_runs(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    runs: dict[str, Any] = json.loads(path.read_text()).get("runs", {})
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memories", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--label", default="current", help="the run's name in the results file")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results file (other labels kept)")
    args = parser.parse_args()
    if args.memories <= 1000:
        parser.error("--memories must be over 1000 (one request reads a page 1,000 deep)")
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data=Path(tmp), worker=False), bootstrap_key=False)
        with TestClient(app) as http:
            service: MemoryService = app.state.service
            _, secret = service.create_api_key("bench-goodmem")
            http.headers["x-api-key"] = secret
            started = time.perf_counter()
            space_id = seed(http, args.memories)
            print(f"seeded {args.memories} memories in {time.perf_counter() - started:.1f} s")
            url = f"{PREFIX}/v1/spaces/{space_id}/memories"
            rows = {
                name: timed(lambda p=params: http.get(url, params=p), args.requests, expect)  # type: ignore[misc]
                for name, (params, expect) in requests_to_time(args.memories).items()
            }
    print(f"{'request':26} {'cpu p50':>9} {'cpu mean':>9} {'wall p50':>9} {'wall p95':>9}   (ms, n)")
    for name, row in rows.items():
        cpu, wall = row["cpu"], row["wall"]
        print(
            f"{name:26} {cpu['p50_ms']:9.1f} {cpu['mean_ms']:9.1f} {wall['p50_ms']:9.1f}"
            f" {wall['p95_ms']:9.1f}   n={cpu['n']}"
        )
    run = {"memories": args.memories, "requests": args.requests, "requests_timed": rows}
    write_json(args.out, {"runs": {**previous_runs(args.out), args.label: run}})


if __name__ == "__main__":
    main()
