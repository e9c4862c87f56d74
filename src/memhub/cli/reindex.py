"""``memhub reindex``: re-embed a store with the configured model, then switch it to that model.

The work is ``core/reindex.py``'s (design and numbers: docs/decisions/reindex.md); this module opens the
store and the model through the composition root, shows progress and says what happened and what to do
next. Registered on the ``memhub`` group by ``commands.py`` through :data:`COMMANDS`.
"""

from __future__ import annotations

from typing import Any

import click

from memhub.cli.data import _progress, _stderr
from memhub.cli.options import build_settings, choices, setting_option, store_options
from memhub.cli.stores import require_store
from memhub.core.errors import MemhubError
from memhub.core.reindex import DEFAULT_BATCH, Reindexer, ReindexPlan
from memhub.runtime import build_embedder, open_store


@click.command("reindex")
@store_options
@setting_option("--embedder", field="embedder", type=choices("embedder"))
@setting_option("--embed-base-url", field="embed_base_url", metavar="URL")
@setting_option("--embed-model", field="embed_model", metavar="NAME")
@setting_option("--embed-threads", field="embed_threads", type=int)
@click.option(
    "--batch-size",
    default=DEFAULT_BATCH,
    show_default=True,
    type=click.IntRange(1, 4096),
    help="Chunks embedded and written together.",
)
@click.option(
    "--batches",
    type=click.IntRange(min=1),
    help="Stop after this many batches (spread the work over quiet hours); run again to continue.",
)
def reindex_command(batch_size: int, batches: int | None, **options: Any) -> None:
    """Re-embed every memory with the configured model (--embed-model), then switch the store to it.

    Searches keep using the store's current model until every memory has a vector of the new one;
    then the store switches at once and drops the old vectors. Servers and workers may keep running
    meanwhile (messages they add are embedded too); restart them with the new --embed-model after the
    switch. Stopped (Ctrl-C, --batches) or killed, it continues where it left off when run again.
    """
    settings = build_settings(options)
    require_store(settings)
    try:
        embedder = build_embedder(settings)
        store = open_store(settings.store_url())
    except MemhubError as exc:
        raise click.ClickException(exc.message) from None
    try:
        reindexer = Reindexer(store, embedder, batch_size)
        plan = reindexer.plan()
        click.echo(_describe(plan), err=True)
        with _progress() as progress:
            task = progress.add_task("re-embedding", total=plan.total, completed=plan.done)
            result = reindexer.run(lambda n: progress.advance(task, n), max_batches=batches)
        done, total = store.reindex_progress(plan.target)
    except MemhubError as exc:
        raise click.ClickException(exc.message) from None
    except KeyboardInterrupt:
        click.echo("interrupted: searches still use the old model; run `memhub reindex` again to continue")
        raise SystemExit(130) from None
    finally:
        store.close()
    _stderr().print(f"embedded {result.embedded:,} texts for {result.chunks:,} chunks")
    if result.switched:
        click.echo(
            f"the store now uses {plan.target}: searches rank its vectors, the old ones are gone. "
            f"Restart running servers and workers with --embed-model {plan.target} (MEMHUB_EMBED_MODEL)."
        )
    else:
        click.echo(
            f"stopped after {batches} batches: {done:,} of {total:,} chunks have a vector of {plan.target}; "
            "searches still use the old model. Run `memhub reindex` again to continue."
        )


def _describe(plan: ReindexPlan) -> str:
    was = f" (from {', '.join(plan.sources)})" if plan.sources else ""
    line = f"re-embedding {plan.total - plan.done:,} of {plan.total:,} chunks with {plan.target}{was}"
    if plan.done:
        line += f"; {plan.done:,} already done by an earlier run"
    return line


COMMANDS = (reindex_command,)
