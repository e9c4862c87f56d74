"""Add and search latency through the mem0 client (``mem0ai`` 2.x, at ``/mem0``) next to memhub's own SDK.

    python bench/compat_mem0.py                    # 300 seeded memories, 40 timed calls per variant
    python bench/compat_mem0.py --seed 1000 --calls 100

Starts ``python -m memhub serve`` on a free loopback port (a temporary data folder, the default local
model), seeds ``--seed`` memories for one user through the native SDK, then times the same operations
through both clients against that one server, alternating call by call so both see the same machine:

* ``add_stored``: one message stored and embedded before the call returns (mem0 ``infer=False``, which
  mem0 answers synchronously; native ``add(wait=True)``);
* ``add_queued``: one message acknowledged, processed later (mem0 ``add`` with inference, answering
  ``PENDING``; native ``add()``);
* ``search``: the user's memories for a question (mem0 ``filters={"user_id": ...}``; native ``user_id=``).

Reports wall ms p50/p95 per variant and the mem0/native ratio of the p50s, with the 1-minute load average
before and after (the machine is shared: compare ratios, not absolute numbers). Writes
``bench/results/compat_mem0.json``. Telemetry of the mem0 client is off; its config folder is temporary.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ["MEM0_TELEMETRY"] = "False"
os.environ.setdefault("MEM0_DIR", tempfile.mkdtemp(prefix="mem0-bench-"))

from common import percentiles, write_json
from http_load import local_server
from mem0 import MemoryClient

from memhub.client import Client

RESULTS = Path(__file__).parent / "results" / "compat_mem0.json"
QUESTIONS = (
    "where does the user go climbing?",
    "what does the user cook on weekends?",
    "which city did the user move to?",
    "what instrument does the user play?",
)
TOPICS = ("climbing in Leith", "cooking dal on Sundays", "moving to Porto", "playing the cello", "tea")


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def seed(native: Client, user: str, count: int) -> None:
    for start in range(0, count, 50):
        batch = [
            {"role": "user", "content": f"Note {n}: I have been {TOPICS[n % len(TOPICS)]} since year {n}."}
            for n in range(start, min(count, start + 50))
        ]
        native.memories.add(batch, user_id=user, wait=True, timeout=600)


def timed_pair(calls: int, mem0: Callable[[int], Any], native: Callable[[int], Any]) -> dict[str, Any]:
    """Alternate the two clients call by call; wall ms of each."""
    samples: dict[str, list[float]] = {"mem0": [], "native": []}
    for n in range(calls):
        for name, call in (
            (("mem0", mem0), ("native", native)) if n % 2 == 0 else (("native", native), ("mem0", mem0))
        ):
            started = time.perf_counter()
            call(n)
            samples[name].append((time.perf_counter() - started) * 1000)
    row = {name: percentiles(values) for name, values in samples.items()}
    row["ratio_p50"] = round(row["mem0"]["p50_ms"] / row["native"]["p50_ms"], 3)
    return row


def run(url: str, key: str, seeded: int, calls: int) -> dict[str, Any]:
    native = Client(url, key)
    mem0 = MemoryClient(api_key=key, host=url + "/mem0")
    user = "bench-user"
    started = time.perf_counter()
    seed(native, user, seeded)
    print(f"seeded {seeded} messages in {time.perf_counter() - started:.1f} s")
    rows: dict[str, Any] = {"load_before": loadavg()}

    def text(client: str, n: int, kind: str) -> str:
        return f"{kind} {client} {n}: today I tried {TOPICS[n % len(TOPICS)]} again."

    rows["add_stored"] = timed_pair(
        calls,
        lambda n: mem0.add(text("mem0", n, "stored"), user_id=user, infer=False),
        lambda n: native.memories.add(
            [{"role": "user", "content": text("native", n, "stored")}], user_id=user, wait=True
        ),
    )
    rows["add_queued"] = timed_pair(
        calls,
        lambda n: mem0.add(text("mem0", n, "queued"), user_id=user),
        lambda n: native.memories.add(
            [{"role": "user", "content": text("native", n, "queued")}], user_id=user
        ),
    )
    rows["search"] = timed_pair(
        calls,
        lambda n: mem0.search(QUESTIONS[n % len(QUESTIONS)], filters={"user_id": user}),
        lambda n: native.memories.search(QUESTIONS[n % len(QUESTIONS)], user_id=user),
    )
    rows["load_after"] = loadavg()
    native.close()
    mem0.client.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=300)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, local_server(Path(tmp)) as (url, key, _pid):
        rows = run(url, key, args.seed, args.calls)
    print(f"load average (1 min): {rows['load_before']} before, {rows['load_after']} after")
    print(
        f"{'operation':12} {'mem0 p50':>9} {'mem0 p95':>9} {'native p50':>11} {'native p95':>11}"
        f" {'ratio':>6}  (wall ms)"
    )
    for name in ("add_stored", "add_queued", "search"):
        row = rows[name]
        m, n = row["mem0"], row["native"]
        print(
            f"{name:12} {m['p50_ms']:9.1f} {m['p95_ms']:9.1f} {n['p50_ms']:11.1f} {n['p95_ms']:11.1f}"
            f" {row['ratio_p50']:6.2f}"
        )
    write_json(
        args.out,
        {
            "command": "python bench/compat_mem0.py " + f"--seed {args.seed} --calls {args.calls}",
            "seeded": args.seed,
            "calls": args.calls,
            **rows,
        },
    )


if __name__ == "__main__":
    main()
