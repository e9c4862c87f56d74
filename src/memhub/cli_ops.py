"""Operations commands of ``memhub``: ``mcp`` (an MCP server on stdio) and ``doctor`` (install checks).

Registered on the ``memhub`` group by ``cli.py`` through :data:`COMMANDS`; this module never imports
``memhub.cli``, so it builds its :class:`Settings` itself from the few options it takes.
"""

from __future__ import annotations

import importlib.util
import signal
import typing
from pathlib import Path
from types import FrameType
from typing import Any

import click
from pydantic import ValidationError

from memhub.core.errors import MemhubError
from memhub.doctor import healthy, report, run_checks
from memhub.logging_setup import configure_logging
from memhub.runtime import Runtime
from memhub.settings import Settings

LOG_LEVELS = [str(v) for v in typing.get_args(Settings.model_fields["log_level"].annotation)]


def _settings(**options: Any) -> Settings:
    """Settings from the environment, overridden by the options actually given."""
    try:
        return Settings(**{k: v for k, v in options.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise click.UsageError(f"invalid settings: {problems}") from None


def _store_options(command: Any) -> Any:
    command = click.option(
        "--database-url",
        metavar="URL",
        help="Store URL (default: sqlite in --data). [env: MEMHUB_DATABASE_URL]",
    )(command)
    return click.option(
        "--data", type=click.Path(path_type=Path), metavar="DIR", help="Data folder. [env: MEMHUB_DATA]"
    )(command)


@click.command("mcp")
@click.option(
    "--tenant", default="default", show_default=True, help="Tenant the tools act as (created if new)."
)
@_store_options
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Derive memories in this process. Off if a `memhub serve` or `memhub worker` uses the same data.",
)
@click.option("--log-level", type=click.Choice(LOG_LEVELS), help="Log verbosity (logs go to stderr).")
def mcp_command(tenant: str, worker: bool, **options: Any) -> None:
    """Serve the MCP tools on stdin/stdout, for a client that starts memhub as a subprocess.

    Tools: add_memory, search_memories, list_memories, delete_memory, forget_user, all acting as
    --tenant on the store in --data. Over HTTP, `memhub serve` offers the same tools at /mcp.
    """
    if importlib.util.find_spec("mcp") is None:
        raise click.ClickException("MCP support is not installed: pip install 'memhub[mcp]'")
    from memhub.mcp import build_server, fixed_tenant

    settings = _settings(**options)
    configure_logging(settings.log_level, json_lines=settings.log_json)  # stderr: stdout is the protocol
    signal.signal(signal.SIGTERM, _exit_zero)  # so the finally below gives the worker's leases back
    try:
        runtime = Runtime.open(settings)
        tenant_id = runtime.service.ensure_tenant(tenant).id
    except MemhubError as exc:
        raise click.ClickException(exc.message) from None
    try:
        if worker:
            runtime.start_worker()
        build_server(runtime.service, fixed_tenant(tenant_id)).run("stdio")
    finally:
        runtime.close()


def _exit_zero(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


@click.command("doctor")
@_store_options
@click.option(
    "--embedder", type=click.Choice(["local", "openai"]), help="Embedder to check. [env: MEMHUB_EMBEDDER]"
)
def doctor_command(**options: Any) -> None:
    """Check the installation: Python, data folder, model, store and migrations; print what to fix.

    Exits 1 if a check failed (✗); warnings (!) do not fail. Nothing is changed: the store is read, not
    migrated.
    """
    checks = run_checks(_settings(**options))
    for line in report(checks):
        click.echo(line)
    if not healthy(checks):
        raise SystemExit(1)


COMMANDS: list[click.Command] = [mcp_command, doctor_command]
