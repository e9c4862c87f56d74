"""Spaces (caller-chosen ids, update), API keys, users and the 501 routes, through the real GoodMem
SDK against a real ``memhub serve`` — sync and async."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from goodmem import (
    AsyncGoodmem,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    Goodmem,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
)

from support.goodmem import base_url
from support.server import ServerHandle


@pytest.fixture(scope="module")
def client(server: ServerHandle) -> Iterator[Any]:
    with Goodmem(base_url=base_url(server), api_key=server.api_key) as c:
        yield c


@pytest.fixture(scope="module")
def embedder_id(client: Any) -> Iterator[str]:
    emb = client.embedders.create(
        display_name="admin-emb",
        model_identifier="local",
        provider_type="TEI",
        endpoint_url="http://localhost:1",
        dimensionality=384,
    )
    yield emb.embedder_id
    client.embedders.delete(id=emb.embedder_id)


def test_a_caller_chosen_space_id_is_refused_with_a_reason(client: Any, embedder_id: str) -> None:
    """501, never a 409: space ids are global in the store, so a 409 for another tenant's id would tell
    the caller that the id exists (tests/reliability/test_isolation_protocols.py pins the same)."""
    chosen = str(uuid.uuid4())
    with pytest.raises(InternalServerError, match="assigns space ids"):
        client.spaces.create(
            name=f"chosen-{chosen}", space_id=chosen, space_embedders=[{"embedder_id": embedder_id}]
        )
    assert chosen not in [s.space_id for s in client.spaces.list()]


def test_space_update_renames_and_edits_labels(server: ServerHandle, client: Any, embedder_id: str) -> None:
    embedders = [{"embedder_id": embedder_id}]
    space = client.spaces.create(name=f"upd-{uuid.uuid4()}", labels={"a": "1"}, space_embedders=embedders)
    taken = client.spaces.create(name=f"taken-{uuid.uuid4()}", space_embedders=embedders)
    sid = space.space_id
    try:
        renamed = client.spaces.update(id=sid, request={"name": f"{space.name}-2", "mergeLabels": {"b": "2"}})
        assert renamed.name == f"{space.name}-2" and renamed.labels == {"a": "1", "b": "2"}
        assert renamed.space_embedders[0].embedder_id == embedder_id  # embedders are immutable
        assert client.spaces.update(id=sid, request={"replaceLabels": {"c": "3"}}).labels == {"c": "3"}
        assert sid in [s.space_id for s in client.spaces.list(label={"c": "3"})]
        both = {"replaceLabels": {}, "mergeLabels": {}}  # the SDK refuses this itself: send it raw
        headers = {"x-api-key": server.api_key}
        answer = httpx.put(f"{base_url(server)}/v1/spaces/{sid}", json=both, headers=headers)
        assert answer.status_code == 400 and "not both" in answer.json()["message"]
        with pytest.raises(ConflictError):
            client.spaces.update(id=sid, request={"name": taken.name})
        with pytest.raises(NotFoundError):
            client.spaces.update(id=str(uuid.uuid4()), request={"name": "x"})

        async def run() -> None:
            ac: Any
            async with AsyncGoodmem(base_url=base_url(server), api_key=server.api_key) as ac:
                updated = await ac.spaces.update(id=sid, request={"mergeLabels": {"d": "4"}})
                assert updated.labels == {"c": "3", "d": "4"}

        asyncio.run(run())
    finally:
        client.spaces.delete(id=sid)
        client.spaces.delete(id=taken.space_id)


def test_api_keys_are_tenant_keys(server: ServerHandle, client: Any) -> None:
    created = client.apikeys.create(labels={"purpose": "test"})
    meta, raw = created.api_key_metadata, created.raw_api_key
    assert raw and raw.startswith(meta.key_prefix) and meta.labels == {"purpose": "test"}
    assert str(meta.status).endswith("ACTIVE") and str(meta.lifecycle_state).endswith("USABLE")
    with Goodmem(base_url=base_url(server), api_key=raw) as other:  # the new key authenticates
        assert other.users.me().user_id == client.users.me().user_id
        with pytest.raises(PermissionDeniedError):  # a key made here is a member: it manages no keys
            other.apikeys.list()
    assert client.apikeys.get(id=meta.api_key_id).key_prefix == meta.key_prefix
    merged = client.apikeys.update(id=meta.api_key_id, request={"mergeLabels": {"x": "y"}})
    assert merged.labels == {"purpose": "test", "x": "y"}
    revoked = client.apikeys.update(id=meta.api_key_id, request={"status": "INACTIVE"})
    assert str(revoked.lifecycle_state).endswith("REVOKED") and revoked.revoked_at
    with Goodmem(base_url=base_url(server), api_key=raw) as other, pytest.raises(AuthenticationError):
        other.spaces.list()
    with pytest.raises(BadRequestError):  # memhub revocation is permanent
        client.apikeys.update(id=meta.api_key_id, request={"status": "ACTIVE"})
    assert meta.api_key_id in [k.api_key_id for k in client.apikeys.list(lifecycle_state="REVOKED")]
    client.apikeys.delete(id=meta.api_key_id)
    with pytest.raises(NotFoundError):
        client.apikeys.get(id=meta.api_key_id)
    assert meta.api_key_id not in [k.api_key_id for k in client.apikeys.list()]
    with pytest.raises(InternalServerError, match="expire"):  # 501: no silent expiry
        client.apikeys.create(expires_at=4_102_444_800_000)


def test_api_keys_async_and_users(server: ServerHandle) -> None:
    async def run() -> None:
        ac: Any
        async with AsyncGoodmem(base_url=base_url(server), api_key=server.api_key) as ac:
            created = await ac.apikeys.create()
            key_id = created.api_key_metadata.api_key_id
            assert (await ac.apikeys.get(id=key_id)).api_key_id == key_id
            await ac.apikeys.delete(id=key_id)
            with pytest.raises(NotFoundError):
                await ac.apikeys.get(id=key_id)
            me = await ac.users.me()
            assert (await ac.users.get(id=me.user_id)).user_id == me.user_id
            with pytest.raises(NotFoundError):
                await ac.users.get(id=str(uuid.uuid4()))
            assert [u.user_id async for u in await ac.users.list()] == [me.user_id]

    asyncio.run(run())


def test_unsupported_routes_are_501_with_a_reason(server: ServerHandle, client: Any) -> None:
    with pytest.raises(InternalServerError, match="not supported by memhub"):
        client.decision_models.list()
    with pytest.raises(InternalServerError, match="not supported by memhub"):
        client.instance.get()
    headers = {"x-api-key": server.api_key}
    answer = httpx.post(f"{base_url(server)}/v1/ocr:document", json={"content": "eA=="}, headers=headers)
    assert answer.status_code == 501 and answer.json()["code"] == "UNIMPLEMENTED"
    assert "OCR" in answer.json()["message"]
    space = str(uuid.uuid4())
    moved = httpx.post(f"{base_url(server)}/v1/spaces/{space}:transferOwnership", json={}, headers=headers)
    assert moved.status_code == 501
    assert httpx.post(f"{base_url(server)}/v1/admin:drain", json={}).status_code == 401  # key first


def test_registry_lists_filter_by_provider_owner_and_label(client: Any, embedder_id: str) -> None:
    reranker = client.rerankers.create(
        display_name="labelled",
        provider_type="COHERE",
        endpoint_url="http://localhost:1",
        model_identifier="rerank",
        labels={"team": "search"},
    )
    try:
        ids = [r.reranker_id for r in client.rerankers.list(label={"team": "search"})]
        assert ids == [reranker.reranker_id]
        assert client.rerankers.list(label={"team": "other"}) == []
        assert reranker.reranker_id in [r.reranker_id for r in client.rerankers.list(provider_type="COHERE")]
        assert client.rerankers.list(provider_type="JINA") == []
        assert client.rerankers.list(owner_id=str(uuid.uuid4())) == []
        assert embedder_id in [e.embedder_id for e in client.embedders.list(provider_type="TEI")]
        assert embedder_id not in [e.embedder_id for e in client.embedders.list(provider_type="OPENAI")]
    finally:
        client.rerankers.delete(id=reranker.reranker_id)
