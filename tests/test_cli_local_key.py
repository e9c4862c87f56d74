"""``memhub add/search --url`` on this machine find the local server's admin key by themselves.

When ``--url`` is a loopback server and no key is given, the CLI reads ``./memhub-data/admin-key`` (or
``$MEMHUB_DATA``'s); without one, the error says how to pass a key and where the admin key is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from memhub.cli import main
from support.server import StartServer

NO_KEY_ENV: dict[str, str | None] = {"MEMHUB_API_KEY": None, "MEMHUB_DATA": None, "MEMHUB_URL": None}


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={**NO_KEY_ENV, **(env or {})})


def test_a_loopback_server_is_used_with_the_admin_key_of_memhub_data_here(
    start_server: StartServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(data_dir=tmp_path / "memhub-data")
    monkeypatch.chdir(tmp_path)
    added = run("add", "--url", server.base_url, "--user", "carol", "Carol plays the cello")
    assert added.exit_code == 0, added.output
    localhost = server.base_url.replace("127.0.0.1", "localhost")
    found = run("search", "cello", "--user", "carol", "--json", "--url", localhost)
    assert found.exit_code == 0, found.output
    assert "cello" in json.loads(found.stdout)[0]["memory"]["text"]


def test_the_admin_key_in_memhub_data_env_folder_is_used_too(
    start_server: StartServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(data_dir=tmp_path / "srv")
    monkeypatch.chdir(tmp_path)
    found = run("search", "x", "--url", server.base_url, env={"MEMHUB_DATA": str(tmp_path / "srv")})
    assert found.exit_code == 0, found.output


def test_without_a_key_the_error_says_how_to_pass_one_and_where_the_admin_key_is(
    start_server: StartServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(data_dir=tmp_path / "srv")
    monkeypatch.chdir(tmp_path)  # no ./memhub-data here
    refused = run("add", "--url", server.base_url, "--user", "carol", "hello")
    assert refused.exit_code == 1
    assert (
        "pass --api-key or set MEMHUB_API_KEY (the admin key is in memhub-data/admin-key)" in refused.stderr
    )

    wrong = run("search", "x", "--url", server.base_url, "--api-key", "mh_wrong")
    assert wrong.exit_code == 1 and "check --api-key / MEMHUB_API_KEY" in wrong.stderr


def test_a_local_admin_key_the_server_refuses_is_named(
    start_server: StartServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(data_dir=tmp_path / "srv")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "memhub-data").mkdir()
    (tmp_path / "memhub-data" / "admin-key").write_text("mh_of_another_server\n", encoding="utf-8")
    refused = run("search", "x", "--url", server.base_url)
    assert refused.exit_code == 1
    assert "refused the admin key in memhub-data/admin-key" in refused.stderr
