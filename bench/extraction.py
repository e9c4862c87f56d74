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
from pathlib import Path
from typing import Any

from common import locomo_sessions

REPO = Path(__file__).resolve().parent.parent
DATA_CANDIDATES = (REPO.parent / "shared" / "data" / "locomo10.json", Path("/work/shared/data/locomo10.json"))
LABELS = REPO / "bench" / "labels" / "extraction_clean.json"
OUT = REPO / "bench" / "results" / "extraction.json"
TUNE = range(0, 5)
HELD_OUT = range(5, 10)


def fact_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _data() -> list[dict[str, Any]]:
    path = next((p for p in DATA_CANDIDATES if p.exists()), None)
    if path is None:
        sys.exit("locomo10.json not found (looked in " + ", ".join(map(str, DATA_CANDIDATES)) + ")")
    data: list[dict[str, Any]] = json.loads(path.read_text())
    return data


def _sources(source: Any) -> set[str]:
    items = source if isinstance(source, list) else [source]
    return {s.strip() for item in items for s in str(item).split(",") if s.strip()}


def run_one() -> dict[str, Any]:
    """Extract every turn with the ``memhub`` importable here; coverage per split, facts, timing."""
    from memhub.core.models import MemoryKind
    from memhub.core.ports import ExtractionContext
    from memhub.pipeline.extractors import RuleExtractor

    extractor = RuleExtractor()
    facts: list[dict[str, Any]] = []
    splits: dict[str, dict[str, int]] = {}
    elapsed = 0.0
    messages = 0
    for index, conv in enumerate(_data()):
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
        for per_speaker in conv["observation"].values():
            for observations in per_speaker.values():
                for _text, source in observations:
                    tally["observations"] += 1
                    tally["covered"] += bool(_sources(source) & producing)
    return {
        "facts": facts,
        "splits": splits,
        "ms_per_message": 1000 * elapsed / messages,
        "messages": messages,
    }


def _run_revision(revision: str) -> dict[str, Any]:
    """``run_one`` on the source tree of ``revision``, in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", revision, "src"], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src")}
        out = subprocess.run(
            [sys.executable, __file__, "--one"], env=env, check=True, capture_output=True, text=True
        )
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
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one()))
        return
    labels: dict[str, dict[str, bool]] = json.loads(LABELS.read_text())["labels"] if LABELS.exists() else {}
    before = _run_revision(args.before)
    after = run_one()
    if args.show:
        for name, result in (("before", before), ("after", after)):
            for fact in _sample(result["facts"], args.sample):
                mark = labels.get(fact_id(fact["text"]))
                shown = "?" if mark is None else f"{int(mark['third_person'])}{int(mark['informative'])}"
                print(name, fact_id(fact["text"]), shown, fact["text"], sep="\t")
        return
    report = {
        "command": "nice -n 10 python bench/extraction.py",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "before_revision": args.before,
        "before": _summary(before, args.sample, labels),
        "after": _summary(after, args.sample, labels),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
