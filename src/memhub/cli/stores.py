"""Is there a store where ``--data`` points? For commands that must not quietly start an empty one.

A mistyped ``--data`` used to create a new, empty store and answer "no results" (or export nothing, or
pass every doctor check): the user could not tell a typo from lost data. So commands that only read
refuse a folder without a store, naming it and the store folders nearby that it may have meant;
commands that write (``serve``, ``worker`` and ``mcp`` too) may create one but say so in one line.

Only SQLite stores live in the data folder; with a PostgreSQL ``--database-url`` there is nothing here to
check (the database server answers for itself).
"""

from __future__ import annotations

import difflib
import logging
import os
from pathlib import Path

import click

from memhub.settings import Settings

STORE_FILE = "memhub.db"
DEFAULT_FOLDER = "memhub-data"
SQLITE_PREFIX = "sqlite:///"


def store_file(settings: Settings) -> Path | None:
    """The SQLite file of ``settings``' store, or None for a store that is not a file (PostgreSQL)."""
    url = settings.store_url()
    return Path(url.removeprefix(SQLITE_PREFIX)) if url.startswith(SQLITE_PREFIX) else None


def store_missing(settings: Settings) -> bool:
    path = store_file(settings)
    return path is not None and not path.exists()


def likely_stores(data: Path) -> list[Path]:
    """Folders holding a store near ``data`` (beside it, and in the working folder), likeliest first:
    the most similar name, ``memhub-data`` first on a tie."""
    places = {Path.cwd(), _existing_parent(data.absolute())}
    found = {Path.cwd()} if (Path.cwd() / STORE_FILE).is_file() else set()
    for place in places:
        try:
            found.update(d for d in place.iterdir() if (d / STORE_FILE).is_file())
        except OSError:  # unreadable: nothing to suggest from there
            continue
    found.discard(data.absolute())

    def likeness(folder: Path) -> tuple[float, bool]:
        return difflib.SequenceMatcher(None, data.name, folder.name).ratio(), folder.name == DEFAULT_FOLDER

    return sorted(found, key=likeness, reverse=True)


def _existing_parent(path: Path) -> Path:
    return next((p for p in (path, *path.parents) if p.is_dir()), Path.cwd())


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it is below it (as the user would type it)."""
    try:
        return "./" + os.fspath(path.relative_to(Path.cwd())) if path != Path.cwd() else "."
    except ValueError:
        return os.fspath(path)


def missing_store_message(data: Path) -> str:
    """``no memhub store in X`` and what to do: the likeliest store nearby, or how a store is made."""
    return f"no memhub store in {data} (no {STORE_FILE} there); {missing_store_hint(data)}"


def missing_store_hint(data: Path) -> str:
    likely = likely_stores(data)
    if likely:
        return f"did you mean --data {_shown(likely[0])}?"
    return f"check --data, or create a store there with `memhub serve --data {data}`"


def require_store(settings: Settings) -> None:
    """For commands that only read: refuse a data folder without a store (a typo, most likely)."""
    if store_missing(settings):
        raise click.ClickException(missing_store_message(settings.data))


def created_message(data: Path) -> str:
    return f"created a new store at {data}"


def say_created(data: Path) -> None:
    """For commands that write, once they opened a store that was not there: one line on stderr."""
    click.echo(created_message(data), err=True)


def log_created(data: Path) -> None:
    """The same line for the long-running commands (``serve``, ``worker``, ``mcp``), through their log:
    it then has the log's format (JSON lines with ``--log-json``) and, for ``mcp``, stays off stdout."""
    logging.getLogger("memhub.cli").info("%s", created_message(data))
