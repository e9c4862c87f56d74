"""``memhub bench``: retrieval benchmarks run against an embedded memhub.

The commands only parse options and show progress; the harness lives in ``memhub.benchmarks`` so that
``bench/locomo.py`` (the repository's script) and this CLI run exactly the same code. Benchmark data is
never shipped with memhub: LoCoMo is licensed for non-commercial use, so ``--dataset`` points at a copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from memhub.benchmarks import locomo as harness
from memhub.benchmarks import report

LOCOMO_RELATIVE = Path("..") / "shared" / "data" / "locomo10.json"


def default_locomo_path() -> Path:
    """``../shared/data/locomo10.json`` next to the repository (from the cwd, else from this checkout)."""
    candidates = [Path.cwd() / LOCOMO_RELATIVE, Path(__file__).resolve().parents[2] / LOCOMO_RELATIVE]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    return candidates[0]


def parse_indices(text: str | None) -> list[int] | None:
    """``"0-4"``, ``"5,7,9"`` or ``"0-2,8"`` as a list of conversation positions (None = all)."""
    if not text:
        return None
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        out.extend(range(int(lo), int(hi) + 1) if hi else [int(lo)])
    return out


def parse_list(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


@click.group(name="bench")
def bench() -> None:
    """Retrieval benchmarks (the data sets are not bundled; pass their paths)."""


@bench.command(name="locomo")
@click.option(
    "--dataset",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="locomo10.json [default: ../shared/data/locomo10.json next to the repository].",
)
@click.option(  # the old name: --data is a data folder everywhere else in memhub
    "--data",
    "old_data",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    hidden=True,
)
@click.option(
    "--convs", default=None, help="Conversation positions in the file, e.g. 0-4 or 5,7 [default: all]."
)
@click.option("--k", "ks", default="1,5,10,20", show_default=True, help="Cut-offs for recall@k.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("bench/results/locomo.json"),
    show_default=True,
    help="JSON results file.",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("bench/results/locomo.png"),
    show_default=True,
    help="PNG bar chart per category.",
)
@click.option("--quick", is_flag=True, help="CI-sized run: first conversation, first sessions, 40 questions.")
@click.option(
    "--systems",
    default="memhub",
    show_default=True,
    help="Comma list of memhub, bm25-ref, dense-ref (the last two check the harness).",
)
@click.option(
    "--modes", default="hybrid,keyword,dense", show_default=True, help="memhub search modes to run."
)
@click.option(
    "--adversarial/--no-adversarial",
    default=True,
    show_default=True,
    help="Also score category 5 (reported separately, never in the headline).",
)
@click.option(
    "--store",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep memhub's data in this folder instead of a temporary one.",
)
def locomo(
    dataset: Path | None,
    old_data: Path | None,
    convs: str | None,
    ks: str,
    out: Path,
    plot: Path,
    quick: bool,
    systems: str,
    modes: str,
    adversarial: bool,
    store: Path | None,
) -> None:
    """Turn-level evidence recall@k on LoCoMo: memhub hybrid vs its keyword-only and dense-only modes."""
    if old_data is not None:
        click.echo("memhub bench locomo: --data is deprecated here, use --dataset FILE", err=True)
    path = dataset or old_data or default_locomo_path()
    if not path.is_file():
        raise click.UsageError(f"LoCoMo data not found at {path}; pass --dataset PATH/locomo10.json")
    options = harness.Options(
        data=path,
        convs=parse_indices(convs),
        ks=sorted({int(k) for k in parse_list(ks)}),
        out=out,
        plot=plot,
        quick=quick,
        systems=parse_list(systems),
        modes=parse_list(modes),
        adversarial=adversarial,
        store=store,
    )
    console = report.wide_console()
    with rich_progress(console) as progress:
        summary = harness.execute(options, progress)
    report.print_tables(summary, console)
    report.write_json(summary, out)
    reliability = plot.with_name(f"{plot.stem}_reliability{plot.suffix}")
    try:
        report.plot(summary, plot)
        charts = [plot, *([reliability] if report.plot_reliability(summary, reliability) else [])]
    except ImportError:  # matplotlib is in the ``bench`` extra, not a runtime dependency
        console.print(f"wrote {out}; no chart: install memhub[bench] for matplotlib")
        return
    console.print(f"wrote {out} and {', '.join(str(c) for c in charts)}")


@contextmanager
def rich_progress(console: Console) -> Iterator[harness.Progress]:
    """Progress bars for ingestion (turns) and searching (questions × modes)."""
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def start(name: str) -> Callable[[int], None]:
        def begin(total: int) -> None:
            if name in tasks:
                bars.reset(tasks[name], total=total)
            else:
                tasks[name] = bars.add_task(name, total=total)

        return begin

    def advance(name: str) -> Callable[[int], None]:
        return lambda n: bars.advance(tasks[name], n)

    hooks = harness.Progress(
        start_ingest=start("ingesting turns"),
        advance_ingest=advance("ingesting turns"),
        start_search=start("searching"),
        advance_search=advance("searching"),
    )
    with bars:
        yield hooks
