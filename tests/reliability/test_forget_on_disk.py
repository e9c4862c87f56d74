"""Forgetting leaves nothing of the forgotten text in the store (issue 20, item 5): a real server per
backend; the SQLite files' bytes are read right after ``DELETE /v1/users/{id}`` returns, and the
PostgreSQL tables derived from text (term statistics, vector cache) are read directly."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from memhub.storage.sql.analysis import KeywordAnalyser
from support.api import add_messages
from support.postgres import PostgresServer
from support.server import ServerHandle, launch_server

_ORPHAN_VECTORS = (
    "SELECT count(*) FROM vectors v WHERE NOT EXISTS"
    " (SELECT 1 FROM chunk_vectors cv WHERE cv.model_id = v.model_id AND cv.vector_hash = v.hash)"
)


def _secret_word() -> str:
    letters = "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:12])
    word = f"zq{letters}x"
    assert KeywordAnalyser().text(word) == word  # indexed as it is: no stem to look for instead
    return word


def _remember_then_forget(server: ServerHandle, word: str) -> None:
    with server.client(server.create_key(f"forget-{uuid.uuid4().hex[:8]}")) as client:
        add_messages(client, "keeper", "I keep ordinary notes about gardening and tomatoes.")
        for _ in range(3):  # several writes, so the FTS index has several segments
            add_messages(client, "leaver", f"My private codeword is {word}, do not tell anyone.")
        hits = client.post(
            "/v1/memories/search", json={"query": word, "user_id": "leaver", "mode": "keyword"}
        )
        assert hits.json()["results"], "the word must be stored before it is forgotten"
        forgotten = client.delete("/v1/users/leaver")
        assert forgotten.status_code == 200, forgotten.text


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[ServerHandle]:
    handle = launch_server(tmp_path / "data", log_level="warning")
    yield handle
    handle.stop()


def test_forgetting_a_user_leaves_no_byte_of_their_words_in_the_sqlite_files(
    sqlite_server: ServerHandle,
) -> None:
    word = _secret_word()
    _remember_then_forget(sqlite_server, word)
    files = sorted(p for p in sqlite_server.data_dir.iterdir() if p.name.startswith("memhub.db"))
    assert files, list(sqlite_server.data_dir.iterdir())
    for path in files:
        assert word.encode() not in path.read_bytes(), f"{path.name} still holds the forgotten word"
    with sqlite3.connect(f"file:{files[0]}?mode=ro", uri=True) as conn:
        assert conn.execute(_ORPHAN_VECTORS).fetchone()[0] == 0


@pytest.fixture
def postgres_server_handle(
    postgres_server: PostgresServer, tmp_path: Path
) -> Iterator[tuple[ServerHandle, str]]:
    url = postgres_server.new_database()
    handle = launch_server(tmp_path / "data", database_url=url, log_level="warning")
    yield handle, url
    handle.stop()


def test_forgetting_a_user_leaves_no_term_row_or_cached_vector_on_postgres(
    postgres_server_handle: tuple[ServerHandle, str],
) -> None:
    server, url = postgres_server_handle
    word = _secret_word()
    _remember_then_forget(server, word)
    with psycopg.connect(url) as conn:
        rows: list[Any] = conn.execute("SELECT term FROM keyword_terms WHERE term = %s", (word,)).fetchall()
        assert rows == []
        assert conn.execute(_ORPHAN_VECTORS).fetchone() == (0,)
        kept = conn.execute("SELECT count(*) FROM keyword_terms WHERE term = 'tomato'").fetchone()
        assert kept is not None and kept[0] > 0  # only what was forgotten went
