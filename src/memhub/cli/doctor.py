"""``memhub doctor``: checks an installation and says what to fix.

Each check returns a :class:`Check`: passed, failed (the install cannot work as configured) or a warning
(it works, but something deserves a look). Checks only *look*: the store is read on a read-only
connection and never migrated, the data folder is probed with a temporary file that is removed again.
A check that cannot run because an earlier one failed says so rather than failing twice.
"""

from __future__ import annotations

import math
import os
import socket
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

import numpy as np

from memhub.cli.stores import missing_store_hint, store_file
from memhub.core.errors import MemhubError
from memhub.runtime import build_embedder, local_model_file, open_store, schema_status
from memhub.settings import Settings

MIN_PYTHON = (3, 10)
PROBE_TEXT = "memhub doctor checks that the embedding model works."


@dataclass(frozen=True)
class Check:
    """One line of the report. ``ok`` None = a warning: works, but worth a look."""

    ok: bool | None
    title: str
    fix: str = ""

    @property
    def mark(self) -> str:
        return {True: "✓", False: "✗", None: "!"}[self.ok]


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order a person would fix things."""
    checks: list[Callable[[Settings], Check]] = [check_python, check_data_dir]
    if settings.embedder == "local":
        checks.append(check_model_file)
    checks.append(check_embedder)
    if settings.database_url and urlsplit(settings.database_url).scheme.startswith("postgres"):
        checks.append(check_postgres_reachable)
    checks.append(check_schema)
    return [check(settings) for check in checks]


def check_python(settings: Settings) -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        wanted = ".".join(map(str, MIN_PYTHON))
        return Check(False, f"Python {version}", f"memhub needs Python {wanted} or newer")
    return Check(True, f"Python {version}")


def check_data_dir(settings: Settings) -> Check:
    """The data folder (admin key, SQLite file) exists and is writable, or can be created."""
    folder = settings.data.resolve()
    if not folder.exists():
        parent = next(p for p in folder.parents if p.exists())
        if not parent.is_dir():
            return Check(False, f"data folder {folder} cannot be created: {parent} is a file", "fix --data")
        if os.access(parent, os.W_OK):
            return Check(True, f"data folder {folder} (created on first start)")
        return Check(
            False, f"data folder {folder} cannot be created", f"make {parent} writable or use --data"
        )
    if not folder.is_dir():
        return Check(False, f"data folder {folder} is not a folder", "point --data at a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(
            False,
            f"data folder {folder} is not writable ({exc.strerror})",
            f"give the user running memhub write access: chown/chmod {folder}",
        )
    return Check(True, f"data folder {folder} is writable")


def check_model_file(settings: Settings) -> Check:
    model_file = local_model_file(settings)
    path = resources.files("memhub.pipeline") / "model" / model_file
    if not path.is_file():
        return Check(False, f"model file {model_file} is missing", "reinstall memhub: pip install -U memhub")
    return Check(True, f"model file {model_file} present")


def check_embedder(settings: Settings) -> Check:
    """The configured embedder loads and turns a sentence into a finite, non-zero vector."""
    try:
        embedder = build_embedder(settings)
        vectors = embedder.embed([PROBE_TEXT])
    except (MemhubError, OSError, ValueError) as exc:
        message = exc.message if isinstance(exc, MemhubError) else str(exc)
        return Check(False, f"embedder '{settings.embedder}' failed: {message}", _embedder_fix(settings))
    norm = float(np.linalg.norm(vectors[0])) if len(vectors) == 1 else 0.0
    if vectors.shape != (1, embedder.dim) or not math.isfinite(norm) or norm == 0.0:
        return Check(False, f"embedder '{embedder.model_id}' returned a bad vector", _embedder_fix(settings))
    return Check(True, f"embedder '{embedder.model_id}' loads and embeds ({embedder.dim} dimensions)")


def _embedder_fix(settings: Settings) -> str:
    if settings.embedder == "local":
        return "reinstall memhub (its model files ship in the package): pip install --force-reinstall memhub"
    return "check --embed-base-url / --embed-model and MEMHUB_EMBED_API_KEY, and that the endpoint is up"


def check_postgres_reachable(settings: Settings) -> Check:
    """Only whether the database server answers on its port: the store check says whether it works."""
    parts = urlsplit(settings.database_url or "")
    host, port = parts.hostname or "localhost", parts.port or 5432
    try:
        with socket.create_connection((host, port), timeout=3):
            pass
    except OSError as exc:
        return Check(
            False,
            f"PostgreSQL at {host}:{port} is unreachable ({exc.strerror or exc})",
            "start the database or fix --database-url",
        )
    return Check(True, f"PostgreSQL at {host}:{port} is reachable")


def check_schema(settings: Settings) -> Check:
    """The store opens and its migrations are the ones this memhub knows (applied, or to apply)."""
    url = settings.store_url()
    try:
        status = schema_status(url)
    except MemhubError:
        return _check_store_opens(url, settings.keyword_stemmer)
    except sqlite3.Error as exc:
        return Check(False, f"store {url} cannot be read: {exc}", "restore the file from a backup")
    if status.unknown:
        return Check(
            False,
            f"store schema is newer than this memhub (unknown migrations: {', '.join(status.unknown)})",
            "upgrade memhub to the version that last wrote this store: pip install -U memhub",
        )
    if not status.exists:
        return _no_store(settings)
    if status.pending:
        return Check(None, f"{len(status.pending)} migration(s) pending", "applied on the next start")
    return _check_store_opens(url, settings.keyword_stemmer, f"{len(status.applied)} migrations current")


def _no_store(settings: Settings) -> Check:
    """A folder without a store fails: a mistyped --data must not pass as a healthy install."""
    if store_file(settings) is None:  # a database server: its schema is created on first start
        return Check(True, "no store yet: it is created on first start")
    return Check(False, f"no memhub store in {settings.data}", missing_store_hint(settings.data))


def _check_store_opens(url: str, keyword_stemmer: str, note: str = "") -> Check:
    try:
        store = open_store(url, keyword_stemmer)
        try:
            counts = store.counts()
        finally:
            store.close()
    except Exception as exc:  # a doctor reports whatever a backend raises (a driver's own errors too)
        message = exc.message if isinstance(exc, MemhubError) else f"{type(exc).__name__}: {exc}"
        return Check(False, f"store does not open: {message}", "fix --data / --database-url")
    summary = f"{counts.memories} memories, {counts.jobs_pending} jobs queued, {counts.jobs_failed} failed"
    return Check(True, f"store opens ({summary}){'; ' + note if note else ''}")


def report(checks: list[Check]) -> list[str]:
    """The lines to print: one per check, with what to fix under the ones that need it."""
    lines = []
    for check in checks:
        lines.append(f"{check.mark} {check.title}")
        if check.fix and check.ok is not True:
            lines.append(f"    → {check.fix}")
    return lines


def healthy(checks: list[Check]) -> bool:
    return all(check.ok is not False for check in checks)
