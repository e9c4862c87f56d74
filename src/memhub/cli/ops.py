"""Operations commands of ``memhub``: ``mcp`` (an MCP server on stdio) and ``doctor`` (install checks).

Registered on the ``memhub`` group by ``cli.py`` through :data:`COMMANDS`; this module never imports
``memhub.cli``, so it builds its :class:`Settings` itself from the few options it takes.
"""

from __future__ import annotations

import importlib.util
import signal
from types import FrameType
from typing import Any

import click

from memhub.cli.doctor import healthy, report, run_checks
from memhub.cli.options import build_settings, choices, store_options
from memhub.cli.stores import log_created, store_missing
from memhub.core.errors import MemhubError
from memhub.logging_setup import configure_logging
from memhub.runtime import Runtime


@click.command("mcp")
@click.option(
    "--tenant", default="default", show_default=True, help="Tenant the tools act as (created if new)."
)
@store_options
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Derive memories in this process. Off if a `memhub serve` or `memhub worker` uses the same data.",
)
@click.option("--log-level", type=choices("log_level"), help="Log verbosity (logs go to stderr).")
def mcp_command(tenant: str, worker: bool, **options: Any) -> None:
    """Serve the MCP tools on stdin/stdout, for a client that starts memhub as a subprocess.

    Tools: add_memory, search_memories, list_memories, delete_memory, forget_user, all acting as
    --tenant on the store in --data. Over HTTP, `memhub serve` offers the same tools at /mcp.
    """
    if importlib.util.find_spec("mcp") is None:
        raise click.ClickException("MCP support is not installed: pip install 'memhub[mcp]'")
    from memhub.mcp import build_server, fixed_tenant

    settings = build_settings(options)
    configure_logging(
        settings.log_level, json_lines=settings.log_json, secrets=settings.secrets()
    )  # stderr: stdout is the protocol
    signal.signal(signal.SIGTERM, _exit_zero)  # so the finally below gives the worker's leases back
    new_store = store_missing(settings)
    try:
        runtime = Runtime.open(settings)
        tenant_id = runtime.service.ensure_tenant(tenant).id
    except MemhubError as exc:
        raise click.ClickException(exc.message) from None
    if new_store:
        log_created(settings.data)
    try:
        if worker:
            runtime.start_worker()
        build_server(runtime.service, fixed_tenant(tenant_id)).run("stdio")
    finally:
        runtime.close()


def _exit_zero(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


@click.command("doctor")
@store_options
@click.option(
    "--embedder", type=click.Choice(["local", "openai"]), help="Embedder to check. [env: MEMHUB_EMBEDDER]"
)
def doctor_command(**options: Any) -> None:
    """Check the installation: Python, data folder, model, store and migrations; print what to fix.

    Exits 1 if a check failed (✗); warnings (!) do not fail. Nothing is changed: the store is read, not
    migrated.
    """
    checks = run_checks(build_settings(options))
    for line in report(checks):
        click.echo(line)
    if not healthy(checks):
        raise SystemExit(1)


COMMANDS: list[click.Command] = [mcp_command, doctor_command]
