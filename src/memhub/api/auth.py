"""API keys at the door: reading the credentials, and the first-start admin key.

Keys are checked by the service (``MemoryService.authenticate``, which looks up the key's hash) on every
request, through a short-lived cache of live keys (``core/keycache.py``): a key revoked through this
server stops working at once; one revoked from another process (``memhub keys revoke`` while the server
runs) within ``AUTH_CACHE_SECONDS`` (2 s).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from memhub.core.service import MemoryService

from .deps import OPERATOR_TENANT

log = logging.getLogger("memhub.auth")

ADMIN_KEY_FILE = "admin-key"
DEFAULT_TENANT = OPERATOR_TENANT
EMBEDDED_KEY_NAME = "embedded"


def bootstrap_admin_key(service: MemoryService, data_dir: Path, *, show: bool = True) -> str | None:
    """On a store without any API key, create tenant ``default`` with one key so the quick start works.

    The key is written to ``<data>/admin-key`` (mode 0600) and, if ``show``, printed once to stderr for
    the person starting the server — never through logging. ``serve`` passes ``show=False`` when logs are
    JSON lines, because those go to log collectors rather than a person. Returns the key, or None if the
    store already had a live key.

    The embedded client's own key (``memhub.Client(path=...)``, named ``embedded``) doesn't count: a
    folder first used embedded and then served must still give the person serving it a key.
    """
    if any(k.name != EMBEDDED_KEY_NAME and k.revoked_at is None for k in service.list_api_keys()):
        return None
    key, secret = service.create_api_key(DEFAULT_TENANT, name="admin", role="admin")
    path = write_secret_file(data_dir / ADMIN_KEY_FILE, secret)
    log.info("created tenant %r and its first API key %s… in %s", DEFAULT_TENANT, key.prefix, path)
    if show:
        print(
            f"\nmemhub: no API keys yet, so one was created for tenant {DEFAULT_TENANT!r}:\n\n"
            f"    {secret}\n\n"
            f"It is also in {path} (readable only by you). It is not shown again.\n",
            file=sys.stderr,
            flush=True,
        )
    return secret


def write_secret_file(path: Path, secret: str) -> Path:
    """Write ``secret`` to ``path`` readable by the owner only (created 0600, never world-readable)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # Runtime.open made it 0700 already
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    os.chmod(path, 0o600)  # the file may have existed with wider permissions
    return path.resolve()
