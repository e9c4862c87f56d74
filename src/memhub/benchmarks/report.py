"""Presenting a LoCoMo run: a terminal table, a JSON file and a bar chart per category.

The JSON keeps every metric as a fraction in [0, 1] (what programs compare); the table and the chart
show percentages (what people read). matplotlib is a bench-only dependency and is imported lazily with
a non-interactive backend, so the harness runs on headless CI.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

TABLE_METRICS = ("n", "R@1", "R@5", "R@10", "R@20", "nDCG@10", "Rall@10", "MRR")
SPLITS = ("all", "conv 0-4", "conv 5-9")


def write_json(summary: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, sort_keys=False, default=_nan_safe) + "\n")


def _nan_safe(value: object) -> object:
    return str(value)


def _cell(metrics: Mapping[str, float], name: str) -> str:
    value = metrics.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return str(int(value)) if name == "n" else f"{100 * value:.1f}"


def tables(summary: Mapping[str, Any], metrics: Sequence[str] = TABLE_METRICS) -> list[Table]:
    """One table per split: rows are (system, group), columns the metrics in percent."""
    systems: Mapping[str, Any] = summary["systems"]
    present = [s for s in SPLITS if any(s in v["splits"] for v in systems.values())]
    out = []
    for split in present:
        table = Table(title=f"LoCoMo evidence recall, turn level, {split} (%)", show_lines=False)
        table.add_column("system", no_wrap=True)
        table.add_column("group", no_wrap=True)
        for name in metrics:
            table.add_column(name, justify="right", no_wrap=True)
        for label, data in systems.items():
            groups: Mapping[str, Mapping[str, float]] = data["splits"].get(split, {})
            for i, (group, values) in enumerate(groups.items()):
                table.add_row(label if i == 0 else "", group, *(_cell(values, m) for m in metrics))
            table.add_section()
        out.append(table)
    out.append(latency_table(systems))
    calibration = calibration_table(systems)
    if calibration is not None:
        out.append(calibration)
    return out


def latency_table(systems: Mapping[str, Any]) -> Table:
    """Search latency per system: through the client (wall time) and inside the server (access log)."""
    table = Table(
        title="search latency during the run (ms): client = wall time of the call, server = in the app"
    )
    columns = ("system", "searches", "client p50", "client p95", "server p50", "server p95", "sources/memory")
    for column in columns:
        table.add_column(column, justify="left" if column == "system" else "right", no_wrap=True)
    for label, data in systems.items():
        client = data["latency_ms"]
        server = data.get("server_latency_ms") or {}
        table.add_row(
            label,
            str(client["n"]),
            _ms(client.get("p50")),
            _ms(client.get("p95")),
            _ms(server.get("p50")),
            _ms(server.get("p95")),
            f"{data['mean_sources_per_memory']:.2f}",
        )
    return table


def _ms(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1f}"


def wide_console() -> Console:
    """A console that doesn't squeeze the tables when output goes to a file or a CI log."""
    console = Console()
    return console if console.is_terminal else Console(width=140)


def print_tables(summary: Mapping[str, Any], console: Console | None = None) -> None:
    out = console or wide_console()
    for table in tables(summary):
        out.print(table)


def plot(summary: Mapping[str, Any], path: Path, split: str = "all", ks: Sequence[int] = (5, 10)) -> None:
    """Grouped bars: one group per category (plus the headline), one bar per system, a panel per k."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems: Mapping[str, Any] = summary["systems"]
    groups = _ordered_groups(systems, split)
    fig, axes = plt.subplots(1, len(ks), figsize=(6.5 * len(ks), 4.2), squeeze=False)
    width = 0.8 / max(1, len(systems))
    for ax, k in zip(axes[0], ks, strict=True):
        for i, (label, data) in enumerate(systems.items()):
            values = [100 * data["splits"].get(split, {}).get(g, {}).get(f"R@{k}", 0.0) for g in groups]
            xs = [j + (i - (len(systems) - 1) / 2) * width for j in range(len(groups))]
            bars = ax.bar(xs, values, width, label=label)
            ax.bar_label(bars, fmt="%.0f", fontsize=7)
        ax.set_xticks(range(len(groups)), groups, rotation=20)
        ax.set_ylim(0, 112)  # headroom so the legend row never covers a bar
        ax.set_ylabel(f"evidence recall@{k} (%)")
        ax.set_title(f"LoCoMo recall@{k}, {split}")
        ax.legend(fontsize=8, ncol=len(systems), loc="upper center")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _ordered_groups(systems: Mapping[str, Any], split: str) -> list[str]:
    seen: list[str] = []
    for data in systems.values():
        for group in data["splits"].get(split, {}):
            if group not in seen:
                seen.append(group)
    return seen


def calibration_table(systems: Mapping[str, Any]) -> Table | None:
    """ECE and the 0.5 threshold's precision / evidence recall per split, for labels that report scores."""
    rows = [
        (label, split, cal)
        for label, data in systems.items()
        for split, cal in data.get("calibration", {}).items()
    ]
    if not rows:
        return None
    table = Table(title="score calibration over the top 10 results, categories 1-4")
    for column in ("system", "split", "results", "relevant", "ECE", "kept at 0.5", "precision", "recall"):
        table.add_column(column, justify="left" if column in ("system", "split") else "right", no_wrap=True)
    for label, split, cal in rows:
        table.add_row(
            label,
            split,
            str(cal["results"]),
            f"{100 * cal['relevant_rate']:.1f}%",
            f"{cal['ece']:.3f}",
            f"{100 * cal['kept_share']:.1f}%",
            f"{100 * cal['precision']:.1f}%",
            f"{100 * cal['evidence_recall']:.1f}%",
        )
    return table


def plot_reliability(summary: Mapping[str, Any], path: Path, label: str = "hybrid") -> bool:
    """Reliability diagram of ``label``'s scores: observed relevance rate against mean score per bin.

    One line per split (tuning and held-out), the diagonal is perfect calibration; bar heights below
    show how many results fall in each bin. Returns False when the run has no scores to plot.
    """
    calibration: Mapping[str, Any] = summary["systems"].get(label, {}).get("calibration", {})
    if not calibration:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(6, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    width = 0.1 / max(1, len(calibration))
    for i, (split, cal) in enumerate(calibration.items()):
        bins = cal["bins"]
        top.plot(
            [b["mean_score"] for b in bins],
            [b["observed"] for b in bins],
            marker="o",
            label=f"{split}: ECE {cal['ece']:.3f}",
        )
        bottom.bar([b["lo"] + (i + 0.5) * width for b in bins], [b["n"] for b in bins], width, label=split)
    top.set_ylabel("observed share relevant")
    top.set_title(f"memhub {label}: score vs relevance (top {next(iter(calibration.values()))['k']})")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.legend(fontsize=8, loc="upper left")
    bottom.set_yscale("log")
    bottom.set_xlabel("reported score (bin)")
    bottom.set_ylabel("results")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
