"""``memhub bench locomo --quick`` end to end: embedded memhub, real model, one conversation slice.

The data file lives outside the repository (``../shared/data/locomo10.json``, CC BY-NC 4.0, never
shipped); the test is skipped where it is absent rather than vendoring any of it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from memhub.cli.bench import bench, default_locomo_path

DATA = default_locomo_path()
pytestmark = pytest.mark.skipif(not DATA.is_file(), reason=f"LoCoMo data not found at {DATA}")


def test_quick_run_writes_table_json_and_plot(tmp_path: Path) -> None:
    out, plot = tmp_path / "locomo.json", tmp_path / "locomo.png"
    result = CliRunner().invoke(
        bench, ["locomo", "--quick", "--dataset", str(DATA), "--out", str(out), "--plot", str(plot)]
    )
    assert result.exit_code == 0, result.output
    assert "LoCoMo evidence recall" in result.output and "latency" in result.output
    assert plot.is_file() and plot.stat().st_size > 1000
    summary = json.loads(out.read_text())
    assert set(summary["systems"]) == {"hybrid", "keyword", "dense"}
    assert summary["meta"]["quick"] is True and summary["meta"]["conversations"] == ["conv-26"]
    for system in summary["systems"].values():
        headline = system["splits"]["all"]["cats 1-4"]
        assert headline["n"] > 0
        for name in ("R@1", "R@5", "R@10", "R@20", "nDCG@10"):
            assert 0.0 <= headline[name] <= 1.0
        assert headline["R@1"] <= headline["R@5"] <= headline["R@10"] <= headline["R@20"]
        assert system["latency_ms"]["n"] > 0 and system["latency_ms"]["p95"] > 0


def test_reference_bm25_on_the_slice_needs_no_memhub_and_the_old_data_option_still_works(
    tmp_path: Path,
) -> None:
    out, plot = tmp_path / "ref.json", tmp_path / "ref.png"
    args = ["locomo", "--quick", "--systems", "bm25-ref", "--data", str(DATA), "--out", str(out)]
    result = CliRunner().invoke(bench, [*args, "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "--data is deprecated here, use --dataset FILE" in result.stderr
    assert set(json.loads(out.read_text())["systems"]) == {"bm25-ref"}
