"""Embedded mode: ``memhub.Client(path=dir)`` runs the engine in-process with the very same methods.

The central test is one function, :func:`exercise`, run twice: once against ``memhub.Client(path=…)``
and once against ``memhub.Client(server.base_url, api_key=…)`` — the only difference is the argument
that says where memhub is. Both use the bundled local model, so their answers can be compared too.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import memhub
from memhub.core.errors import InvalidInput
from memhub.core.ports import Embedder
from memhub.runtime import build_embedder
from memhub.settings import Settings
from memhub.storage.sqlite import db as sqlite_db
from support.embedders import HashEmbedder
from support.server import ServerHandle

MESSAGES = [
    {"role": "user", "content": "I moved to Lisbon last spring and I love the tiled facades.", "id": "m1"},
    {"role": "assistant", "content": "Lisbon is beautiful! How are you finding the hills?", "id": "m2"},
    {"role": "user", "content": "My sister Marta is a violinist in the city orchestra.", "id": "m3"},
]


@pytest.fixture(scope="session")
def local_embedder() -> Embedder:
    """One load of the bundled model for every embedded client of the session."""
    return build_embedder(Settings())


def _uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def exercise(client: memhub.Client) -> None:
    """Everything a typical application does, written once for any ``memhub.Client``."""
    user, session = _uid("ana"), _uid("s")
    done = client.memories.add(MESSAGES, user_id=user, session_id=session, wait=True)
    assert done.status == memhub.JobStatus.SUCCEEDED and done.created
    assert done.job is not None and done.memory_ids

    again = client.memories.add(MESSAGES, user_id=user, session_id=session, wait=True)
    assert again.job_id == done.job_id and not again.created  # the same input twice is one job

    # Not "Which city does the user live in?": there "city" (in m3, and in every window key of this short
    # session) outweighs the dense signal once the store's global BM25 statistics make it rare. Noted on
    # the retrieval-quality issue; this test is about the client, not about that ranking defect.
    hits = client.memories.search("Where does the user live?", user_id=user, limit=5)
    assert hits, "the added conversation must be found"
    top = hits[0]
    assert isinstance(top, memhub.SearchResult)
    assert "Lisbon" in top.memory.text
    assert 0.0 <= top.score <= 1.0
    assert set(top.sources) <= {"m1", "m2", "m3"} and top.sources  # the caller's own message ids
    assert top.memory.user_id == user

    memory = client.memories.get(top.memory.id)
    assert memory.text == top.memory.text and memory.kind == top.memory.kind

    listed = list(client.memories.list(user_id=user, limit=1))  # one per page: walks the cursor
    assert top.memory.id in {m.id for m in listed}
    assert len(listed) == len({m.id for m in listed}) >= 2

    updated = client.memories.update(memory.id, metadata={"pinned": True})
    assert updated.metadata == {"pinned": True}
    assert client.memories.get(memory.id).metadata == {"pinned": True}

    client.memories.delete(memory.id)
    with pytest.raises(memhub.NotFoundError):
        client.memories.get(memory.id)
    assert memory.id not in {h.memory.id for h in client.memories.search("Lisbon", user_id=user)}

    assert client.users.get(user).id == user
    assert client.users.forget(user) >= 1
    with pytest.raises(memhub.NotFoundError):
        client.users.get(user)
    assert client.memories.search("Lisbon", user_id=user) == []


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.e2e)])
def any_client(
    request: pytest.FixtureRequest, tmp_path: Path, local_embedder: Embedder
) -> Iterator[memhub.Client]:
    if request.param == "embedded":
        client = memhub.Client(path=tmp_path / "data", embedder=local_embedder)
    else:
        server: ServerHandle = request.getfixturevalue("server")
        client = memhub.Client(server.base_url, api_key=server.api_key)
    with client:
        yield client


def test_the_same_code_runs_embedded_and_against_a_server(any_client: memhub.Client) -> None:
    exercise(any_client)


def test_embedded_and_server_agree_on_scores(
    tmp_path: Path, local_embedder: Embedder, server: ServerHandle
) -> None:
    """Same model, same pipeline: the same conversation gets the same cosines either way.

    Not the same ``score``: the relevance probability reads BM25, whose word statistics are store-wide,
    and the server's store holds other tests' users too.
    """
    user = _uid("cmp")
    scores = []
    for client in (
        memhub.Client(path=tmp_path / "data", embedder=local_embedder),
        memhub.Client(server.base_url, api_key=server.api_key),
    ):
        with client:
            client.memories.add(MESSAGES, user_id=user, wait=True)
            hits = client.memories.search("What does Marta do?", user_id=user, limit=3)
            scores.append(sorted((h.memory.text, round(h.similarity, 4)) for h in hits))
            client.users.forget(user)
    assert scores[0] == scores[1]


def test_embedded_data_survives_a_restart_and_reuses_its_key(
    tmp_path: Path, local_embedder: Embedder
) -> None:
    data = tmp_path / "data"
    with memhub.Client(path=data, embedder=local_embedder) as client:
        client.memories.add(MESSAGES, user_id="u1", wait=True)
        assert client.engine is not None
        keys_before = len(client.engine.runtime.service.list_api_keys())
    assert (data / "embedded-key").exists()
    assert (data / "embedded-key").stat().st_mode & 0o077 == 0  # owner-only

    with memhub.Client(path=data, embedder=local_embedder) as client:
        assert client.memories.search("Lisbon", user_id="u1")
        assert client.engine is not None
        assert len(client.engine.runtime.service.list_api_keys()) == keys_before


def test_embedded_errors_are_the_sdk_errors(tmp_path: Path, local_embedder: Embedder) -> None:
    with memhub.Client(path=tmp_path / "data", embedder=local_embedder) as client:
        with pytest.raises(memhub.UnprocessableEntityError) as caught:
            client.memories.search("   ")
        assert caught.value.code and caught.value.message
        with pytest.raises(memhub.NotFoundError):
            client.jobs.get("no-such-job")
        client.spaces.create("work")
        with pytest.raises(memhub.ConflictError):
            client.spaces.create("work")
        assert client.health().status == "ok"
        info = client.info()
        assert info.backend == "sqlite" and info.embedder.dim > 0


def test_closed_engine_refuses_requests(tmp_path: Path, local_embedder: Embedder) -> None:
    client = memhub.Client(path=tmp_path / "data", embedder=local_embedder, max_retries=0)
    client.close()
    client.close()  # idempotent
    assert client.engine is not None and client.engine.closed
    with pytest.raises(RuntimeError):
        client.health()


def test_requests_reuse_the_engine_threads_and_their_read_connections(
    tmp_path: Path, local_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sync endpoints run on anyio worker threads, each with its own SQLite read connection. They must
    # outlive a request: a thread per request meant a new connection (schema parse, cold cache) per call.
    opened: list[str] = []
    connect = sqlite_db.Database._connect

    def counting(db: sqlite_db.Database) -> sqlite3.Connection:
        opened.append(threading.current_thread().name)
        return connect(db)

    with memhub.Client(path=tmp_path / "data", embedder=local_embedder) as client:
        client.memories.add(MESSAGES, user_id="u1", wait=True)
        monkeypatch.setattr(sqlite_db.Database, "_connect", counting)
        for _ in range(20):
            client.memories.search("violinist", user_id="u1")
            client.memories.list(user_id="u1")
    assert len(opened) <= 2, opened


async def test_async_embedded_client(tmp_path: Path, local_embedder: Embedder) -> None:
    async with memhub.AsyncClient(path=tmp_path / "data", embedder=local_embedder) as client:
        done = await client.memories.add(MESSAGES, user_id="u1", wait=True)
        assert done.status == memhub.JobStatus.SUCCEEDED
        hits, page = await asyncio.gather(
            client.memories.search("violinist", user_id="u1"), client.memories.list(user_id="u1")
        )
        assert "Marta" in hits[0].memory.text
        assert [m.id async for m in page]


def test_exactly_one_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMHUB_URL", raising=False)
    with pytest.raises(ValueError, match="base_url"):
        memhub.Client()
    with pytest.raises(ValueError, match="not both"):
        memhub.Client("http://127.0.0.1:8420", path=tmp_path)
    with pytest.raises(ValueError, match="not both"):
        memhub.AsyncClient("http://127.0.0.1:8420", path=tmp_path)


def test_bad_settings_fail_at_construction_and_leave_nothing_running(tmp_path: Path) -> None:
    settings = Settings(embedder="openai", embed_base_url=None)
    with pytest.raises(InvalidInput, match="embed-base-url"):
        memhub.Client(path=tmp_path / "data", settings=settings)


def test_a_folder_used_embedded_then_served_still_gets_an_admin_key(tmp_path: Path) -> None:
    from memhub.api.auth import bootstrap_admin_key
    from memhub.runtime import Runtime
    from memhub.settings import Settings

    with memhub.Client(path=tmp_path, embedder=HashEmbedder()) as client:
        client.health()
    assert not (tmp_path / "admin-key").exists()
    runtime = Runtime.open(Settings(data=tmp_path), embedder=HashEmbedder())
    try:
        secret = bootstrap_admin_key(runtime.service, tmp_path, show=False)
        assert secret is not None and (tmp_path / "admin-key").read_text().strip() == secret
        assert bootstrap_admin_key(runtime.service, tmp_path, show=False) is None
    finally:
        runtime.close()
