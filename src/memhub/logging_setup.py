"""Process-wide logging, configured once at start-up from :class:`~memhub.settings.Settings`.

Every memhub process (``serve``, ``worker``, the CLI) logs to stderr, as text for people or as JSON lines
for log shippers (``log_json``). uvicorn's own loggers are routed through the same handler so one process
writes one format. What is logged is decided where it is logged; the rule everywhere is: method, path,
status, ids and counts are fine; API keys and message contents are never logged.

Two nets catch what slips past that rule. httpx and httpcore log every request's full URL at INFO and
DEBUG — ``user:password@`` and query strings included — so they are held at WARNING whatever the level.
And the formatter removes every secret the settings hold (API keys, passwords and query values of
configured URLs: ``Settings.secrets``) from every line, whoever wrote it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

# The attributes every LogRecord has; anything else on a record came from ``extra=`` and is emitted as a
# JSON field (the request log passes method, path, status and duration_ms this way).
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
_URL_LOGGERS = ("httpx", "httpcore")  # they log whole request URLs, credentials and query strings included
# Shorter values can't be told from ordinary words: a compose file's default database password "memhub"
# blanked the logger name of every line. A secret that short protects little; use a longer one.
MIN_SECRET_CHARS = 8
REDACTED = "***"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, extra fields, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class RedactingFormatter(logging.Formatter):
    """Another formatter's lines with every one of ``secrets`` replaced by ``***``."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self._inner = inner
        # Longest first, so a secret that contains another is removed whole.
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = self._inner.format(record)
        for secret in self._secrets:
            line = line.replace(secret, REDACTED)
        return line


def configure_logging(level: str = "info", *, json_lines: bool = False, secrets: Iterable[str] = ()) -> None:
    """Install one stderr handler on the root logger; idempotent (re-running replaces the handler).

    ``secrets`` are removed from every line (see the module docstring).
    """
    handler = logging.StreamHandler(sys.stderr)
    inner = JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(RedactingFormatter(inner, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # uvicorn's per-request access log duplicates ours (and logs query strings); keep it quiet.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    for name in _URL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
