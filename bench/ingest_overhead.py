"""Ingest overhead: memhub's CPU per message against the model's own CPU on the very keys memhub embeds.

    python bench/ingest_overhead.py                        # 1,000 messages, 2 rounds, the default model
    python bench/ingest_overhead.py --model paraphrase-MiniLM-L3-v2
    python bench/ingest_overhead.py --smoke                # seconds; writes to the temp folder
    py-spy record -o prof.txt -f raw -- python bench/ingest_overhead.py --pipeline-only   # profile it

Two measurements, interleaved round by round (the machine is shared; ratios within a round count):

* **pipeline**: a fresh store, ``Runtime.open`` with the worker thread, the messages submitted through
  ``MemoryService.add_messages`` and the worker draining until no job is pending (searchable); CPU =
  ``time.process_time`` of the whole process (submit, worker, the model), from the first add until
  searchable, less the CPU of this benchmark's own "still pending?" polling (``time.thread_time`` of
  the polling thread, reported). The model load happens before the clock starts.
* **model alone**: the same local embedder (same model, one thread) embedding exactly the keys the
  pipeline embeds, in calls of the sizes the pipeline's worker made (so the padding is the same), CPU
  the same way; ``--one-call`` also embeds them all in one call (the embedder's best batching).

The keys come from memhub's own builders, not from the pipeline: the rule extractor (episode keys from
``pipeline/keys.py``, fact keys) over the same events, deduplicated by vector hash as the worker's
vector cache does. The pipeline's embedder records what it was asked to embed, and the run reports
whether the two agree (``keys_match``), so "the same keys" is checked, not assumed.

Workload: LoCoMo turns (``bench/common.py``) under new user ids, ``--per-user`` each, dated one day per
user, added ``--per-request`` at a time, each add its own session (as in ``bench/vs_mem0.py``).
Result: ``bench/results/ingest_overhead.json``; the target (issue 24) is ratio <= 1.15.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from common import REPO, workload, write_json

from memhub.core import ids
from memhub.core.models import Event, EventKind, Memory, MemoryKind, MessageInput
from memhub.core.ports import Embedder, ExtractionContext, Matrix
from memhub.core.processing import MAX_EXISTING_FACTS
from memhub.pipeline.extractors.rules import RuleExtractor
from memhub.runtime import Runtime, build_embedder
from memhub.settings import Settings

EPOCH = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)
TENANT = "bench"
TARGET = 1.15


def requests(messages: int, per_user: int, per_request: int) -> list[tuple[str, str, list[MessageInput]]]:
    """(user, session, messages) of every add call, in submission order."""
    out = []
    for n, (user, turns) in enumerate(workload(messages, per_user)):
        when = EPOCH + timedelta(days=n)
        for i in range(0, len(turns), per_request):
            batch = [
                MessageInput(role="user", name=s, content=t, timestamp=when)
                for s, t in turns[i : i + per_request]
            ]
            out.append((user, f"{user}-{i}", batch))
    return out


def built_keys(tenant_id: str, adds: Sequence[tuple[str, str, list[MessageInput]]]) -> list[str]:
    """The dense keys memhub's rule extractor builds for these adds, first occurrence of each vector hash.

    Each add is its own session, so no job has earlier turns; a user's facts so far (newest
    ``MAX_EXISTING_FACTS``, live ones) are the extractor's context, as the worker gives it.
    """
    extractor = RuleExtractor()
    facts: dict[str, list[Any]] = {}
    seen: set[str] = set()
    keys: list[str] = []
    for user, session, batch in adds:
        events = [
            Event(
                id=f"{session}-{i}",
                tenant_id=tenant_id,
                space_id="default",
                user_id=user,
                session_id=session,
                kind=EventKind.MESSAGE,
                role=m.role,
                name=m.name,
                content=m.content,
                occurred_at=m.timestamp or EPOCH,
                created_at=EPOCH,
                job_id=session,
                position=i,
            )
            for i, m in enumerate(batch)
        ]
        live = facts.setdefault(user, [])
        context = ExtractionContext(existing_facts=cast(list[Memory], live[-MAX_EXISTING_FACTS:][::-1]))
        for draft in extractor.extract(events, context):
            for chunk in draft.chunks:
                digest = ids.content_hash(chunk.dense_key, tenant_id)
                if digest not in seen:
                    seen.add(digest)
                    keys.append(chunk.dense_key)
            slot = draft.metadata.get("slot")
            if draft.kind is MemoryKind.FACT:
                if slot:
                    live[:] = [f for f in live if f.metadata.get("slot") != slot]
                live.append(SimpleNamespace(text=draft.text, metadata={"slot": slot}, valid_to=None))
    return keys


class RecordingEmbedder:
    """The pipeline's embedder, remembering each call's texts (a list append per call: no measurable cost)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.calls: list[list[str]] = []

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> Matrix:
        self.calls.append(list(texts))
        return self.inner.embed(texts)


def settings_for(data: Path, args: argparse.Namespace) -> Settings:
    return Settings(
        data=data,
        database_url=None,
        embed_threads=1,
        embed_model=args.model,
        worker_batch_size=args.worker_batch_size,
    )


def pipeline_round(
    args: argparse.Namespace, adds: list[tuple[str, str, list[MessageInput]]]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="memhub-overhead-") as tmp:
        settings = settings_for(Path(tmp), args)
        recorder = RecordingEmbedder(build_embedder(settings))
        runtime = Runtime.open(settings, embedder=recorder)
        recorder.embed(["warm-up"])  # model load is not ingestion
        recorder.calls.clear()
        service = runtime.service
        tenant = service.ensure_tenant(TENANT)
        cpu, wall = time.process_time(), time.perf_counter()
        runtime.start_worker()
        for user, session, batch in adds:
            service.add_messages(tenant.id, batch, user_id=user, session_id=session)
        waiting = time.thread_time()  # this thread's polling is the benchmark's cost, not memhub's
        while (counts := service.counts(tenant.id)).jobs_pending:
            time.sleep(0.05)
        waiting = time.thread_time() - waiting
        cpu, wall = time.process_time() - cpu - waiting, time.perf_counter() - wall
        runtime.close()
    return {
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "polling_cpu_s_not_counted": round(waiting, 3),
        "memories": counts.memories,
        "jobs_failed": counts.jobs_failed,
        "calls": recorder.calls,
        "tenant_id": tenant.id,
    }


def model_round(
    args: argparse.Namespace, keys: list[str], call_sizes: list[int], one_call: bool
) -> dict[str, float]:
    """CPU seconds of the embedder alone: the keys in the pipeline's call sizes (then in one call)."""
    with tempfile.TemporaryDirectory() as tmp:
        embedder = build_embedder(settings_for(Path(tmp), args))
    embedder.embed(["warm-up"])
    cpu = time.process_time()
    start = 0
    for size in call_sizes:
        embedder.embed(keys[start : start + size])
        start += size
    if start < len(keys):
        embedder.embed(keys[start:])
    as_called = time.process_time() - cpu
    if not one_call:
        return {"cpu_s": round(as_called, 3)}
    cpu = time.process_time()
    embedder.embed(keys)
    return {"cpu_s": round(as_called, 3), "one_call_cpu_s": round(time.process_time() - cpu, 3)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    adds = requests(args.messages, args.per_user, args.per_request)
    rounds = []
    keys: list[str] = []
    for r in range(args.rounds):
        load = os.getloadavg()[0]
        pipe = pipeline_round(args, adds)
        calls = pipe.pop("calls")
        if not keys:
            keys = built_keys(pipe["tenant_id"], adds)
        embedded = [t for call in calls for t in call]
        match = {
            "built": len(keys),
            "embedded_by_pipeline": len(embedded),
            "only_built": len(set(keys) - set(embedded)),
            "only_pipeline": len(set(embedded) - set(keys)),
        }
        model = model_round(args, keys, [len(c) for c in calls], args.one_call)
        row = {
            "round": r,
            "pipeline": pipe,
            "model": model,
            "keys": match,
            "embed_calls": len(calls),
            "ratio": round(pipe["cpu_s"] / model["cpu_s"], 3),
            "ratio_vs_one_call": round(pipe["cpu_s"] / model["one_call_cpu_s"], 3) if args.one_call else None,
            "load_avg_1m": [round(load, 2), round(os.getloadavg()[0], 2)],
        }
        print(
            f"round {r}: pipeline {pipe['cpu_s']} CPU-s ({pipe['wall_s']} s wall), model alone "
            f"{model['cpu_s']} CPU-s ({model.get('one_call_cpu_s', '-')} in one call) on {len(keys)} keys "
            f"-> {row['ratio']}x; keys {match}; load {row['load_avg_1m']}",
            flush=True,
        )
        rounds.append(row)
    ratio = round(statistics.median(r["ratio"] for r in rounds), 3)
    pipe_cpu = statistics.median(r["pipeline"]["cpu_s"] for r in rounds)
    model_cpu = statistics.median(r["model"]["cpu_s"] for r in rounds)
    return {
        "model": args.model or "default",
        "messages": args.messages,
        "keys": len(keys),
        "keys_per_message": round(len(keys) / args.messages, 3),
        "keys_match": all(r["keys"]["only_built"] == r["keys"]["only_pipeline"] == 0 for r in rounds),
        "pipeline_cpu_ms_per_message": round(pipe_cpu / args.messages * 1000, 3),
        "model_cpu_ms_per_message": round(model_cpu / args.messages * 1000, 3),
        "model_cpu_ms_per_key": round(model_cpu / len(keys) * 1000, 3),
        "ratio": ratio,
        "ratio_vs_one_call": statistics.median(r["ratio_vs_one_call"] for r in rounds)
        if args.one_call
        else None,
        "target": TARGET,
        "met": ratio <= TARGET,
        "rounds": rounds,
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--per-user", type=int, default=500)
    parser.add_argument("--per-request", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--worker-batch-size", type=int, default=32, help="jobs the worker claims at once")
    parser.add_argument("--model", help="local embedding model (default: memhub's default)")
    parser.add_argument("--one-call", action="store_true", help="also time the keys in one embed call")
    parser.add_argument("--pipeline-only", action="store_true", help="one pipeline round, nothing else")
    parser.add_argument("--smoke", action="store_true", help="seconds-long run; writes to the temp folder")
    parser.add_argument("--out", type=Path, help="default bench/results/ingest_overhead[_<model>].json")
    args = parser.parse_args()
    if args.smoke:
        args.messages, args.per_user, args.rounds = 60, 30, 1
    if args.pipeline_only:
        pipe = pipeline_round(args, requests(args.messages, args.per_user, args.per_request))
        print(f"pipeline: {pipe['cpu_s']} CPU-s, {pipe['wall_s']} s wall, {len(pipe['calls'])} embed calls")
        return
    if args.out is None:
        name = f"ingest_overhead{'_' + args.model if args.model else ''}.json"
        args.out = Path(tempfile.gettempdir()) / name if args.smoke else REPO / "bench" / "results" / name
    result = run(args)
    print(
        f"{result['model']}: {result['messages']} messages, {result['keys']} keys; pipeline "
        f"{result['pipeline_cpu_ms_per_message']} CPU-ms/message, model alone "
        f"{result['model_cpu_ms_per_message']} -> ratio {result['ratio']} (target <= {TARGET}; "
        f"vs one call {result['ratio_vs_one_call']}); keys match: {result['keys_match']}"
    )
    write_json(args.out, {"ingest_overhead": result})


if __name__ == "__main__":
    main()
