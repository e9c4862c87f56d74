"""A mistyped ``--data`` never quietly becomes a new, empty store.

Commands that only read (``search``, ``export``, ``doctor``, ``backup``, ``keys list``) refuse a folder
without a store, name it and suggest the store folder nearby; commands that write create one and say so
(the long-running ``serve``, ``worker`` and ``mcp`` in their log, run here as real processes).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import memhub
from memhub.cli import main
from support.embedders import HashEmbedder
from support.polling import poll_until
from support.server import StartServer, hermetic_env, start_worker


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], obj={"embedder": HashEmbedder()})


@pytest.fixture
def store_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding ``./memhub-data`` with a store, as after the README's first steps."""
    monkeypatch.chdir(tmp_path)
    added = run("add", "--user", "ana", "I like green tea", "--data", "memhub-data")
    assert added.exit_code == 0, added.output
    assert "created a new store at memhub-data" in added.stderr
    return tmp_path / "memhub-data"


READ_ONLY = [
    ["search", "tea", "--data", "memhub-dta"],
    ["export", "--data", "memhub-dta"],
    ["keys", "list", "--data", "memhub-dta"],
    ["backup", "copy.db", "--data", "memhub-dta"],
    ["doctor", "--data", "memhub-dta"],
]


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(a[:2]))
def test_a_read_only_command_refuses_a_folder_without_a_store_and_suggests_the_likely_one(
    store_here: Path, args: list[str]
) -> None:
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert "no memhub store in memhub-dta" in result.output
    assert "did you mean --data ./memhub-data?" in result.output
    assert not (store_here.parent / "memhub-dta").exists()
    assert not (store_here.parent / "copy.db").exists()


def test_without_a_store_nearby_the_refusal_says_how_a_store_is_made(tmp_path: Path) -> None:
    result = run("search", "tea", "--data", tmp_path / "nowhere")
    assert result.exit_code == 1
    assert f"no memhub store in {tmp_path / 'nowhere'}" in result.stderr
    assert "memhub serve --data" in result.stderr


def test_writing_commands_create_a_store_and_say_so_once(store_here: Path) -> None:
    again = run("add", "--user", "ana", "I like oolong", "--data", "memhub-data")
    assert again.exit_code == 0 and "created a new store" not in again.stderr

    dump = store_here.parent / "dump.jsonl"
    assert run("export", "--data", "memhub-data", "--out", dump).exit_code == 0
    imported = run("import", dump, "--data", "elsewhere")
    assert imported.exit_code == 0, imported.output
    assert "created a new store at elsewhere" in imported.stderr

    created = run("keys", "create", "--tenant", "t1", "--data", "keys-only")
    assert created.exit_code == 0, created.output
    assert "created a new store at keys-only" in created.stderr


def test_the_embedded_client_refuses_a_file_as_its_data_folder(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# not a data folder\n", encoding="utf-8")
    for path in (readme, readme / "data"):
        with pytest.raises(ValueError, match=r"must be a data folder .* is a file"):
            memhub.Client(path=path)


def test_serve_says_it_created_a_store_on_the_first_start_only(
    start_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "fresh"  # the folder exists (the test harness makes it), the store does not
    first = start_server(data_dir=data)
    assert first.stop() == 0
    assert first.log().count(f"created a new store at {data}") == 1
    again = start_server(data_dir=data)  # same data: its log is appended to the same file
    assert again.stop() == 0
    assert again.log().count("created a new store") == 1


def _worker_log(data: Path, log: Path) -> str:
    """Run ``memhub worker --data DATA`` until it has started, stop it, and return its log."""
    worker = start_worker(data, log)
    try:
        poll_until(lambda: " started" in log.read_text(encoding="utf-8"), message="worker did not start")
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
    return log.read_text(encoding="utf-8")


@pytest.mark.e2e
def test_worker_says_it_created_a_store_when_there_was_none(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    first = _worker_log(data, tmp_path / "first.log")
    assert f"created a new store at {data}" in first
    assert "created a new store" not in _worker_log(data, tmp_path / "again.log")


def _mcp_stderr(data: Path) -> str:
    """``memhub mcp --data DATA`` with nothing on stdin: it opens the store, serves, and ends at EOF."""
    done = subprocess.run(
        [sys.executable, "-m", "memhub", "mcp", "--data", str(data)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=hermetic_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # stdout is the protocol: the line goes to the log (stderr)
    return done.stderr


@pytest.mark.e2e
def test_mcp_says_it_created_a_store_when_there_was_none(tmp_path: Path) -> None:
    pytest.importorskip("mcp")
    data = tmp_path / "fresh"
    assert f"created a new store at {data}" in _mcp_stderr(data)
    assert "created a new store" not in _mcp_stderr(data)
