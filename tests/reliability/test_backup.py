"""``memhub backup`` copies a running server's store consistently; ``memhub restore`` brings it back.

The server runs without its worker (ingestion writes events and jobs only, so the test is about the
store, not the model), and writer threads keep adding messages while the backup runs. Every message
acknowledged before the backup started must be in the copy; the copy must pass SQLite's integrity
check; restore must refuse a store in use and, on a stopped one, bring back exactly the backup.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import httpx

from support.polling import poll_until
from support.server import StartServer, run_memhub

PILED_UP = 20  # messages acknowledged before the backup starts, and again after it has finished

WRITERS = 4


def _writer(base_url: str, key: str, name: str, acked: list[str], stop: threading.Event) -> None:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        n = 0
        while not stop.is_set():
            text = f"{name} message {n}"
            body = {"messages": [{"role": "user", "content": text}], "user_id": name}
            response = client.post("/v1/memories", json=body)
            assert response.status_code == 202, response.text
            acked.append(text)
            n += 1


def _contents(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {row[0] for row in conn.execute("SELECT content FROM events")}


def test_backup_under_concurrent_writes_holds_every_acknowledged_message(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server(worker=False, log_level="warning")
    acked: dict[str, list[str]] = {f"writer-{i}": [] for i in range(WRITERS)}
    stop = threading.Event()
    threads = [
        threading.Thread(target=_writer, args=(server.base_url, server.api_key, name, texts, stop))
        for name, texts in acked.items()
    ]
    for thread in threads:
        thread.start()
    try:

        def acked_count() -> int:
            return sum(len(texts) for texts in acked.values())

        poll_until(lambda: acked_count() >= PILED_UP, message="writes piling up")
        before = {text for texts in acked.values() for text in list(texts)}
        result = server.memhub("backup", str(tmp_path / "copy.db"))
        after_backup = acked_count()
        poll_until(lambda: acked_count() >= after_backup + PILED_UP, message="writes after the backup")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert "backed up the store to" in result.stdout and "integrity ok" in result.stdout
    assert f"not in the backup: {server.data_dir / 'admin-key'}" in result.stdout
    copied = _contents(tmp_path / "copy.db")
    assert before and before <= copied
    assert not (tmp_path / "copy.db-wal").exists(), "the backup is one self-contained file"
    everything = {text for texts in acked.values() for text in texts}
    assert copied < everything, "writes went on during and after the backup"

    refused = server.memhub("restore", str(tmp_path / "copy.db"), "--force", check=False)
    assert refused.returncode != 0 and "in use" in refused.stderr  # the server holds the store open
    assert server.stop() == 0
    kept = server.memhub("restore", str(tmp_path / "copy.db"), check=False)
    assert kept.returncode != 0 and "--force" in kept.stderr  # an existing store needs --force
    restored = server.memhub("restore", str(tmp_path / "copy.db"), "--force")
    assert "replaced the store at" in restored.stdout
    assert _contents(server.data_dir / "memhub.db") == copied

    again = start_server(server.data_dir, worker=False, log_level="warning")
    with again.client() as client:  # the restored store serves, with the keys it had
        assert client.get("/v1/info").json()["counts"]["events"] == len(copied)


def test_backup_refuses_to_overwrite_and_restore_refuses_non_stores(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run_memhub("keys", "create", "--tenant", "t", "--data", str(data))  # a fresh store, no model
    dest = tmp_path / "out"
    dest.mkdir()
    made = run_memhub("backup", str(dest), "--data", str(data))
    (copy,) = dest.glob("memhub-*.db")
    assert str(copy) in made.stdout
    again = run_memhub("backup", str(copy), "--data", str(data), check=False)
    assert again.returncode != 0 and "already exists" in again.stderr
    assert run_memhub("backup", str(copy), "--force", "--data", str(data)).returncode == 0

    not_a_store = tmp_path / "notes.db"
    with sqlite3.connect(not_a_store) as conn:
        conn.execute("CREATE TABLE notes (x)")
    refused = run_memhub("restore", str(not_a_store), "--data", str(tmp_path / "new"), check=False)
    assert refused.returncode != 0 and "not a memhub store" in refused.stderr
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not sqlite at all" * 100)
    refused = run_memhub("restore", str(garbage), "--data", str(tmp_path / "new"), check=False)
    assert refused.returncode != 0 and "not a readable SQLite database" in refused.stderr

    fresh = run_memhub("restore", str(copy), "--data", str(tmp_path / "new"))
    assert "created the store at" in fresh.stdout
    listed = run_memhub("keys", "list", "--json", "--data", str(tmp_path / "new"))
    assert '"tenant": "t"' in listed.stdout
