"""LoCoMo evidence-recall benchmark: ``python bench/locomo.py [--quick] [--convs 0-4] ...``.

A thin wrapper over ``memhub bench locomo`` (``src/memhub/cli/bench.py``), which runs the harness in
``memhub.benchmarks``; the only thing added here is that the defaults are relative to this repository,
so the script works from any working directory. The data stays outside the package (CC BY-NC 4.0).
"""

from __future__ import annotations

from pathlib import Path

from memhub.cli.bench import locomo

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

if __name__ == "__main__":
    locomo.main(
        prog_name="bench/locomo.py",
        default_map={
            "dataset": REPO.parent / "shared" / "data" / "locomo10.json",
            "out": REPO / "bench" / "results" / "locomo.json",
            "plot": REPO / "bench" / "results" / "locomo.png",
        },
    )
