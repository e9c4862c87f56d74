"""The thin SDK (``memhub.client``) against a real ``memhub serve`` process, sync and async.

Every resource and verb is called at least once over real HTTP, so a route the server renames or a
field it reshapes fails here, in the SDK's terms. Tests share the session's server and keep to their
own users, sessions and spaces.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone

import pytest

from memhub._version import __version__
from memhub.client import (
    AsyncClient,
    AuthenticationError,
    Client,
    ConflictError,
    NotFoundError,
    Submission,
    UnprocessableEntityError,
)
from memhub.core.models import EventKind, JobStatus, MemoryKind
from support.server import ServerHandle

CONVERSATION = [
    {"role": "user", "content": "I adopted a beagle named Biscuit last spring.", "id": "m1"},
    {"role": "assistant", "content": "Biscuit is a lovely name for a beagle!", "id": "m2"},
    {"role": "user", "content": "I work as a nurse at a hospital in Porto.", "id": "m3"},
]


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def client(server: ServerHandle) -> Iterator[Client]:
    with Client(server.base_url, api_key=server.api_key) as c:
        yield c


@pytest.fixture
async def aclient(server: ServerHandle) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.base_url, api_key=server.api_key) as c:
        yield c


def test_health_and_info(client: Client) -> None:
    assert client.health().status == "ok"
    info = client.info()
    assert info.version == __version__ and info.backend == "sqlite"
    assert info.embedder.dim > 0 and info.embedder.model


def test_memories_add_wait_search_and_manage(client: Client) -> None:
    user, session = uid("ada"), uid("s")
    pending = client.memories.add(CONVERSATION, user_id=user, session_id=session, metadata={"src": "e2e"})
    assert isinstance(pending, Submission) and pending.created and pending.job is None
    job = client.jobs.wait(pending.job_id, timeout=60)
    assert job.status == JobStatus.SUCCEEDED and job.memory_ids
    assert client.jobs.get(pending.job_id).id == pending.job_id

    hits = client.memories.search("what is the name of the dog?", user_id=user, limit=3)
    assert hits and "Biscuit" in hits[0].memory.text
    assert set(hits[0].sources) <= {"m1", "m2", "m3"}
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert all(h.score >= 0.9 for h in client.memories.search("dog", user_id=user, threshold=0.9))
    episodes = client.memories.search("beagle", user_id=user, kinds=[MemoryKind.EPISODE], mode="keyword")
    assert episodes and all(h.memory.kind == MemoryKind.EPISODE for h in episodes)

    everything = list(client.memories.list(user_id=user, limit=2))
    assert {m.id for m in everything} >= set(job.memory_ids)
    only_session = client.memories.list(session_id=session, kind="episode")
    assert all(m.session_id == session and m.kind == MemoryKind.EPISODE for m in only_session)

    target = everything[0]
    assert client.memories.update(target.id, metadata={"k": 1}).metadata == {"k": 1}
    client.memories.delete(target.id)
    with pytest.raises(NotFoundError) as caught:
        client.memories.get(target.id)
    assert caught.value.code == "not_found"


def test_wait_true_returns_the_finished_job(client: Client) -> None:
    user = uid("bo")
    done = client.memories.add("I am allergic to peanuts.", user_id=user, wait=True, timeout=60)
    assert done.status == JobStatus.SUCCEEDED and done.job is not None and done.memory_ids
    repeat = client.memories.add("I am allergic to peanuts.", user_id=user, wait=True)
    assert repeat.job_id == done.job_id and not repeat.created


def test_documents_events_and_sessions(client: Client) -> None:
    user, session = uid("cy"), uid("s")
    created = client.sessions.create(user, session_id=session, metadata={"channel": "web"})
    assert created.id == session and client.sessions.get(session).metadata == {"channel": "web"}
    assert session in {s.id for s in client.sessions.list(user_id=user)}

    client.memories.add(CONVERSATION[:1], user_id=user, session_id=session, wait=True)
    messages = list(client.sessions.messages(session))
    assert [(e.kind, e.external_id, e.content) for e in messages] == [
        (EventKind.MESSAGE, "m1", CONVERSATION[0]["content"])
    ]

    when = datetime(2024, 3, 1, 9, 30, tzinfo=timezone.utc)
    action = client.events.add(user, "purchase", "a red bicycle", id="e1", timestamp=when, wait=True)
    assert action.status == JobStatus.SUCCEEDED

    doc = client.documents.add(
        "Tea guide. " * 40 + "Oolong is partially oxidised.",
        title="Tea",
        user_id=user,
        chunk_size=200,
        wait=True,
    )
    assert doc.status == JobStatus.SUCCEEDED
    hits = client.memories.search("partially oxidised tea", user_id=user, kinds=["document"])
    assert hits and hits[0].memory.kind == MemoryKind.DOCUMENT

    assert user in {u.id for u in client.users.list()}
    assert client.users.get(user).memory_count >= 3
    assert client.users.forget(user) >= 3
    with pytest.raises(NotFoundError):
        client.users.get(user)


def test_spaces(client: Client) -> None:
    name = uid("space")
    space = client.spaces.create(name, metadata={"team": "x"})
    assert client.spaces.get(space.id).name == name
    assert name in {s.name for s in client.spaces.list()}
    with pytest.raises(ConflictError):
        client.spaces.create(name)
    client.memories.add("Only in the new space.", user_id=uid("u"), space=name, wait=True)
    assert client.memories.search("new space", spaces=[name])
    client.spaces.delete(space.id)
    with pytest.raises(NotFoundError):
        client.spaces.get(space.id)


def test_errors_are_typed(server: ServerHandle, client: Client) -> None:
    with (
        Client(server.base_url, api_key="mh_wrong") as stranger,
        pytest.raises(AuthenticationError) as caught,
    ):
        stranger.info()
    assert caught.value.status == 401
    with pytest.raises(UnprocessableEntityError) as invalid:
        client.memories.add([{"role": "user"}], user_id="u")  # no content
    assert invalid.value.status == 422 and invalid.value.details is not None
    with pytest.raises(NotFoundError):
        client.sessions.messages(uid("nope"))


async def test_async_client_end_to_end(aclient: AsyncClient) -> None:
    user = uid("dee")
    done = await aclient.memories.add(CONVERSATION, user_id=user, wait=True)
    assert done.status == JobStatus.SUCCEEDED
    hits = await aclient.memories.search("Where does the user work?", user_id=user)
    assert hits and "nurse" in hits[0].memory.text
    page = await aclient.memories.list(user_id=user, limit=1)
    assert len([m async for m in page]) >= 3
    assert (await aclient.users.get(user)).id == user
    pages = [p async for p in page.iter_pages()]
    assert len(pages) >= 3 and all(len(p.items) <= 1 for p in pages)
    assert await aclient.users.forget(user) >= 1
    with pytest.raises(NotFoundError):
        await aclient.users.get(user)
