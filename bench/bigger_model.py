"""CPU cost of a bigger local model (all-mpnet-base-v2, not shipped) against the default L6, in one run.

Same measure as ``bench/fast_model.py`` (whose helpers it uses): CPU time of this process per dense key
(embedded in calls of 32, as the worker does) and per question (one call each, as a search does), one
onnxruntime thread, the models taking turns round by round so both see the same load. The bigger model's
files come from ``scripts/build_mpnet_model.py``; the decision: ``docs/decisions/bigger-model.md``.

    nice -n 10 python bench/bigger_model.py [--keys 512] [--queries 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from embed import dense_keys, sentences
from fast_model import compare, questions

from memhub.pipeline.embedders.local_onnx import MODEL_ID, MPNET_MODEL_ID, LocalEmbedder

RESULTS = Path(__file__).resolve().parent / "results" / "bigger_model.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--keys", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    keys = dense_keys(sentences(args.keys))
    asked = questions(args.queries)
    models = {name: LocalEmbedder(model=name, threads=1) for name in (MODEL_ID, MPNET_MODEL_ID)}
    result = compare(models, keys, asked, args.rounds)
    base, big = result["models"][MODEL_ID], result["models"][MPNET_MODEL_ID]
    result["mpnet_over_l6"] = {
        "per_key": round(big["cpu_ms_per_key"] / base["cpu_ms_per_key"], 2),
        "per_query": round(big["cpu_ms_per_query"] / base["cpu_ms_per_query"], 2),
    }
    print(json.dumps(result, indent=1))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
