"""A mistyped ``--data`` never quietly becomes a new, empty store.

Commands that only read (``search``, ``export``, ``doctor``, ``backup``, ``keys list``) refuse a folder
without a store, name it and suggest the store folder nearby; commands that write create one and say so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import memhub
from memhub.cli import main
from support.embedders import HashEmbedder


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
