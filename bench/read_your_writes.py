"""Read-your-writes over HTTP: from ``add`` returning to the message being found by ``search``.

    python bench/read_your_writes.py                     # 100 trials, default model, a user with 500 turns
    python bench/read_your_writes.py --model paraphrase-MiniLM-L3-v2
    python bench/read_your_writes.py --smoke             # seconds; writes to the temp folder

A real ``memhub serve`` on a free loopback port (its default settings; ``--threads``/``--model`` if
given), an idle one: a user gets ``--background`` LoCoMo turns first and the run waits until they are
searchable. Then each trial, one after the other with ``--pause-ms`` of quiet between them:

* **plain search**: one user-scoped search (top 10), timed from request to response, of each shape: the
  text of a turn the user already holds (``plain_search``: the same kind of query as below, so the
  ratio is the write's cost alone) and a LoCoMo question (``question_search``: shorter queries);
* **read-your-writes**: one new message (a LoCoMo turn with a unique tail, so nothing is cached) added
  with ``POST /v1/memories``; from the moment the 202 comes back, searches for the message's text are
  sent back to back (``--poll-ms`` apart) until one returns the message; the time is until that
  search's response. ``add_ms`` (the add request itself) is reported apart.

All are interleaved so they see the same machine. Result: p50/p95/p99 of each, the ratio of the p95s
(``ratio_p95``: read-your-writes over plain search; target, issue 24: <= 3; also over the question
search) and the polls per trial; ``bench/results/read_your_writes.json``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import REPO, locomo_turns, percentiles, write_json
from vs_mem0_memhub import questions, serve

USER = "rw-user"
TARGET = 3.0


def load_background(http: httpx.Client, turns: list[tuple[str, str]]) -> None:
    for i in range(0, len(turns), 20):
        messages = [{"role": "user", "name": s, "content": t} for s, t in turns[i : i + 20]]
        body = {"messages": messages, "user_id": USER, "session_id": f"bg-{i}"}
        http.post("/v1/memories", json=body).raise_for_status()
    wait_idle(http)


def wait_idle(http: httpx.Client) -> None:
    while http.get("/v1/info").json()["counts"]["jobs_pending"]:
        time.sleep(0.05)


def search(http: httpx.Client, query: str) -> list[dict[str, Any]]:
    response = http.post("/v1/memories/search", json={"query": query, "user_id": USER, "limit": 10})
    response.raise_for_status()
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def timed_search(http: httpx.Client, query: str) -> float:
    t0 = time.perf_counter()
    search(http, query)
    return (time.perf_counter() - t0) * 1000


def read_your_write(http: httpx.Client, speaker: str, text: str, poll_s: float) -> tuple[float, float, int]:
    """(add ms, add-returned-to-found ms, searches sent) for one new message."""
    t0 = time.perf_counter()
    body = {"messages": [{"role": "user", "name": speaker, "content": text}], "user_id": USER}
    http.post("/v1/memories", json=body).raise_for_status()
    added = time.perf_counter()
    polls = 0
    while True:
        polls += 1
        if any(hit["memory"]["text"] == text for hit in search(http, text)):
            found = time.perf_counter()
            return (added - t0) * 1000, (found - added) * 1000, polls
        if time.perf_counter() - added > 60:
            raise SystemExit(f"message not found 60 s after its add: {text[:60]!r}")
        time.sleep(poll_s)


def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = locomo_turns()
    queries = questions(args.trials + 10)
    with (
        tempfile.TemporaryDirectory(prefix="memhub-ryw-") as tmp,
        serve(Path(tmp), args.threads, args.model) as s,
    ):
        url, key, _pid = s
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
            load_background(http, corpus[: args.background])
            model = http.get("/v1/info").json()["embedder"]["model"]
            for q in queries[:10]:  # warm-up: vector matrix load, SQLite pages
                search(http, q)
            load_before = os.getloadavg()[0]
            plain, question, add, ryw, polls = [], [], [], [], []
            for i in range(args.trials):
                time.sleep(args.pause_ms / 1000)
                question.append(timed_search(http, queries[10 + i]))
                time.sleep(args.pause_ms / 1000)
                plain.append(timed_search(http, corpus[(i * 7) % args.background][1]))
                time.sleep(args.pause_ms / 1000)
                speaker, text = corpus[(args.background + i) % len(corpus)]
                add_ms, found_ms, n = read_your_write(
                    http, speaker, f"{text} (note {i}-{os.getpid()})", args.poll_ms / 1000
                )
                add.append(add_ms)
                ryw.append(found_ms)
                polls.append(n)
            load_after = os.getloadavg()[0]
    result = {
        "model": model,
        "background_turns": args.background,
        "trials": args.trials,
        "plain_search": percentiles(plain),
        "question_search": percentiles(question),
        "add": percentiles(add),
        "add_to_found": percentiles(ryw),
        "polls_per_trial": {"mean": round(sum(polls) / len(polls), 2), "max": max(polls)},
        "load_avg_1m": [round(load_before, 2), round(load_after, 2)],
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    result["ratio_p95"] = round(result["add_to_found"]["p95_ms"] / result["plain_search"]["p95_ms"], 2)
    p95_question = result["question_search"]["p95_ms"]
    result["ratio_p95_vs_question_search"] = round(result["add_to_found"]["p95_ms"] / p95_question, 2)
    result["target"] = TARGET
    result["met"] = result["ratio_p95"] <= TARGET
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--background", type=int, default=500, help="turns the user holds before the trials")
    parser.add_argument("--poll-ms", type=float, default=0.0, help="pause between two polling searches")
    parser.add_argument("--pause-ms", type=float, default=100.0, help="quiet before each timed request")
    parser.add_argument("--threads", type=int, help="the server's model threads (default: its own)")
    parser.add_argument("--model", help="local embedding model (default: memhub's default)")
    parser.add_argument("--smoke", action="store_true", help="seconds-long run; writes to the temp folder")
    parser.add_argument("--out", type=Path, help="default bench/results/read_your_writes[_<model>].json")
    args = parser.parse_args()
    if args.smoke:
        args.trials, args.background, args.pause_ms = 5, 20, 10.0
    if args.out is None:
        name = f"read_your_writes{'_' + args.model if args.model else ''}.json"
        args.out = Path(tempfile.gettempdir()) / name if args.smoke else REPO / "bench" / "results" / name
    result = run(args)
    plain, ryw, question = result["plain_search"], result["add_to_found"], result["question_search"]
    print(
        f"{result['model']}: plain search p50/p95 {plain['p50_ms']}/{plain['p95_ms']} ms (questions "
        f"{question['p50_ms']}/{question['p95_ms']}); add -> found p50/p95 {ryw['p50_ms']}/{ryw['p95_ms']} "
        f"ms ({result['polls_per_trial']['mean']} searches per trial); ratio of p95s {result['ratio_p95']} "
        f"(target <= {TARGET}; vs questions {result['ratio_p95_vs_question_search']}); "
        f"load {result['load_avg_1m']}"
    )
    write_json(args.out, {"read_your_writes": result})


if __name__ == "__main__":
    main()
