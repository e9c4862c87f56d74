"""Only the owner can read what memhub writes: data folder 0700; store, WAL, backups, exports 0600.

The data folder holds every tenant's memories and the admin key. Real processes (``memhub serve``, the
CLI) under a permissive umask (022, the usual default) create them; none may be readable by the group or
by others.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.server import StartServer, run_memhub


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Subprocesses inherit the umask: 022, so anything not made private on purpose is world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.e2e  # it runs the memhub CLI itself
@pytest.mark.usefixtures("permissive_umask")
def test_a_new_data_folder_and_its_store_are_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    key = run_memhub("keys", "create", "--tenant", "modes", "--data", str(data)).stdout.strip()
    assert key.startswith("mh_")
    assert mode(data) == 0o700 and mode(data.parent) == 0o700  # every folder memhub made
    assert mode(data / "memhub.db") == 0o600


@pytest.mark.usefixtures("permissive_umask")
def test_a_served_store_its_wal_backups_and_exports_are_owner_only(
    start_server: StartServer, tmp_path: Path
) -> None:
    handle = start_server()
    with handle.client() as client:
        body = {"messages": [{"role": "user", "content": "My locker code is 4417."}], "user_id": "modes"}
        assert client.post("/v1/memories", json=body).status_code == 202
    store = handle.data_dir / "memhub.db"
    files = [store, store.with_name("memhub.db-wal"), store.with_name("memhub.db-shm")]
    assert all(f.exists() for f in files)
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    assert mode(handle.data_dir / "admin-key") == 0o600

    backup = tmp_path / "backups" / "nightly.db"
    handle.memhub("backup", str(backup))
    assert mode(backup) == 0o600 and mode(backup.parent) == 0o700
    handle.stop()

    export = tmp_path / "export.jsonl"
    export.write_text("")  # an existing file, world-readable: exporting into it tightens it
    export.chmod(0o644)
    handle.memhub("export", "--out", str(export))
    assert "locker code" in export.read_text() and mode(export) == 0o600

    restored = tmp_path / "restored"
    run_memhub("restore", str(backup), "--data", str(restored))
    assert mode(restored) == 0o700 and mode(restored / "memhub.db") == 0o600
