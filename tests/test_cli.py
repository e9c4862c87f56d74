"""The ``memhub`` command: version, help everywhere, key management, and the stand-alone worker."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import memhub
from memhub._version import __version__
from memhub.cli import main
from support.api import wait_for_job
from support.embedders import HashEmbedder
from support.server import StartServer, hermetic_env, run_memhub

COMMANDS = [[], ["serve"], ["worker"], ["keys"], ["keys", "create"], ["keys", "list"], ["keys", "revoke"]]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.e2e  # runs `memhub` as a process
def test_version() -> None:
    code, out, _ = invoke("--version")
    assert code == 0 and out.strip() == f"memhub, version {__version__}"
    as_module = run_memhub("--version")
    assert as_module.stdout.strip() == f"memhub, version {__version__}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "memhub")
def test_help(command: list[str]) -> None:
    code, out, _ = invoke(*command, "--help")
    assert code == 0 and "Usage:" in out


def test_serve_help_documents_flags_from_settings() -> None:
    _, out, _ = invoke("serve", "--help")
    for flag in (
        "--host",
        "--port",
        "--data",
        "--database-url",
        "--no-worker",
        "--embedder",
        "--embed-base-url",
        "--embed-model",
        "--log-level",
        "--rate-limit-per-minute",
        "--max-body-bytes",
        "--cors-origin",
    ):
        assert flag in out, flag
    assert "MEMHUB_PORT" in out and "TCP port to listen on." in out


def test_invalid_settings_are_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "70000", "--data", str(tmp_path)])
    assert result.exit_code == 2 and "port" in result.stderr


def test_keys_create_list_revoke_round_trip(tmp_path: Path) -> None:
    data = ["--data", str(tmp_path)]
    code, key, err = invoke("keys", "create", "--tenant", "acme", "--name", "ci", *data)
    key = key.strip()
    assert code == 0 and key.startswith("mh_") and len(key) > 40
    assert "acme" in err and key not in err

    code, out, _ = invoke("keys", "list", "--json", *data)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 1
    row = rows[0]
    assert (row["tenant"], row["name"], row["revoked_at"]) == ("acme", "ci", None)
    assert key.startswith(row["prefix"]) and key not in out

    invoke("keys", "create", "--tenant", "other", *data)
    assert len(invoke("keys", "list", "--json", "--tenant", "acme", *data)[1].splitlines()) == 1
    code, table, _ = invoke("keys", "list", *data)
    assert code == 0 and table.splitlines()[0].startswith("ID") and "active" in table

    code, out, _ = invoke("keys", "revoke", row["prefix"], *data)
    assert code == 0 and row["id"] in out
    revoked = [
        json.loads(line)
        for line in invoke("keys", "list", "--json", "--tenant", "acme", *data)[1].splitlines()
    ]
    assert revoked[0]["revoked_at"] is not None

    result = CliRunner().invoke(main, ["keys", "revoke", "nope", *data])
    assert result.exit_code == 1 and "no API key" in result.stderr
    result = CliRunner().invoke(main, ["keys", "list", "--tenant", "ghost", *data])
    assert result.exit_code == 1 and "ghost" in result.stderr
    result = CliRunner().invoke(main, ["keys", "list", "--data", str(tmp_path / "missing")])
    assert result.exit_code == 1 and "no memhub store" in result.stderr


def test_keys_list_says_what_the_embedded_key_is(tmp_path: Path) -> None:
    with memhub.Client(path=tmp_path, embedder=HashEmbedder()) as client:
        client.memories.add("I like green tea", user_id="ana")
    code, table, _ = invoke("keys", "list", "--data", str(tmp_path))
    embedded = [line for line in table.splitlines() if " embedded " in line]
    assert code == 0 and len(embedded) == 1 and embedded[0].endswith("active  *")
    assert "* embedded: the key memhub.Client(path=…) and the --data commands use in-process" in table
    rows = [
        json.loads(line) for line in invoke("keys", "list", "--json", "--data", str(tmp_path))[1].splitlines()
    ]
    assert [row["note"] is not None for row in rows] == [row["name"] == "embedded" for row in rows] == [True]


def test_worker_process_serves_a_server_without_worker(start_server: StartServer) -> None:
    server = start_server(worker=False)
    with server.client() as client:
        body = {"messages": [{"role": "user", "content": "I grow tomatoes on my balcony."}], "user_id": "w"}
        job_id = client.post("/v1/memories", json=body).json()["job_id"]
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "pending"
        worker = subprocess.Popen(
            [sys.executable, "-m", "memhub", "worker", "--data", str(server.data_dir)],
            env=hermetic_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for_job(client, job_id)
        finally:
            worker.send_signal(signal.SIGTERM)
            _, stderr = worker.communicate(timeout=30)
        assert worker.returncode == 0, stderr.decode()
        assert b"stopping" in stderr
        hits = client.post("/v1/memories/search", json={"query": "tomatoes", "user_id": "w"}).json()[
            "results"
        ]
        assert hits
    assert httpx.get(f"{server.base_url}/health").status_code == 200


@pytest.mark.e2e
def test_serve_on_a_busy_port_says_so_before_starting_and_exits_non_zero(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        data = tmp_path / "second"
        result = run_memhub("serve", "--port", str(port), "--data", str(data), check=False, timeout=60)
    assert result.returncode != 0
    assert f"port {port} is in use" in result.stderr and "pass --port" in result.stderr
    assert "ready" not in result.stderr and "startup complete" not in result.stderr.lower()
    assert not (data / "admin-key").exists(), "the store must not be opened (no key created)"
