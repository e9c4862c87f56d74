"""``memhub doctor`` on a healthy install and on broken ones: ✓/✗ lines, what to fix, the exit code."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.support.server import run_memhub

pytestmark = pytest.mark.e2e  # every test runs `memhub` as a process


def doctor(data: Path, *args: str) -> tuple[int, str]:
    result = run_memhub("doctor", "--data", str(data), *args, check=False)
    return result.returncode, result.stdout


def test_a_healthy_install_passes_every_check(tmp_path: Path) -> None:
    run_memhub("add", "--data", str(tmp_path), "--user", "ana", "I like green tea")
    code, out = doctor(tmp_path)
    assert code == 0, out
    lines = out.splitlines()
    assert all(line.startswith(("✓", "!")) for line in lines), out
    assert any("embeds (384 dimensions)" in line for line in lines)
    assert any("migrations current" in line and "store opens" in line for line in lines)


def test_a_folder_without_a_store_fails_and_is_left_untouched(tmp_path: Path) -> None:
    data = tmp_path / "not-yet"
    code, out = doctor(data)
    assert code == 1, out
    assert f"✗ no memhub store in {data}" in out and "memhub serve --data" in out
    assert not data.exists()


def test_a_data_folder_that_cannot_be_created_fails_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("in the way")
    code, out = doctor(tmp_path / "file" / "data")
    assert code == 1
    assert "✗ data folder" in out and "cannot be created" in out and "→ fix --data" in out


def test_a_data_path_that_is_a_file_fails(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    code, out = doctor(tmp_path / "file")
    assert code == 1
    assert "is not a folder" in out


def test_a_store_from_a_newer_memhub_fails_and_is_not_changed(tmp_path: Path) -> None:
    run_memhub("add", "--data", str(tmp_path), "--user", "ana", "I like green tea")
    db = tmp_path / "memhub.db"
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO migrations (name, applied_at) VALUES ('9999_from_the_future', 'x')")
    code, out = doctor(tmp_path)
    assert code == 1
    assert "✗ store schema is newer than this memhub" in out and "9999_from_the_future" in out
    assert "pip install -U memhub" in out


def test_pending_migrations_are_a_warning_not_a_failure(tmp_path: Path) -> None:
    run_memhub("add", "--data", str(tmp_path), "--user", "ana", "I like green tea")
    with sqlite3.connect(tmp_path / "memhub.db") as conn:
        last = conn.execute("SELECT name FROM migrations ORDER BY rowid DESC LIMIT 1").fetchone()[0]
        conn.execute("DELETE FROM migrations WHERE name = ?", (last,))
    code, out = doctor(tmp_path)
    assert code == 0, out
    assert "! 1 migration(s) pending" in out and "applied on the next start" in out
    with sqlite3.connect(tmp_path / "memhub.db") as conn:  # doctor looked, it did not migrate
        assert not conn.execute("SELECT 1 FROM migrations WHERE name = ?", (last,)).fetchone()


def test_an_unreachable_embedding_endpoint_fails(tmp_path: Path) -> None:
    code, out = doctor(tmp_path, "--embedder", "openai")
    assert code == 1
    assert "✗ embedder 'openai' failed" in out and "--embed-base-url" in out
