"""The data commands of ``memhub``: ``add``, ``search``, ``import`` and ``export``.

Each talks to a memhub server (``--url``/``--api-key``, or ``$MEMHUB_URL``/``$MEMHUB_API_KEY``) or, with
``--data DIR``, straight to a data folder through the embedded engine — the same ``memhub.Client`` either
way, so a command behaves identically against both. ``memhub.cli`` registers everything in
:data:`COMMANDS`; this module never imports ``memhub.cli`` (the dependency points one way).

The import/export format is ``memhub.client.portable``'s JSON Lines: events are what is moved (memories are
rebuilt by the target's own pipeline through the ordinary, idempotent add path), memories ride along
for reference.

Tests may pass a deterministic embedder for ``--data`` through click's context object:
``runner.invoke(main, args, obj={"embedder": HashEmbedder()})``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import click
import httpx
from click.core import ParameterSource
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from memhub import Client
from memhub.api.auth import ADMIN_KEY_FILE
from memhub.cli.stores import STORE_FILE, missing_store_message, say_created
from memhub.client import portable
from memhub.client.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    JobFailedError,
    MemhubClientError,
)
from memhub.core.errors import MemhubError
from memhub.core.models import SearchResult

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_URL = "http://127.0.0.1:8420"
DEFAULT_DATA = "memhub-data"


# -------------------------------------------------------------------------------------------------
# where the data is


def target_options(func: F) -> F:
    """``--url``, ``--api-key`` and ``--data``: a server, or a data folder used in-process."""
    func = click.option(
        "--data",
        type=click.Path(file_okay=False, path_type=Path),
        help="Use this data folder directly (embedded engine; no server needed).",
    )(func)
    func = click.option(
        "--api-key", envvar="MEMHUB_API_KEY", help="API key for --url. [env: MEMHUB_API_KEY]"
    )(func)
    func = click.option(
        "--url", envvar="MEMHUB_URL", help=f"memhub server URL. [env: MEMHUB_URL; default: {DEFAULT_URL}]"
    )(func)
    return func


@contextmanager
def connect(url: str | None, api_key: str | None, data: Path | None, *, writes: bool) -> Iterator[Client]:
    """An open client on the chosen target; SDK and engine errors become clean CLI errors.

    A ``--data`` folder without a store is refused by commands that only read (``writes=False``: a typo,
    most likely); commands that write create the store and say so.
    """
    ctx = click.get_current_context()
    if data is not None and url and ctx.get_parameter_source("url") != ParameterSource.ENVIRONMENT:
        raise click.UsageError("give --url or --data, not both")
    new_store = data is not None and not (data / STORE_FILE).exists()
    if data is not None and new_store and not writes:
        raise click.ClickException(missing_store_message(data))
    key_file = _local_data_folder() / ADMIN_KEY_FILE
    local_key = None
    if data is None and api_key is None and _is_loopback(url or DEFAULT_URL):
        api_key = local_key = _read_key(key_file)
    try:
        if data is not None:
            client = Client(path=data, embedder=_test_embedder(ctx))
        else:
            client = Client(url or DEFAULT_URL, api_key)
        with client:
            if data is not None and new_store:
                say_created(data)
            yield client
    except AuthenticationError as exc:
        raise click.ClickException(_key_problem(exc, api_key, local_key, key_file)) from exc
    except APIConnectionError as exc:
        no_server = data is None and not exc.request_sent and not isinstance(exc, APITimeoutError)
        hint = " (or pass --data DIR to use a data folder without a server)" if no_server else ""
        raise click.ClickException(f"{exc}{hint}") from exc
    except (MemhubClientError, MemhubError) as exc:
        raise click.ClickException(str(exc)) from exc


def _local_data_folder() -> Path:
    """Where a server started here keeps its data: ``$MEMHUB_DATA``, else ``./memhub-data``."""
    return Path(os.environ.get("MEMHUB_DATA") or DEFAULT_DATA)


def _is_loopback(url: str) -> bool:
    """A server on this machine, whose admin key a local user may already read from its data folder."""
    host = httpx.URL(url).host
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read_key(path: Path) -> str | None:
    """The local server's admin key, when its file is there and readable (else the server will say)."""
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _key_problem(exc: AuthenticationError, api_key: str | None, local_key: str | None, key_file: Path) -> str:
    """What a 401 means here: no key, the local admin key refused (another server's?), or a wrong key."""
    if api_key is None:
        wanted = "the server wants an API key: pass --api-key or set MEMHUB_API_KEY"
        return f"{wanted} (the admin key is in {key_file})"
    if api_key == local_key:
        return f"the server refused the admin key in {key_file} (another server's?): pass --api-key"
    return f"{exc.message} (check --api-key / MEMHUB_API_KEY)"


def _test_embedder(ctx: click.Context) -> Any:
    obj = ctx.find_root().obj
    return obj.get("embedder") if isinstance(obj, dict) else None


def _stderr() -> Console:
    """Progress and summaries; a summary line is never wrapped (not even when stderr is no terminal,
    where rich would otherwise wrap at 80 columns and break the line for whoever parses the log)."""
    return Console(stderr=True, soft_wrap=True)


# -------------------------------------------------------------------------------------------------
# add / search


@click.command("add")
@click.argument("texts", nargs=-1, required=True)
@click.option("--user", "user_id", required=True, help="The end-user the messages are about.")
@click.option("--session", "session_id", help="Conversation thread id.")
@click.option("--space", help="Space name or id (default: the 'default' space).")
@click.option("--role", default="user", show_default=True, help="Role of every message given.")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait until the messages are processed (searchable) before exiting.",
)
@target_options
def add_command(
    texts: tuple[str, ...],
    user_id: str,
    session_id: str | None,
    space: str | None,
    role: str,
    wait: bool,
    url: str | None,
    api_key: str | None,
    data: Path | None,
) -> None:
    """Remember TEXT... as messages of one conversation (one message per argument)."""
    messages = [{"role": role, "content": text} for text in texts]
    with connect(url, api_key, data, writes=True) as client:
        done = client.memories.add(messages, user_id=user_id, session_id=session_id, space=space, wait=wait)
    state = "new" if done.created else "already known"
    extra = f", {len(done.memory_ids)} memories" if done.job is not None else ""
    click.echo(f"job {done.job_id}: {done.status.value} ({state}{extra})")


@click.command("search")
@click.argument("query")
@click.option(
    "--user",
    "user_id",
    help="Only memories about this user. Without it: every user's memories in the tenant (an admin's view).",
)
@click.option("--session", "session_id", help="Only memories of this session.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1), help="Most results.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), help="Least relevance probability (0-1).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as a JSON array.")
@target_options
def search_command(
    query: str,
    user_id: str | None,
    session_id: str | None,
    limit: int,
    threshold: float | None,
    as_json: bool,
    url: str | None,
    api_key: str | None,
    data: Path | None,
) -> None:
    """Search memories for QUERY, best first."""
    with connect(url, api_key, data, writes=False) as client:
        results = client.memories.search(
            query, user_id=user_id, session_id=session_id, limit=limit, threshold=threshold
        )
    if as_json:
        click.echo(json.dumps([r.model_dump(mode="json") for r in results], ensure_ascii=False, indent=2))
    elif not results:
        click.echo("no results", err=True)
    else:
        Console().print(_results_table(results))


def _results_table(results: list[SearchResult]) -> Table:
    table = Table("score", "kind", "user", "memory", "sources")
    for hit in results:
        kind = hit.memory.kind.value + (" (core)" if hit.memory.core else "")
        table.add_row(
            f"{hit.score:.3f}", kind, hit.memory.user_id or "", hit.memory.text, ", ".join(hit.sources)
        )
    return table


# -------------------------------------------------------------------------------------------------
# export


@click.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("-"),
    help="File to write (default: standard output).",
)
@target_options
def export_command(out: Path, url: str | None, api_key: str | None, data: Path | None) -> None:
    """Write every event (and, for reference, every memory) as portable JSON Lines.

    Everything the key's tenant owns is exported — messages with or without a session, actions and
    documents — the same through a server as with --data.
    """
    with (
        connect(url, api_key, data, writes=False) as client,
        _open_out(out) as handle,
        _progress() as progress,
    ):
        task = progress.add_task("exporting", total=None)
        counts: dict[str, int] = {}
        for record in portable.export_records(client):
            handle.write(portable.dumps(record) + "\n")
            counts[record["type"]] = counts.get(record["type"], 0) + 1
            progress.advance(task)
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if kind != portable.HEADER_TYPE)
    _stderr().print(f"exported {summary or 'nothing'}")


@contextmanager
def _open_out(out: Path) -> Iterator[IO[str]]:
    if str(out) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    # Every exported message is tenant data: owner-only, like the store it came from.
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when the file existed with a wider mode
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        yield handle


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=_stderr(),
        transient=True,
    )


# -------------------------------------------------------------------------------------------------
# import


@click.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--batch-size",
    default=100,
    show_default=True,
    type=click.IntRange(1, 500),
    help="Most messages per add request.",
)
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until every job finished.")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait for each job.")
@target_options
def import_command(
    file: IO[str],
    batch_size: int,
    wait: bool,
    timeout: float,
    url: str | None,
    api_key: str | None,
    data: Path | None,
) -> None:
    """Re-submit the events of a memhub export (FILE, or - for stdin) through the normal add path.

    Safe to run again: the same file lands on the same jobs and nothing is stored twice. Memory lines
    are not imported — the target derives its own memories from the events.
    """
    try:
        plan = portable.plan_import(portable.read_records(file), max_batch=batch_size)
    except portable.FormatError as exc:
        raise click.ClickException(f"{getattr(file, 'name', 'input')}: {exc}") from exc
    with connect(url, api_key, data, writes=True) as client:
        portable.create_containers(client, plan)
        job_ids, new = _submit_all(client, plan)
        failed = _wait_all(client, job_ids, timeout) if wait else []
    events = sum(len(b.events) for b in plan.batches)
    _stderr().print(
        f"imported {events} events in {len(job_ids)} jobs ({new} new); "
        f"{plan.memories} memory lines kept for reference only"
    )
    if failed:
        raise click.ClickException(f"{len(failed)} job(s) failed: {', '.join(failed[:5])}")


def _submit_all(client: Client, plan: portable.ImportPlan) -> tuple[list[str], int]:
    job_ids: list[str] = []
    new = 0
    with _progress() as progress:
        for batch in progress.track(plan.batches, description="submitting"):
            submission = portable.submit_batch(client, batch)
            job_ids.append(submission.job_id)
            new += submission.created
    return job_ids, new


def _wait_all(client: Client, job_ids: Iterable[str], timeout: float) -> list[str]:
    """Wait for every job; returns the ids of those that failed."""
    failed = []
    unique = list(dict.fromkeys(job_ids))
    with _progress() as progress:
        for job_id in progress.track(unique, description="processing"):
            try:
                client.jobs.wait(job_id, timeout=timeout)
            except JobFailedError:
                failed.append(job_id)
    return failed


COMMANDS: list[click.Command] = [add_command, search_command, import_command, export_command]
"""What ``memhub.cli`` adds to the ``memhub`` group."""
