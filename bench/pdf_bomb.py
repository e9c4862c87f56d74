"""Peak memory of a real ``memhub serve`` sent a PDF bomb, for one or more source trees side by side.

For each ``--src`` (a ``src`` folder: this branch's, main's…) it starts ``python -m memhub serve`` on a
free loopback port with that tree first on ``PYTHONPATH``, uploads a small PDF through the GoodMem door
(warm-up), reads the server's peak RSS (``VmHWM``), uploads a PDF whose content stream inflates to
``--inflate-mb`` MB, and reads ``VmHWM`` again. The answer's status and the growth go to
``bench/results/pdf_bomb.json``.

    nice -n 10 python bench/pdf_bomb.py --src src --src ../../main/src
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import REPO, machine, write_json

sys.path.insert(0, str(REPO / "tests"))
from support.pdfs import make_flate_bomb  # the tests' PDF writer: one definition


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM")


def settle(http: httpx.Client, memory_id: str) -> None:
    """Wait for the warm-up memory to be embedded, so the model is loaded before the measurement."""
    deadline = time.monotonic() + 300
    while http.get(f"/goodmem/v1/memories/{memory_id}").json()["processingStatus"] != "COMPLETED":
        if time.monotonic() > deadline:
            raise RuntimeError("warm-up memory not processed")
        time.sleep(0.2)


def upload(http: httpx.Client, space: str, data: bytes) -> tuple[int, str]:
    files = {
        "request": (None, f'{{"spaceId": "{space}", "contentType": "application/pdf"}}', "application/json"),
        "file": ("doc.pdf", data, "application/pdf"),
    }
    response = http.post("/goodmem/v1/memories", files=files)
    return response.status_code, response.text


def measure(src: Path, bomb: bytes, small: bytes) -> dict[str, Any]:
    port = _free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEMHUB_")}
        env.update(PYTHONPATH=str(src.resolve()), MEMHUB_DATA=data, MEMHUB_PORT=str(port))
        log = open(Path(data) / "server.log", "wb")  # noqa: SIM115 -- closed below
        server = subprocess.Popen([sys.executable, "-m", "memhub", "serve"], env=env, stdout=log, stderr=log)
        try:
            http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600)
            _wait_up(http)
            http.headers["Authorization"] = f"Bearer {(Path(data) / 'admin-key').read_text().strip()}"
            embedder = http.post(
                "/goodmem/v1/embedders",
                json={
                    "displayName": "e",
                    "providerType": "TEI",
                    "endpointUrl": "http://localhost:1",
                    "modelIdentifier": "local",
                    "dimensionality": 384,
                },
            ).json()["embedderId"]
            space = http.post(
                "/goodmem/v1/spaces", json={"name": "bomb", "spaceEmbedders": [{"embedderId": embedder}]}
            ).json()["spaceId"]
            warm = upload(http, space, small)
            settle(http, json.loads(warm[1])["memoryId"])
            before = vm_hwm_mb(server.pid)
            started = time.perf_counter()
            status, body = upload(http, space, bomb)
            seconds = time.perf_counter() - started
            after = vm_hwm_mb(server.pid)
        finally:
            server.terminate()
            server.wait(60)
            log.close()
    return {
        "src": str(src),
        "warm_up_status": warm[0],
        "bomb_status": status,
        "bomb_answer": body[:300],
        "answer_seconds": round(seconds, 2),
        "peak_rss_before_mb": before,
        "peak_rss_after_mb": after,
        "peak_rss_growth_mb": round(after - before, 1),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_up(http: httpx.Client) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if http.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--src", action="append", type=Path, required=True)
    parser.add_argument("--inflate-mb", type=int, default=1024)
    args = parser.parse_args()
    bomb = make_flate_bomb(args.inflate_mb << 20)
    small = make_flate_bomb(0)
    runs = [measure(src, bomb, small) for src in args.src]
    payload = {
        "command": "nice -n 10 python bench/pdf_bomb.py " + " ".join(f"--src {s}" for s in args.src),
        "bomb_bytes": len(bomb),
        "inflated_mb": args.inflate_mb,
        "load_average": os.getloadavg(),
        "machine": machine(),
        "runs": runs,
    }
    write_json(REPO / "bench" / "results" / "pdf_bomb.json", payload)
    for run in runs:
        print(run)


if __name__ == "__main__":
    main()
