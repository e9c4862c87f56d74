"""The ``memhub`` command: ``serve``, ``worker`` and ``keys`` (data commands live in ``data.py``).

Every option that sets a :class:`~memhub.settings.Settings` field takes its help text from that field's
description, so ``--help`` and the settings documentation cannot drift apart. Options left out fall back
to the environment (``MEMHUB_*``), then to the default: the CLI overrides the environment only where a
flag is actually given.
"""

from __future__ import annotations

import errno
import json
import logging
import signal
import socket
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

import click

from memhub._version import __version__
from memhub.api.auth import EMBEDDED_KEY_NAME
from memhub.cli import backup, bench, data, ops, reindex
from memhub.cli.options import build_settings, choices, setting_option, store_options
from memhub.cli.stores import log_created, require_store, say_created, store_missing
from memhub.core.errors import MemhubError, NotSupported
from memhub.core.models import ApiKey, KeyRole
from memhub.core.ports import Matrix
from memhub.logging_setup import configure_logging
from memhub.runtime import Runtime
from memhub.settings import Settings

log = logging.getLogger("memhub.cli")


# ---------------------------------------------------------------------------------------------------
# the group


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "--version", "-V", prog_name="memhub")
def main() -> None:
    """memhub: a self-hosted long-term memory server for AI agents.

    Start with `memhub serve`; on first start it creates an API key and writes it to DIR/admin-key.
    """


@main.command()
@setting_option("--host", field="host")
@setting_option("--port", field="port", type=int)
@store_options
@setting_option("--worker/--no-worker", field="worker")
@setting_option("--console/--no-console", field="console")
@setting_option("--embedder", field="embedder", type=choices("embedder"))
@setting_option("--embed-base-url", field="embed_base_url", metavar="URL")
@setting_option("--embed-model", field="embed_model", metavar="NAME")
@setting_option("--embed-threads", field="embed_threads", type=int)
@setting_option("--llm-base-url", field="llm_base_url", metavar="URL")
@setting_option("--llm-model", field="llm_model", metavar="NAME")
@setting_option("--llm-api-key", field="llm_api_key", metavar="KEY")
@setting_option("--llm-timeout", field="llm_timeout", type=float, metavar="SECONDS")
@setting_option("--rerank-base-url", field="rerank_base_url", metavar="URL")
@setting_option("--reranker", field="reranker", type=choices("reranker"))
@setting_option("--rerank-model", field="rerank_model", metavar="NAME")
@setting_option("--rerank-timeout", field="rerank_timeout", type=float, metavar="SECONDS")
@setting_option("--rate-limit-per-minute", field="rate_limit_per_minute", type=int)
@setting_option("--max-body-bytes", field="max_body_bytes", type=int)
@setting_option("--cors-origin", field="cors_origins", multiple=True, metavar="ORIGIN")
@setting_option("--log-level", field="log_level", type=choices("log_level"))
@setting_option("--log-json/--log-text", field="log_json")
@setting_option("--gomemory-tenant", field="gomemory_tenant", metavar="TENANT")
@setting_option("--gomemory-prefix", field="gomemory_prefix", metavar="PATH")
@setting_option("--gomemory-allow-remote/--no-gomemory-allow-remote", field="gomemory_allow_remote")
def serve(**options: Any) -> None:
    """Run the HTTP server (native API under /v1, docs at /docs) with the ingestion worker.

    Stops gracefully on SIGTERM or Ctrl-C: requests in flight finish, the worker finishes its batch
    and gives its jobs back. The embedding endpoint's key is read from MEMHUB_EMBED_API_KEY only
    (a flag would show it in the process list), and so are MEMHUB_LLM_API_KEY and MEMHUB_GOMEMORY_API_KEY.
    """
    import uvicorn

    from memhub.api import create_app
    from memhub.api.slow_clients import protocol_with_header_timeout

    settings = build_settings(options)
    _check_port_free(settings.host, settings.port)  # before anything logs "ready" or opens the store
    configure_logging(settings.log_level, json_lines=settings.log_json, secrets=settings.secrets())
    _exit_cleanly_on_signals()
    new_store = store_missing(settings)
    _refuse_unusable_store(settings)  # creates the store when there is none
    if new_store:
        log_created(settings.data)
    try:
        app = create_app(settings, owns_process=True)  # adapters refuse unsafe settings here (e.g. GoMemory)
    except MemhubError as exc:
        raise click.ClickException(exc.message) from None
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
        http=protocol_with_header_timeout(settings.header_timeout),  # slow clients: api/slow_clients.py
        limit_concurrency=settings.max_connections,
    )


def _refuse_unusable_store(settings: Settings) -> None:
    """Say in one line why the server cannot start (a read-only data folder, an unreachable or newer
    store) instead of a traceback from inside the server's start-up."""
    from memhub.cli.doctor import check_data_dir
    from memhub.runtime import open_store

    folder = check_data_dir(settings)
    if folder.ok is False:
        raise click.ClickException(f"{folder.title}: {folder.fix}" if folder.fix else folder.title)
    try:
        open_store(
            settings.store_url(), settings.keyword_stemmer
        ).close()  # applies pending migrations, as the server would
    except MemhubError as exc:
        raise click.ClickException(f"cannot open the store: {exc.message}") from None
    except OSError as exc:
        raise click.ClickException(f"cannot open the store: {exc}") from None


def _check_port_free(host: str, port: int) -> None:
    """Refuse a busy port up front: uvicorn only finds out after the app's start-up has run and logged.

    Binds the way uvicorn will (``SO_REUSEADDR``, IPv6 when the host has a colon) and lets go at once.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} is in use on {host} (is another memhub serve running?); pass --port"
                ) from None
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@main.command()
@store_options
@setting_option("--llm-base-url", field="llm_base_url", metavar="URL")
@setting_option("--llm-model", field="llm_model", metavar="NAME")
@setting_option("--llm-api-key", field="llm_api_key", metavar="KEY")
@setting_option("--llm-timeout", field="llm_timeout", type=float, metavar="SECONDS")
@setting_option("--log-level", field="log_level", type=choices("log_level"))
@setting_option("--log-json/--log-text", field="log_json")
def worker(**options: Any) -> None:
    """Run an ingestion worker alone (for a server started with --no-worker, or to add workers).

    Workers share the job queue in the store through leases, so any number can run. Stops gracefully
    on SIGTERM or Ctrl-C: the batch in hand is finished and the remaining leases are given back.
    """
    settings = build_settings(options)
    configure_logging(settings.log_level, json_lines=settings.log_json, secrets=settings.secrets())
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    new_store = store_missing(settings)
    runtime = _open_runtime(settings)
    if new_store:
        log_created(settings.data)
    try:
        runtime.start_worker()
        while not stop.wait(0.5):
            if not runtime.worker.alive:  # it stopped itself (`memhub reindex` retired its model)
                raise click.ClickException("the worker stopped (see the log above for why)")
    finally:
        runtime.close()


def _exit_cleanly_on_signals() -> None:
    """After uvicorn's graceful shutdown it re-raises the signal it caught; end with status 0 then."""

    def exit_zero(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, exit_zero)
    signal.signal(signal.SIGINT, exit_zero)


def _open_runtime(settings: Settings, **kwargs: Any) -> Runtime:
    try:
        return Runtime.open(settings, **kwargs)
    except MemhubError as exc:
        raise click.ClickException(exc.message) from None


# ---------------------------------------------------------------------------------------------------
# keys


class _NoEmbedder:
    """Key management never embeds; this stands in so no model is loaded just to manage keys."""

    model_id = "none"
    dim = 0

    def embed(self, texts: Sequence[str]) -> Matrix:
        raise NotSupported("key management does not embed")


def _key_admin(options: dict[str, Any], *, must_exist: bool) -> Runtime:
    """The store, opened to manage keys: required to exist (``must_exist``), or created and said so."""
    settings = build_settings(options)  # logging is left alone: nothing below logs under WARNING
    if must_exist:
        require_store(settings)
    new_store = store_missing(settings)
    runtime = _open_runtime(settings, embedder=_NoEmbedder())
    if new_store:
        say_created(settings.data)
    return runtime


EMBEDDED_NOTE = (
    "embedded: the key memhub.Client(path=…) and the --data commands use in-process (kept in "
    "<data>/embedded-key; made on their first use, remade if revoked)"
)


@main.group()
def keys() -> None:
    """Create, list and revoke API keys (directly in the store; the server need not run)."""


@keys.command("create")
@click.option("--tenant", required=True, help="Tenant the key belongs to (created if new).")
@click.option("--name", "label", default="", help="A label to tell keys apart in listings.")
@click.option(
    "--role",
    type=click.Choice(["admin", "member"]),
    default=None,
    help="admin: may also manage the tenant's keys and read /metrics. Default: admin for a tenant's "
    "first key, member after that.",
)
@store_options
def keys_create(tenant: str, label: str, role: str | None, **options: Any) -> None:
    """Create a key and print it once: only its hash is stored, so it cannot be shown again."""
    runtime = _key_admin(options, must_exist=False)
    try:
        chosen: KeyRole | None = "admin" if role == "admin" else "member" if role == "member" else None
        key, secret = runtime.service.create_api_key(tenant, label, role=chosen)
    except MemhubError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        runtime.close()
    click.echo(
        f"created {key.role} key {key.id} ({key.prefix}…) for tenant {tenant!r}; store it now:", err=True
    )
    click.echo(secret)


@keys.command("list")
@click.option("--tenant", default=None, help="Only this tenant's keys.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per key (no hashes).")
@store_options
def keys_list(tenant: str | None, as_json: bool, **options: Any) -> None:
    """List keys: id, prefix, tenant, label, role, creation and revocation (never the secret or its hash)."""
    runtime = _key_admin(options, must_exist=True)
    try:
        found = runtime.service.list_api_keys(tenant)
        tenants = {t.id: t.name for t in runtime.service.list_tenants()}
    except MemhubError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        runtime.close()
    rows = [_key_row(key, tenants.get(key.tenant_id, key.tenant_id)) for key in found]
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    click.echo(f"{'ID':36}  {'PREFIX':10}  {'TENANT':16}  {'NAME':16}  {'ROLE':6}  {'CREATED':20}  STATUS")
    for row in rows:
        status = f"revoked {row['revoked_at'][:19]}" if row["revoked_at"] else "active"
        click.echo(
            f"{row['id']:36}  {row['prefix']:10}  {row['tenant']:16}  {row['name']:16}  {row['role']:6}  "
            f"{row['created_at'][:19]:20}  {status}{'  *' if row['note'] else ''}"
        )
    if any(row["note"] for row in rows):
        click.echo(f"* {EMBEDDED_NOTE}")


def _key_row(key: ApiKey, tenant: str) -> dict[str, Any]:
    return {
        "id": key.id,
        "prefix": key.prefix,
        "tenant": tenant,
        "name": key.name,
        "role": key.role,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "note": EMBEDDED_NOTE if key.name == EMBEDDED_KEY_NAME else None,
    }


@keys.command("revoke")
@click.argument("id_or_prefix")
@store_options
def keys_revoke(id_or_prefix: str, **options: Any) -> None:
    """Revoke a key by id or prefix; requests with it are refused from then on (401)."""
    runtime = _key_admin(options, must_exist=True)
    try:
        key = runtime.service.revoke_api_key(id_or_prefix)
    except MemhubError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        runtime.close()
    click.echo(f"revoked key {key.id} ({key.prefix}…)")


# ---------------------------------------------------------------------------------------------------
# Commands written in their own modules: data commands (add, search, import, export) and benchmarks.
# Registering them here, rather than those modules importing this one to decorate onto ``main``, keeps
# the imports one-way.
for _command in (*data.COMMANDS, *ops.COMMANDS, *backup.COMMANDS, *reindex.COMMANDS, bench.bench):
    main.add_command(_command)
