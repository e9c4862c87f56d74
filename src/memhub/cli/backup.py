"""``memhub backup DEST`` and ``memhub restore SRC``: copies of the SQLite store, online and offline.

``backup`` runs beside a live server (SQLite's backup API copies one consistent snapshot while writes go
on); ``restore`` replaces a store and so refuses while a server or worker has it open. The work is the
store's (``backup_store`` / ``restore_store``, from the composition root ``memhub.runtime``); this module
parses options and says what it did. Registered on the ``memhub`` group by ``commands.py`` through
:data:`COMMANDS`.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from memhub.api.auth import ADMIN_KEY_FILE
from memhub.cli.options import build_settings, store_options
from memhub.cli.stores import require_store
from memhub.core.errors import MemhubError
from memhub.runtime import BackupReport, backup_store, restore_store

NOT_COPIED = (
    "not in the backup: {key} (a secret; the store keeps only key hashes, so that key works again "
    "after a restore: keep it safe yourself, or make a new one with `memhub keys create`)"
)  # why not copied: docs/decisions/backup-admin-key.md


def _store_url(data: Path | None, database_url: str | None) -> str:
    return build_settings({"data": data, "database_url": database_url}).store_url()


def _describe(report: BackupReport) -> str:
    return f"{report.path} ({report.size_bytes:,} bytes, {report.events:,} events, integrity ok)"


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace DEST if it exists.")
@store_options
def backup_command(dest: Path, force: bool, data: Path | None, database_url: str | None) -> None:
    """Copy the store to DEST consistently, while the server keeps running.

    DEST is a file, or a folder to put memhub-YYYYmmdd-HHMMSS.db in. The copy is one SQLite file
    holding every write acknowledged before it started; restore it with `memhub restore DEST`.
    """
    settings = build_settings({"data": data, "database_url": database_url})
    require_store(settings)
    if dest.is_dir():
        dest = dest / time.strftime("memhub-%Y%m%d-%H%M%S.db")
    started = time.perf_counter()
    try:
        report = backup_store(settings.store_url(), dest, overwrite=force)
    except MemhubError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"backed up the store to {_describe(report)} in {time.perf_counter() - started:.1f}s")
    if (settings.data / ADMIN_KEY_FILE).exists():
        click.echo(NOT_COPIED.format(key=settings.data / ADMIN_KEY_FILE))


@click.command("restore")
@click.argument("src", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace an existing store (never one in use).")
@store_options
def restore_command(src: Path, force: bool, data: Path | None, database_url: str | None) -> None:
    """Replace the store with the backup SRC (stop memhub serve / memhub worker first).

    An existing store is only replaced with --force, and never while any process has it open.
    """
    try:
        report = restore_store(src, _store_url(data, database_url), force=force)
    except MemhubError as exc:
        raise click.ClickException(exc.message) from None
    what = "replaced the store at" if report.replaced else "created the store at"
    click.echo(f"restored {src}: {what} {_describe(report)}")


COMMANDS = (backup_command, restore_command)
