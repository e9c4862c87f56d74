"""The rule extractor against a reference extraction it did not write (LoCoMo's ``observation`` lists).

For every annotated observation (a fact a strong LLM extracted, with the ``dia_id`` of its source turn)
we ask: did the extractor produce at least one fact from that turn? That is *coverage*. Conversations
0–4 were used to tune the rules, 5–9 are reported separately as held out. Each turn is extracted on
its own (speaker name = the turn's speaker, timestamp = the session's), as the ingest path does.

*Clean*: the share of produced facts that are clean third-person statements, from a hand-labelled
sample (``bench/labels/extraction_clean.json``). LoCoMo is CC BY-NC, so the labels are stored keyed by
a hash of the fact text, never the text itself; re-running regenerates the same facts and finds them.

"before" is the extractor of another git revision (default ``main``), run from ``git archive`` of that
revision in a subprocess, so both figures come from one command on one machine:

    nice -n 10 python bench/extraction.py            # before (main) and after (this checkout)
    python bench/extraction.py --sample 120 --show   # print the sample to label (not stored)

``--llm`` is a smoke test of the LLM extractor path, not a measure of any model: on a few conversations
(``--convs``, default 5) each turn goes through memhub's LLM extractor as the runtime builds it
(``build_extractor``: the real ``ChatClient`` over HTTP, JSON repair, validation, reconciliation, drafts)
to a fake OpenAI-compatible server on loopback (``memhub.testing``). The fake model answers each prompt
with the facts the rule extractor finds in that turn, in a JSON code fence, so every figure of the LLM
path must equal the rule extractor's; a difference is something the path lost or changed:

    nice -n 10 python bench/extraction.py --llm      # writes bench/results/extraction_llm_smoke.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import LOCOMO, LOCOMO_CANDIDATES, locomo_sessions

REPO = Path(__file__).resolve().parent.parent
LABELS = REPO / "bench" / "labels" / "extraction_clean.json"
OUT = REPO / "bench" / "results" / "extraction.json"
LLM_OUT = REPO / "bench" / "results" / "extraction_llm_smoke.json"
TUNE = range(0, 5)
HELD_OUT = range(5, 10)


def fact_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _data() -> list[dict[str, Any]]:
    if not LOCOMO.exists():
        sys.exit("locomo10.json not found (looked in " + ", ".join(map(str, LOCOMO_CANDIDATES)) + ")")
    data: list[dict[str, Any]] = json.loads(LOCOMO.read_text())
    return data


def _sources(source: Any) -> set[str]:
    items = source if isinstance(source, list) else [source]
    return {s.strip() for item in items for s in str(item).split(",") if s.strip()}


def _observations(conv: dict[str, Any]) -> list[set[str]]:
    """The source turns of each annotated observation of ``conv``."""
    return [
        _sources(source)
        for per_speaker in conv["observation"].values()
        for observations in per_speaker.values()
        for _text, source in observations
    ]


def run_one(convs: list[int] | None = None) -> dict[str, Any]:
    """Extract every turn (of ``convs``, default all) with the ``memhub`` importable here; coverage per
    split, facts, timing."""
    from memhub.core.models import MemoryKind
    from memhub.core.ports import ExtractionContext
    from memhub.pipeline.extractors import RuleExtractor

    extractor = RuleExtractor()
    facts: list[dict[str, Any]] = []
    splits: dict[str, dict[str, int]] = {}
    elapsed = 0.0
    messages = 0
    for index, conv in enumerate(_data()):
        if convs is not None and index not in convs:
            continue
        producing: set[str] = set()
        for events in locomo_sessions(conv):
            for event in events:
                start = time.perf_counter()
                drafts = extractor.extract([event.model_copy(update={"position": 0})], ExtractionContext())
                elapsed += time.perf_counter() - start
                messages += 1
                for draft in drafts:
                    if draft.kind is MemoryKind.FACT:
                        producing.add(event.id)
                        facts.append({"conv": index, "text": draft.text, "core": draft.core})
        split = "tune_0_4" if index in TUNE else "held_out_5_9"
        tally = splits.setdefault(split, {"observations": 0, "covered": 0})
        for sources in _observations(conv):
            tally["observations"] += 1
            tally["covered"] += bool(sources & producing)
    return {
        "facts": facts,
        "splits": splits,
        "ms_per_message": 1000 * elapsed / messages,
        "messages": messages,
    }


def _turns(convs: list[int], max_turns: int | None) -> list[tuple[int, Any]]:
    """(conversation, event) of the first ``max_turns`` turns of each of ``convs``, as extracted alone."""
    data = _data()
    out: list[tuple[int, Any]] = []
    for index in convs:
        events = [e.model_copy(update={"position": 0}) for s in locomo_sessions(data[index]) for e in s]
        out.extend((index, event) for event in events[:max_turns])
    return out


def _extract_turns(extractor: Any, turns: list[tuple[int, Any]]) -> dict[str, Any]:
    """Facts of each turn extracted on its own, the turns that produced one, and the time per turn."""
    from memhub.core.models import MemoryKind
    from memhub.core.ports import ExtractionContext

    facts: list[dict[str, Any]] = []
    producing: set[str] = set()
    start = time.perf_counter()
    for index, event in turns:
        for draft in extractor.extract([event], ExtractionContext()):
            if draft.kind is MemoryKind.FACT:
                producing.add(event.id)
                facts.append({"conv": index, "turn": event.id, "text": draft.text, "core": draft.core})
    elapsed = time.perf_counter() - start
    return {"facts": facts, "producing": producing, "ms_per_message": 1000 * elapsed / max(len(turns), 1)}


def _labelled_clean(facts: list[dict[str, Any]], labels: dict[str, dict[str, bool]]) -> dict[str, Any]:
    """Clean share over every distinct produced fact that has a hand label (the part of the full run's
    labelled sample that falls in this subset)."""
    judged = [labels[fact_id(text)] for text in {f["text"] for f in facts} if fact_id(text) in labels]
    third = sum(j["third_person"] for j in judged)
    return {
        "labelled": len(judged),
        "clean_third_person": third,
        "clean_third_person_share": round(third / len(judged), 3) if judged else None,
    }


def _smoke_summary(
    result: dict[str, Any], observations: list[set[str]], labels: dict[str, dict[str, bool]]
) -> dict[str, Any]:
    covered = sum(bool(sources & result["producing"]) for sources in observations)
    return {
        "coverage": {
            "observations": len(observations),
            "covered": covered,
            "share": round(covered / len(observations), 3) if observations else None,
        },
        "facts": len(result["facts"]),
        "core_facts": sum(f["core"] for f in result["facts"]),
        "clean": _labelled_clean(result["facts"], labels),
        "ms_per_message": round(result["ms_per_message"], 3),
    }


def run_llm_smoke(
    convs: list[int], max_turns: int | None, labels: dict[str, dict[str, bool]]
) -> dict[str, Any]:
    """The rule extractor and the LLM extractor path (fake model on loopback) on the same turns."""
    from memhub.core.ports import ExtractionContext
    from memhub.pipeline.extractors import RuleExtractor
    from memhub.pipeline.extractors.llm_facts import extraction_messages
    from memhub.runtime import build_extractor
    from memhub.settings import Settings
    from memhub.testing.chat_server import completion
    from memhub.testing.openai_server import RecordedRequest, Reply, start_fake_openai_server

    turns = _turns(convs, max_turns)
    rule = _extract_turns(RuleExtractor(), turns)
    answers: dict[str, str] = {}  # the prompt of a turn -> what the fake model replies
    for _index, event in turns:
        prompt = extraction_messages([event], ExtractionContext())[-1]["content"]
        mine = [f for f in RuleExtractor().extract([event], ExtractionContext()) if f.kind.value == "fact"]
        items = [{"text": f.text, "core": f.core, "slot": f.metadata.get("slot"), "turn": 0} for f in mine]
        answers[prompt] = "```json\n" + json.dumps({"facts": items}) + "\n```"
    requests = 0

    def fake_model(server: Any, request: RecordedRequest) -> Reply:
        nonlocal requests
        requests += 1
        return completion(answers.get(request.body["messages"][-1]["content"], '{"facts": []}'))

    with start_fake_openai_server() as fake:
        fake.route("/v1/chat/completions", fake_model)
        extractor = build_extractor(Settings(llm_base_url=fake.base_url, llm_model="fake-chat"))
        try:
            llm = _extract_turns(extractor, turns)
        finally:
            getattr(extractor, "close", lambda: None)()
    data = _data()
    extracted = {event.id for _index, event in turns}
    observations = [s for index in convs for s in _observations(data[index]) if s & extracted]
    same = Counter(f["text"] for f in rule["facts"]) & Counter(f["text"] for f in llm["facts"])
    return {
        "turns": len(turns),
        "rule": _smoke_summary(rule, observations, labels),
        "llm_fake_model": {
            **_smoke_summary(llm, observations, labels),
            "chat_requests": requests,
            "facts_identical_to_rule": sum(same.values()),
        },
    }


def _run_revision(revision: str, convs: str | None) -> dict[str, Any]:
    """``run_one`` on the source tree of ``revision``, in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", revision, "src"], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src")}
        command = [sys.executable, __file__, "--one", *(["--convs", convs] if convs else [])]
        out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _sample(facts: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """The ``size`` distinct facts with the smallest hashes: a fixed pseudo-random sample that keeps the
    same facts (and so their labels) when a change to the extractor adds or drops a few others."""
    distinct = {f["text"]: f for f in facts}
    return [distinct[k] for k in sorted(distinct, key=fact_id)[:size]]


def _clean(facts: list[dict[str, Any]], size: int, labels: dict[str, dict[str, bool]]) -> dict[str, Any]:
    sample = _sample(facts, size)
    judged = [labels[fact_id(f["text"])] for f in sample if fact_id(f["text"]) in labels]
    third = sum(j["third_person"] for j in judged)
    useful = sum(j["third_person"] and j["informative"] for j in judged)
    return {
        "sample": len(sample),
        "labelled": len(judged),
        "clean_third_person": third,
        "clean_third_person_share": round(third / len(judged), 3) if judged else None,
        "clean_and_informative": useful,
        "clean_and_informative_share": round(useful / len(judged), 3) if judged else None,
    }


def _summary(result: dict[str, Any], size: int, labels: dict[str, dict[str, bool]]) -> dict[str, Any]:
    facts = result["facts"]
    return {
        "coverage": {
            split: {**t, "share": round(t["covered"] / t["observations"], 3)}
            for split, t in result["splits"].items()
        },
        "facts": len(facts),
        "core_facts": sum(f["core"] for f in facts),
        "ms_per_message": round(result["ms_per_message"], 3),
        "messages": result["messages"],
        "clean": _clean(facts, size, labels),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", default="main", help="git revision whose extractor is 'before'")
    parser.add_argument("--sample", type=int, default=120, help="facts per labelled sample")
    parser.add_argument("--show", action="store_true", help="print the samples with their ids, to label")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--llm", action="store_true", help="smoke test of the LLM extractor path (fake model)"
    )
    parser.add_argument(
        "--convs", default=None, help="conversations, comma-separated (default: all; --llm: 5)"
    )
    parser.add_argument("--max-turns", type=int, default=None, help="with --llm: first N turns of each")
    parser.add_argument("--out", type=Path, default=None, help="where to write the JSON")
    args = parser.parse_args()
    convs = [int(c) for c in args.convs.split(",")] if args.convs else None
    if args.one:
        print(json.dumps(run_one(convs)))
        return
    labels: dict[str, dict[str, bool]] = json.loads(LABELS.read_text())["labels"] if LABELS.exists() else {}
    if args.llm:
        _write(args.out or LLM_OUT, _llm_report(args, labels))
        return
    before = _run_revision(args.before, args.convs)
    after = run_one(convs)
    if args.show:
        for name, result in (("before", before), ("after", after)):
            for fact in _sample(result["facts"], args.sample):
                mark = labels.get(fact_id(fact["text"]))
                shown = "?" if mark is None else f"{int(mark['third_person'])}{int(mark['informative'])}"
                print(name, fact_id(fact["text"]), shown, fact["text"], sep="\t")
        return
    report = {
        "command": "nice -n 10 python bench/extraction.py" + (f" --convs {args.convs}" if convs else ""),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "before_revision": args.before,
        "before": _summary(before, args.sample, labels),
        "after": _summary(after, args.sample, labels),
    }
    _write(args.out or OUT, report)


def _llm_report(args: argparse.Namespace, labels: dict[str, dict[str, bool]]) -> dict[str, Any]:
    convs = [int(c) for c in (args.convs or "5").split(",")]
    command = "nice -n 10 python bench/extraction.py --llm --convs " + ",".join(map(str, convs))
    if args.max_turns is not None:
        command += f" --max-turns {args.max_turns}"
    return {
        "command": command,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "what": "smoke test of the LLM extractor path against a fake model that answers the rule "
        "extractor's facts; says nothing about a real model's quality",
        "convs": convs,
        "max_turns": args.max_turns,
        **run_llm_smoke(convs, args.max_turns, labels),
    }


def _write(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
