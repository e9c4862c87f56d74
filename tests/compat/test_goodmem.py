"""The real GoodMem SDK (``goodmem`` 0.1.43 from PyPI) against a real ``memhub serve``.

This is the P0 part of the test recipe of ``docs/compat/goodmem.md`` §12, split into steps that share
one space (module-scoped fixtures), plus the error cases the spec pins (bad UUID 400, 401, 404, 409) and
a wire-level companion test with plain httpx (snake_case query names, ``+`` decoding, ``label[k]=v``,
foreign tokens, NDJSON framing).
"""

from __future__ import annotations

import asyncio
import base64
import json
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
    MemoryCreationRequest,
    NotFoundError,
)

from memhub.api.compat import goodmem
from memhub.api.compat.adapter import mount_prefix
from memhub.core.errors import InvalidInput
from memhub.settings import Settings
from support.goodmem import wait_completed
from support.server import ServerHandle

PREFIX = "/goodmem"
SOURCE_IS_DOC = "CAST(val('$.source') AS TEXT) = 'sdk-doc-test'"
SOURCE_IS_B64 = "CAST(val('$.source') AS TEXT) = 'b64'"


def _base(server: ServerHandle) -> str:
    return f"{server.base_url}{PREFIX}"


@pytest.fixture(scope="module")
def client(server: ServerHandle) -> Iterator[Any]:
    with Goodmem(base_url=_base(server), api_key=server.api_key) as c:
        yield c


@pytest.fixture(scope="module")
def space(client: Any) -> Iterator[Any]:
    emb = client.embedders.create(
        display_name="compat-emb",
        model_identifier="local-test",
        provider_type="TEI",
        endpoint_url="http://localhost:1",
        dimensionality=384,
    )
    created = client.spaces.create(
        name=f"compat-{uuid.uuid4()}",
        labels={"suite": "compat"},
        space_embedders=[{"embedder_id": emb.embedder_id, "default_retrieval_weight": 1.0}],
    )
    yield created
    client.spaces.delete(id=created.space_id)
    client.embedders.delete(id=emb.embedder_id)


@pytest.fixture(scope="module")
def memories(client: Any, space: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The seed document's three creation forms plus a client-chosen id, all processed."""
    sid = space.space_id
    m1 = client.memories.create(
        space_id=sid,
        original_content="GoodMem stores and retrieves vectorized memories for RAG applications.",
        metadata={"source": "sdk-doc-test", "n": 1},
    )
    path = tmp_path_factory.mktemp("goodmem") / "notes.txt"
    path.write_text("Bananas are yellow fruit rich in potassium.")
    m2 = client.memories.create(space_id=sid, file_path=str(path))
    m3 = client.memories.create(
        space_id=sid,
        original_content_b64=base64.b64encode(b"Base64-encoded content.").decode(),
        content_type="text/plain",
        metadata={"source": "b64"},
    )
    fixed = str(uuid.uuid4())
    m4 = client.memories.create(
        space_id=sid,
        memory_id=fixed,
        original_content="Paris is the capital of France.",
        original_content_ref="https://example.com/paris",
        chunking_config={"none": {}},
    )
    created = {"m1": m1, "m2": m2, "m3": m3, "m4": m4, "path": path, "fixed": fixed}
    for m in (m1, m2, m3, m4):
        assert wait_completed(client, m.memory_id).processing_status == "COMPLETED"
    return created


def test_system_info_and_auth(server: ServerHandle) -> None:
    anonymous: Any
    wrong: Any
    with Goodmem(base_url=_base(server)) as anonymous:
        info = anonymous.system.info()  # no x-api-key
        assert info.version and isinstance(info.major, int)
        with pytest.raises(AuthenticationError):
            anonymous.spaces.list()
    with Goodmem(base_url=_base(server), api_key="gm_wrong") as wrong, pytest.raises(AuthenticationError):
        wrong.spaces.list()


def test_spaces(client: Any, space: Any) -> None:
    rc = space.default_chunking_config.recursive
    assert (rc.chunk_size, rc.chunk_overlap, rc.keep_strategy.value, rc.length_measurement.value) == (
        512,
        64,
        "KEEP_END",
        "CHARACTER_COUNT",
    )
    uuid.UUID(space.space_id)
    assert client.spaces.get(id=space.space_id).name == space.name
    assert space.space_id in [s.space_id for s in client.spaces.list(label={"suite": "compat"})]
    assert space.space_id not in [s.space_id for s in client.spaces.list(label={"suite": "other"})]
    with pytest.raises(BadRequestError):  # an empty embedder list
        client.spaces.create(name=f"x-{uuid.uuid4()}", space_embedders=[])
    with pytest.raises(NotFoundError):
        client.spaces.create(name=f"x-{uuid.uuid4()}", space_embedders=[{"embedder_id": str(uuid.uuid4())}])
    with pytest.raises(ConflictError):  # same name again
        client.spaces.create(
            name=space.name, space_embedders=[{"embedder_id": space.space_embedders[0].embedder_id}]
        )


def test_create_forms(client: Any, memories: dict[str, Any]) -> None:
    m1, m2, m4 = memories["m1"], memories["m2"], memories["m4"]
    assert m1.content_type == "text/plain" and m1.metadata == {"source": "sdk-doc-test", "n": 1}
    assert m2.content_type == "text/plain"  # multipart 'request' part parsed
    assert m4.memory_id == memories["fixed"] and m4.original_content_ref == "https://example.com/paris"
    assert m4.chunking_config.none is not None
    with pytest.raises(ConflictError):
        client.memories.create(space_id=m1.space_id, memory_id=memories["fixed"], original_content="dup")


def test_get_and_content(client: Any, memories: dict[str, Any]) -> None:
    g = client.memories.get(id=memories["m3"].memory_id, include_content=True)
    assert g.original_content == b"Base64-encoded content."
    assert g.original_content_length == 23
    assert client.memories.get(id=memories["m1"].memory_id).original_content is None
    assert client.memories.content(id=memories["m2"].memory_id) == memories["path"].read_bytes()
    h = client.memories.get(id=memories["m1"].memory_id, include_processing_history=True)
    assert str(h.processing_history.latest_job.status).endswith("BACKGROUND_JOB_SUCCEEDED")
    with pytest.raises(NotFoundError):
        client.memories.get(id=str(uuid.uuid4()))
    with pytest.raises(BadRequestError):
        client.memories.get(id="not-a-uuid")
    assert list(client.memories.pages(id=memories["m1"].memory_id)) == []
    with pytest.raises(NotFoundError):
        client.memories.pages_image(id=memories["m1"].memory_id, page_index=0)


def test_list(client: Any, space: Any, memories: dict[str, Any]) -> None:
    sid = space.space_id
    ids = [memories[k].memory_id for k in ("m1", "m2", "m3", "m4")]
    page = client.memories.list(space_id=sid, page_size=1)
    assert len(page.data) == 1 and page.next_token
    assert sorted(m.memory_id for m in page) == sorted(ids)
    resumed = [m.memory_id for m in client.memories.list(space_id=sid, next_token=page.next_token)]
    assert len(resumed) == 3
    assert len(list(client.memories.list(space_id=sid, max_items=2))) == 2
    only = [m.memory_id for m in client.memories.list(space_id=sid, filter=SOURCE_IS_DOC)]
    assert only == [memories["m1"].memory_id]
    assert len(list(client.memories.list(space_id=sid, status_filter="COMPLETED"))) == 4
    assert list(client.memories.list(space_id=sid, status_filter="FAILED")) == []
    asc = [
        m.created_at for m in client.memories.list(space_id=sid, sort_by="created_at", sort_order="ASCENDING")
    ]
    assert asc == sorted(asc)
    with pytest.raises(BadRequestError):
        client.memories.list(space_id=sid, filter="lower(val('$.a')) = 'x'")
    with pytest.raises(BadRequestError):
        client.memories.list(space_id=sid, filter="CAST(val('$.source') AS TEXT) = ")
    with pytest.raises(NotFoundError):
        client.memories.list(space_id=str(uuid.uuid4()))


def _hits(events: list[Any]) -> tuple[list[Any], list[Any]]:
    defs, hits = [], []
    for e in events:
        if e.memory_definition:
            defs.append(e.memory_definition)
        if e.retrieved_item:
            ch = e.retrieved_item.chunk
            assert ch.memory_index < len(defs) or not defs  # definition precedes reference
            if defs:
                assert defs[ch.memory_index].memory_id == ch.chunk.memory_id
            hits.append(ch)
    return defs, hits


def test_retrieve(client: Any, space: Any, memories: dict[str, Any]) -> None:
    sid = space.space_id
    events = client.memories.retrieve(
        message="What is GoodMem?", space_ids=[sid], requested_size=5, stream=False
    )
    begin = events[0].result_set_boundary
    assert begin and begin.kind == "BEGIN"
    _, hits = _hits(events)
    assert 1 <= len(hits) <= 5
    assert all(h.result_set_id == begin.result_set_id for h in hits)
    assert [h.relevance_score for h in hits] == sorted((h.relevance_score for h in hits), reverse=True)
    end = [e for e in events if e.result_set_boundary and e.result_set_boundary.kind == "END"]
    assert end and end[-1].result_set_boundary.result_set_id == begin.result_set_id
    top = client.memories.retrieve(message="GoodMem vectorized memories RAG", space_ids=[sid], stream=False)
    first = next(e.retrieved_item.chunk.chunk.memory_id for e in top if e.retrieved_item)
    assert first == memories["m1"].memory_id
    with client.memories.retrieve(message="What is GoodMem?", space_ids=[sid], requested_size=5) as stream:
        assert any(e.retrieved_item for e in stream)


def test_retrieve_options(client: Any, space: Any, memories: dict[str, Any]) -> None:
    sid = space.space_id
    ev = client.memories.retrieve(
        message="capital of France", space_ids=[sid], fetch_memory=False, stream=False
    )
    assert not any(e.memory_definition for e in ev) and any(e.retrieved_item for e in ev)
    ev = client.memories.retrieve(
        message="capital of France", space_ids=[sid], fetch_memory_content=True, stream=False
    )
    assert any(e.memory_definition and e.memory_definition.original_content for e in ev)
    ev = client.memories.retrieve(
        message="fruit", space_keys=[{"space_id": sid, "filter": SOURCE_IS_B64}], stream=False
    )
    assert {e.retrieved_item.chunk.chunk.memory_id for e in ev if e.retrieved_item} == {
        memories["m3"].memory_id
    }
    ev = client.memories.retrieve(message="anything", space_ids=[sid], requested_size=1, stream=False)
    assert len([e for e in ev if e.retrieved_item]) == 1
    with pytest.raises(BadRequestError):
        client.memories.retrieve(message="x", space_keys=[{"space_id": sid, "filter": "val("}], stream=False)
    with pytest.raises(NotFoundError):
        client.memories.retrieve(message="x", space_ids=[str(uuid.uuid4())], stream=False)
    with pytest.raises(BadRequestError):
        client.memories.retrieve(message="x", space_ids=["nope"], stream=False)
    with pytest.raises(NotFoundError):  # an unregistered reranker
        client.memories.retrieve(message="x", space_ids=[sid], reranker_id=str(uuid.uuid4()), stream=False)


def test_retrieve_across_spaces_with_weights(client: Any, space: Any, memories: dict[str, Any]) -> None:
    other = client.spaces.create(
        name=f"compat-other-{uuid.uuid4()}",
        space_embedders=[{"embedder_id": space.space_embedders[0].embedder_id}],
    )
    try:
        om = client.memories.create(
            space_id=other.space_id, original_content="Paris hosts the Louvre museum."
        )
        assert wait_completed(client, om.memory_id).processing_status == "COMPLETED"
        ev = client.memories.retrieve(
            message="Paris", space_ids=[space.space_id, other.space_id], stream=False
        )
        found = {e.retrieved_item.chunk.chunk.memory_id for e in ev if e.retrieved_item}
        assert {om.memory_id, memories["m4"].memory_id} <= found
        emb = space.space_embedders[0].embedder_id
        ev = client.memories.retrieve(
            message="Paris",
            space_keys=[
                {"space_id": space.space_id},
                {"space_id": other.space_id, "embedder_weights": [{"embedder_id": emb, "weight": 0.0}]},
            ],
            stream=False,
        )
        found = {e.retrieved_item.chunk.chunk.memory_id for e in ev if e.retrieved_item}
        assert om.memory_id not in found and memories["m4"].memory_id in found
    finally:
        client.spaces.delete(id=other.space_id)


def test_batches_and_delete(client: Any, space: Any, memories: dict[str, Any]) -> None:
    sid = space.space_id
    br = client.memories.batch_create(
        requests=[
            MemoryCreationRequest(space_id=sid, original_content="Batch memory one."),
            MemoryCreationRequest(space_id=sid, original_content="Batch memory two."),
            MemoryCreationRequest(space_id=sid, memory_id=memories["fixed"], original_content="dup"),
        ]
    )
    assert [r.success for r in br.results] == [True, True, False]
    assert br.results[2].error.code == 409
    b_ids = [r.memory.memory_id for r in br.results[:2]]
    missing = str(uuid.uuid4())
    bg = client.memories.batch_get(memory_ids=[memories["m1"].memory_id, missing], include_content=True)
    assert bg.results[0].success and bg.results[0].memory.original_content.startswith(b"GoodMem")
    assert (
        not bg.results[1].success and bg.results[1].memory_id == missing and bg.results[1].error.code == 404
    )
    bd = client.memories.batch_delete(
        requests=[{"memory_id": b_ids[0]}, {"filter_selector": {"space_id": sid, "filter": SOURCE_IS_B64}}]
    )
    assert all(r.success for r in bd.results) and bd.total_deleted == 2
    with pytest.raises(NotFoundError):
        client.memories.get(id=memories["m3"].memory_id)
    m2 = memories["m2"].memory_id
    assert client.memories.delete(id=m2) is None
    with pytest.raises(NotFoundError):
        client.memories.get(id=m2)
    with pytest.raises(NotFoundError):
        client.memories.delete(id=m2)
    ev = client.memories.retrieve(message="Bananas yellow fruit", space_ids=[sid], stream=False)
    assert m2 not in {e.retrieved_item.chunk.chunk.memory_id for e in ev if e.retrieved_item}


def test_async_parity(server: ServerHandle, space: Any) -> None:
    sid = space.space_id

    async def run() -> None:
        ac: Any
        async with AsyncGoodmem(base_url=_base(server), api_key=server.api_key) as ac:
            am = await ac.memories.create(space_id=sid, original_content="Async memory about GoodMem.")
            assert (await ac.memories.get(id=am.memory_id)).memory_id == am.memory_id
            assert am.memory_id in [m.memory_id async for m in await ac.memories.list(space_id=sid)]
            async with await ac.memories.retrieve(message="GoodMem", space_ids=[sid]) as s:
                assert [e async for e in s]
            events = await ac.memories.retrieve(message="GoodMem", space_ids=[sid], stream=False)
            assert events[0].result_set_boundary.kind == "BEGIN"
            await ac.memories.delete(id=am.memory_id)
            with pytest.raises(NotFoundError):
                await ac.memories.get(id=am.memory_id)

    asyncio.run(run())


def test_unknown_llm_is_404(client: Any, space: Any) -> None:
    with pytest.raises(NotFoundError):
        client.memories.retrieve(
            message="x", space_ids=[space.space_id], llm_id=str(uuid.uuid4()), stream=False
        )


def test_registries_and_reranker_stage(client: Any, space: Any, memories: dict[str, Any]) -> None:
    reranker = client.rerankers.create(
        display_name="rr",
        model_identifier="bge-reranker",
        provider_type="TEI",
        endpoint_url="http://localhost:1",
    )
    llm = client.llms.create(
        display_name="llm",
        model_identifier="gpt-x",
        provider_type="CUSTOM_OPENAI_COMPATIBLE",
        endpoint_url="http://localhost:1/v1",
    )
    llm_id = llm.llm.llm_id
    try:
        assert client.rerankers.get(id=reranker.reranker_id).display_name == "rr"
        assert reranker.reranker_id in [r.reranker_id for r in client.rerankers.list()]
        assert llm_id in [m.llm_id for m in client.llms.list()]
        sid = space.space_id
        events = client.memories.retrieve(
            message="capital of France", space_ids=[sid], reranker_id=reranker.reranker_id, stream=False
        )
        begins = [
            e.result_set_boundary
            for e in events
            if e.result_set_boundary and e.result_set_boundary.kind == "BEGIN"
        ]
        assert [b.stage_name for b in begins] == ["vector_search", "rerank"]
        assert begins[0].result_set_id != begins[1].result_set_id
        sets = {e.retrieved_item.chunk.result_set_id for e in events if e.retrieved_item}
        assert sets == {b.result_set_id for b in begins}
        capped = client.memories.retrieve(
            message="capital of France",
            space_ids=[sid],
            reranker_id=reranker.reranker_id,
            max_results=1,
            relevance_threshold=0.0,
            chronological_resort=True,
            stream=False,
        )
        reranked = [
            e
            for e in capped
            if e.retrieved_item and e.retrieved_item.chunk.result_set_id == begins[1].result_set_id
        ]
        assert reranked == []  # a fresh stream has fresh result-set ids
        last_set = [e.result_set_boundary for e in capped if e.result_set_boundary][-1].result_set_id
        assert (
            len([e for e in capped if e.retrieved_item and e.retrieved_item.chunk.result_set_id == last_set])
            == 1
        )
        down = client.memories.retrieve(message="x", space_ids=[sid], llm_id=llm_id, stream=False)
        assert str(down[-1].status.code).endswith("SUMMARIZATION_FAILED")  # the LLM is unreachable
        assert any(e.result_set_boundary for e in down)  # ... and the retrieval still answered
        updated = client.rerankers.update(
            id=reranker.reranker_id, request={"displayName": "rr2", "mergeLabels": {"a": "b"}}
        )
        assert updated.display_name == "rr2" and updated.labels == {"a": "b"}
        emb_id = space.space_embedders[0].embedder_id
        assert client.embedders.update(id=emb_id, request={"description": "d"}).description == "d"
    finally:
        client.rerankers.delete(id=reranker.reranker_id)
        client.llms.delete(id=llm_id)
    with pytest.raises(NotFoundError):
        client.rerankers.get(id=reranker.reranker_id)


def test_system_init_is_already_done(server: ServerHandle) -> None:
    anonymous: Any
    with Goodmem(base_url=_base(server)) as anonymous:
        assert anonymous.system.init().already_initialized is True


def test_wire_level(server: ServerHandle, space: Any, memories: dict[str, Any]) -> None:
    headers = {"x-api-key": server.api_key}
    with httpx.Client(base_url=_base(server), headers=headers, timeout=30) as http:
        sid = space.space_id
        q = "filter=CAST%28val%28%27%24.source%27%29+AS+TEXT%29+%3D+%27sdk-doc-test%27&maxResults=10"
        listed = http.get(f"/v1/spaces/{sid}/memories?{q}").json()["memories"]
        assert [m["memoryId"] for m in listed] == [memories["m1"].memory_id]  # '+' decodes, camelCase ok
        m = listed[0]
        assert m["pageImageCount"] == 0 and isinstance(m["createdAt"], int)
        assert http.get("/v1/spaces?label%5Bsuite%5D=compat").status_code == 200
        assert sid in [s["spaceId"] for s in http.get("/v1/spaces?label.suite=compat").json()["spaces"]]
        bad = http.get(f"/v1/spaces/{sid}/memories?next_token=garbage!")
        assert bad.status_code == 400 and bad.json()["code"] == "INVALID_ARGUMENT"
        assert http.get("/v1/memories/12345").status_code == 400
        assert http.get(f"/v1/memories/{uuid.uuid4()}").json()["code"] == "NOT_FOUND"
        bearer = httpx.get(
            _base(server) + "/v1/spaces", headers={"Authorization": f"Bearer {server.api_key}"}
        )
        assert bearer.status_code == 200
        body = {"message": "What is GoodMem?", "spaceKeys": [{"spaceId": sid}], "requestedSize": 3}
        with http.stream("POST", "/v1/memories:retrieve", json=body) as response:
            assert response.headers["content-type"].startswith("application/x-ndjson")
            lines = [json.loads(line) for line in response.iter_lines() if line.strip()]
        assert all(len(event) == 1 for event in lines)
        assert list(lines[0]) == ["resultSetBoundary"] and list(lines[-1]) == ["resultSetBoundary"]
        invalid: list[dict[str, Any]] = [{"message": "x", "spaceKeys": []}, {"spaceKeys": [{"spaceId": sid}]}]
        for request in invalid:
            assert http.post("/v1/memories:retrieve", json=request).status_code == 400
        assert http.post("/v1/memories:batchGet", json={"memoryIds": []}).status_code == 400
        assert (
            http.post("/v1/memories", json={"spaceId": sid, "contentType": "text/plain"}).status_code == 400
        )
        binary = {"spaceId": sid, "contentType": "application/octet-stream", "originalContentB64": "//79"}
        assert http.post("/v1/memories", json=binary).status_code == 400
        chunking: dict[str, Any]
        for chunking in ({}, {"none": {}, "sentence": {}}, {"recursive": {"chunkSize": "x"}}, {"other": {}}):
            text = {
                "spaceId": sid,
                "contentType": "text/plain",
                "originalContent": "hi",
                "chunkingConfig": chunking,
            }
            assert http.post("/v1/memories", json=text).status_code == 400, chunking
        assert (
            http.post(
                "/v1/memories", content=b"{not json", headers={"content-type": "application/json"}
            ).status_code
            == 400
        )
        assert http.post("/v1/rerankers", json={"displayName": "x"}).status_code == 400
        form = {"request": json.dumps({"spaceId": sid, "contentType": "text/markdown"})}
        upload = http.post("/v1/memories", data=form, files={"file": ("a.md", b"# Title", "text/markdown")})
        assert upload.status_code == 200 and upload.json()["contentType"] == "text/markdown"
        assert (
            http.get(f"/v1/memories/{upload.json()['memoryId']}/content")
            .headers["content-type"]
            .startswith("text/markdown")
        )
        http.delete(f"/v1/memories/{upload.json()['memoryId']}")
        as_file = {"request": ("r.json", json.dumps({"spaceId": sid}).encode(), "application/json")}
        upload = http.post("/v1/memories", files={**as_file, "file": ("b.txt", b"plain", "text/plain")})
        assert upload.status_code == 200 and upload.json()["contentType"] == "text/plain"
        http.delete(f"/v1/memories/{upload.json()['memoryId']}")
        assert http.post("/v1/memories", files={"file": ("b.txt", b"x", "text/plain")}).status_code == 400
        mid = str(uuid.uuid4())
        huge = {
            "spaceId": sid,
            "memoryId": mid,
            "originalContent": "big",
            "contentType": "text/plain",
            "metadata": {"k": "v" * 20_000},
        }
        assert http.post("/v1/memories", json=huge).status_code == 413
        small = {"spaceId": sid, "memoryId": mid, "originalContent": "small", "contentType": "text/plain"}
        assert http.post("/v1/memories", json=small).status_code == 200  # the failed create left no claim
        assert http.delete(f"/v1/memories/{mid}").status_code == 204


def test_mount_prefix_is_configurable() -> None:
    assert mount_prefix(goodmem.ADAPTER, Settings(goodmem_prefix="/gm/")) == "/gm"
    assert mount_prefix(goodmem.ADAPTER, Settings()) == "/goodmem"
    with pytest.raises(InvalidInput, match="goodmem_prefix must name a path such as /goodmem"):
        mount_prefix(goodmem.ADAPTER, Settings(goodmem_prefix="/"))


def test_path_not_under_v1_is_goodmem_shaped(server: ServerHandle) -> None:
    response = httpx.get(_base(server) + "/v1/nothing-here", headers={"x-api-key": server.api_key})
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"
