"""Shared helpers of the benchmark scripts: workload text, timing statistics, machine description, output."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# Next to the repository; a git worktree elsewhere (e.g. /work/wt/<name>) finds the machine's shared copy.
LOCOMO_CANDIDATES = (
    REPO.parent / "shared" / "data" / "locomo10.json",
    Path("/work/shared/data/locomo10.json"),
)
LOCOMO = next((p for p in LOCOMO_CANDIDATES if p.exists()), LOCOMO_CANDIDATES[0])


def locomo_turns() -> list[tuple[str, str]]:
    """(speaker, text) of every LoCoMo turn, in order; a synthetic corpus if the data isn't there."""
    if not LOCOMO.exists():
        return [(f"speaker{i % 2}", f"synthetic message {i} about topic {i % 97}") for i in range(5882)]
    turns = []
    for conv in json.loads(LOCOMO.read_text()):
        c = conv["conversation"]
        for key in sorted((k for k in c if isinstance(c[k], list)), key=lambda k: int(k.split("_")[1])):
            turns.extend((t["speaker"], t["text"]) for t in c[key])
    return turns


def workload(total: int, per_user: int) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(user_id, turns) for ``total`` messages, cycling the corpus under new user ids."""
    corpus = locomo_turns()
    for start in range(0, total, per_user):
        user = f"user-{start // per_user}"
        yield user, [corpus[(start + i) % len(corpus)] for i in range(min(per_user, total - start))]


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean of latencies in milliseconds."""
    ordered = sorted(samples_ms)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    return {
        "p50_ms": round(pct(50), 3),
        "p95_ms": round(pct(95), 3),
        "p99_ms": round(pct(99), 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
        "n": len(ordered),
    }


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2) + "\n")
    print(f"wrote {path}")


def locomo_sessions(conv: dict[str, Any]) -> list[list[Any]]:
    """One LoCoMo conversation as memhub events, session by session (``Event.id`` = the turn's dia_id).

    Every turn is a ``user`` message named after its speaker (both speakers are people), timestamped
    with its session's date.
    """
    from datetime import datetime, timezone

    from memhub.core.models import Event, EventKind

    c = conv["conversation"]
    sessions: list[list[Any]] = []
    for key in sorted((k for k in c if isinstance(c[k], list)), key=lambda k: int(k.split("_")[1])):
        when = datetime.strptime(c[key + "_date_time"], "%I:%M %p on %d %B, %Y").replace(tzinfo=timezone.utc)
        sessions.append(
            [
                Event(
                    id=t["dia_id"],
                    tenant_id="t",
                    space_id="s",
                    user_id="u",
                    session_id=key,
                    kind=EventKind.MESSAGE,
                    role="user",
                    name=t["speaker"],
                    content=t["text"],
                    occurred_at=when,
                    created_at=when,
                    job_id="j",
                    position=i,
                )
                for i, t in enumerate(c[key])
            ]
        )
    return sessions
