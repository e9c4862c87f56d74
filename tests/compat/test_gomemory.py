"""The real ``gomemory==0.1.0`` SDK from PyPI, unmodified, against a real ``memhub serve`` process.

Follows the test recipe of ``docs/compat/gomemory.md`` §5 step by step (the ``test_sN_…`` names give
the step), then checks what the recipe leaves to memhub: native-API visibility of GoMemory data, the
settings that switch the mount on, move it and protect it, and the refusal to expose it unauthenticated.

Two servers: the main one uses the bundled local model (semantic scores, so thresholds mean something);
the second embeds through a fake OpenAI-compatible endpoint that can be told to fail, which is how a
job is made to fail without any test hook in the product.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from fastapi import FastAPI
from fastapi.testclient import TestClient
from gomemory import APIError, FullReqStatus, GoMemoryClient, Memory, Message, Role

from memhub.api import create_app
from memhub.api.compat.gomemory.door import check_exposure
from memhub.api.compat.gomemory.routes import create_router
from memhub.api.compat.gomemory.translate import request_id
from memhub.api.compat.gomemory.wire import contextual_query
from memhub.core.errors import InvalidInput
from memhub.core.service import Limits
from memhub.settings import Settings
from support.api import wait_for_job
from support.polling import poll_until
from support.server import ServerHandle, free_port, launch_server, run_memhub

QUEUED = "Memory Insertion Job has been queued for insertion!"
ALREADY = "Memory Insertion Job is already queued or processed successfully!"
MARIO = [
    Message(role=Role.USER, content="Hey man what's up! My name is mario .. my brother's name is Wario!"),
    Message(role=Role.ASSISTANT, content="I will remember that."),
]
STATUSES = {"pending", "processing", "success", "failure"}
KEY_SETS = (
    ("Memory_text", "memory_text"),
    ("Type", "type"),
    ("Memory_Id", "memory_id"),
    ("UserId", "userId"),
)


def wait_done(client: GoMemoryClient, req_id: str, timeout: float = 30.0) -> FullReqStatus:
    """Poll ``get_status`` until the job ends (success or failure)."""

    def ended() -> FullReqStatus | None:
        status = client.get_status(req_id)
        assert status.status in STATUSES
        return status if status.status in ("success", "failure") else None

    return poll_until(ended, timeout=timeout, message=f"request {req_id} still running")


def add_and_wait(client: GoMemoryClient, user_id: str, messages: list[Message]) -> str:
    response = client.add_memory(user_id=user_id, messages=messages)
    assert wait_done(client, response.req_id).status == "success"
    return response.req_id


def spec_req_id(user_id: str, pairs: list[tuple[str, str]]) -> str:
    canonical = json.dumps([list(p) for p in pairs], ensure_ascii=False, separators=(",", ":"))
    return str(uuid.uuid5(uuid.NAMESPACE_OID, user_id + "\n" + canonical))


def raw_get(base: str, body: Any) -> requests.Response:
    data = body if isinstance(body, str) else json.dumps(body)
    return requests.post(
        f"{base}/get_memory", data=data, headers={"Content-Type": "application/json"}, timeout=30
    )


def assert_error_shape(response: requests.Response, status: int, message: str | None = None) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"Error", "Status", "Message"}
    assert body["Status"] == status
    assert body["Error"] == body["Message"]
    if message is not None:
        assert body["Message"] == message


# ---------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def gm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """The main server: GoMemory mounted for tenant ``default`` (the tenant of the admin key).

    Module-scoped (``start_server`` is per test) because every start loads the model; the tests use
    fresh user ids so they do not see each other's data.
    """
    handle = launch_server(tmp_path_factory.mktemp("gomemory"), gomemory_tenant="default")
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def base(gm_server: ServerHandle) -> str:
    return f"{gm_server.base_url}/gomemory"


@pytest.fixture
def client(base: str) -> Iterator[GoMemoryClient]:
    sdk = GoMemoryClient(base_url=base + "/")  # a trailing slash is what users often type
    yield sdk
    sdk.session.close()


@pytest.fixture(scope="module")
def mario(base: str) -> str:
    """A user whose Mario/Wario conversation has been fully processed."""
    sdk = GoMemoryClient(base_url=base)
    with sdk.session:
        user_id = sdk.create_user().user_id
        add_and_wait(sdk, user_id, MARIO)
    return user_id


# ---------------------------------------------------------------------------------------------------
# the recipe, on the main server


def test_s1_health(client: GoMemoryClient) -> None:
    assert client.health_check() == "Server is healthy!"


def test_s2_create_user_mints_distinct_uuids(client: GoMemoryClient) -> None:
    first, second = client.create_user(), client.create_user()
    uuid.UUID(first.user_id)
    assert first.user_id != second.user_id


def test_s3_add_memory_answers_at_once_with_the_spec_req_id(
    keyed_client: GoMemoryClient, failing_embeddings: Any
) -> None:
    """The answer does not wait for the work: it comes while the embedder is held, the job unfinished."""
    from memhub.testing.openai_server import embeddings_handler

    client = keyed_client
    user_id = client.create_user().user_id
    release = threading.Event()

    def held(fake: Any, request: Any) -> Any:
        release.wait(60)
        return embeddings_handler(fake, request)

    failing_embeddings.route("/v1/embeddings", held)
    try:
        response = client.add_memory(user_id=user_id, messages=MARIO)
        assert client.get_status(response.req_id).status not in ("success", "failure")
    finally:
        release.set()
        failing_embeddings.route("/v1/embeddings", embeddings_handler)
    assert wait_done(client, response.req_id).status == "success"
    uuid.UUID(response.req_id)
    assert response.msg == QUEUED
    assert response.req_id == spec_req_id(user_id, [(m.role.value, m.content) for m in MARIO])


def test_s4_identical_input_is_idempotent_and_different_input_is_not(client: GoMemoryClient) -> None:
    user_id = client.create_user().user_id
    first = client.add_memory(user_id=user_id, messages=MARIO)
    again = client.add_memory(user_id=user_id, messages=MARIO)
    assert (again.req_id, again.msg) == (first.req_id, ALREADY)
    other_user = client.add_memory(user_id=client.create_user().user_id, messages=MARIO)
    changed = [MARIO[0], Message(role=Role.ASSISTANT, content="I will remember that!")]
    other_content = client.add_memory(user_id=user_id, messages=changed)
    other_role = client.add_memory(
        user_id=user_id, messages=[Message(role=Role.SYSTEM, content=MARIO[0].content)]
    )
    split_1 = client.add_memory(
        user_id=user_id, messages=[Message(role=Role.USER, content=c) for c in ("ab", "c")]
    )
    split_2 = client.add_memory(
        user_id=user_id, messages=[Message(role=Role.USER, content=c) for c in ("a", "bc")]
    )
    ids = {
        first.req_id,
        other_user.req_id,
        other_content.req_id,
        other_role.req_id,
        split_1.req_id,
        split_2.req_id,
    }
    assert len(ids) == 6
    assert {r.msg for r in (other_user, other_content, other_role, split_1, split_2)} == {QUEUED}


def test_s4_resubmitting_after_success_queues_nothing(
    client: GoMemoryClient, mario: str, gm_server: ServerHandle
) -> None:
    again = client.add_memory(user_id=mario, messages=MARIO)
    assert again.msg == ALREADY
    assert client.get_status(again.req_id).status == "success"
    with gm_server.client() as native:
        items = native.get("/v1/memories", params={"user_id": mario, "limit": 100}).json()["items"]
    assert len(items) == len({m["id"] for m in items}) == 4  # 2 episodes + 2 core facts, no duplicates


def test_s5_status_goes_from_queued_to_success(client: GoMemoryClient) -> None:
    user_id = client.create_user().user_id
    response = client.add_memory(
        user_id=user_id, messages=[Message(role=Role.USER, content="I love sailing.")]
    )
    status = client.get_status(response.req_id)
    assert status.status in {"pending", "processing", "success"}
    assert status.created_at
    done = wait_done(client, response.req_id)
    assert (done.status, done.error) == ("success", None)
    assert done.created_at == status.created_at


def test_s5_unknown_and_empty_request_ids(client: GoMemoryClient, base: str) -> None:
    with pytest.raises(APIError) as caught:
        client.get_status(str(uuid.uuid4()))
    assert (caught.value.status, caught.value.message) == (404, "Request doesn't exist")
    assert_error_shape(requests.get(f"{base}/get_status/%22%20%22", timeout=30), 400, "Bad Request")


def test_s5_quoted_request_id_is_accepted(client: GoMemoryClient, mario: str) -> None:
    req_id = spec_req_id(mario, [(m.role.value, m.content) for m in MARIO])
    assert client.get_status(f'"{req_id}"').status == "success"


def test_s7_add_memory_errors(client: GoMemoryClient, base: str) -> None:
    with pytest.raises(APIError) as caught:
        client.add_memory(user_id=client.create_user().user_id, messages=[])
    assert (caught.value.status, caught.value.message) == (400, "No messages provided")
    url = f"{base}/add_memory"
    bad = requests.post(url, data="{bad", headers={"Content-Type": "application/json"}, timeout=30)
    assert_error_shape(bad, 400, "Request format is wrong")
    for body, message in [
        ({"userId": "u1"}, "No messages provided"),
        ({"userId": "u1", "messages": None}, "No messages provided"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "userId is required"),
        ({"userId": "", "messages": [{"role": "user", "content": "hi"}]}, "userId is required"),
        ({"userId": 7, "messages": [{"role": "user", "content": "hi"}]}, "Request format is wrong"),
        ({"userId": "u1", "messages": "hi"}, "Request format is wrong"),
        ({"userId": "u1", "messages": [{"role": "user"}]}, "Request format is wrong"),
        ({"userId": "u1", "messages": [{"role": 1, "content": "hi"}]}, "Request format is wrong"),
        (["userId", "u1"], "Request format is wrong"),
    ]:
        assert_error_shape(requests.post(url, json=body, timeout=30), 400, message)


def test_s7_any_role_string_is_accepted(base: str) -> None:
    body = {"userId": str(uuid.uuid4()), "messages": [{"role": "assistant", "content": "Hello there"}]}
    response = requests.post(f"{base}/add_memory", json=body, timeout=30)
    assert response.status_code == 200
    assert response.json()["Msg"] == QUEUED


def test_s8_get_memory_by_query(client: GoMemoryClient, mario: str) -> None:
    memories = client.get_memory(user_id=mario, query="What is my brother called?")
    assert memories and all(isinstance(m, Memory) for m in memories)
    assert all(m.user_id == mario for m in memories)
    assert any("Wario" in m.memory_text for m in memories)
    types = [m.type for m in memories]
    assert set(types) <= {"core", "general"}
    assert "core" in types
    assert types == sorted(types, key=lambda t: t == "core")  # every general item before every core one
    core_texts = {m.memory_text for m in memories if m.type == "core"}
    assert core_texts == {"User's name is mario", "User's brother's name is Wario"}


def test_s8_core_memory_answers_a_later_family_question(client: GoMemoryClient) -> None:
    user_id = client.create_user().user_id
    add_and_wait(client, user_id, [Message(role=Role.USER, content="My son's name is Todd the Great")])
    add_and_wait(client, user_id, [Message(role=Role.USER, content="Need to buy a new cycle")])
    memories = client.get_memory(user_id=user_id, query="Tell me about my family")
    core = [m for m in memories if m.type == "core"]
    assert [m.memory_text for m in core] == ["User's son's name is Todd the Great"]


def test_s9_get_memory_by_messages(client: GoMemoryClient, mario: str) -> None:
    conversation = [
        Message(role=Role.USER, content="Need to buy a new cycle"),
        Message(role=Role.ASSISTANT, content="That sounds exciting!"),
    ]
    memories = client.get_memory(user_id=mario, messages=conversation, threshold=0.65)
    assert isinstance(memories, list)
    assert any(m.type == "core" for m in memories)  # core memories come with any query
    by_question = client.get_memory(
        user_id=mario, messages=[Message(role=Role.USER, content="Who is my brother Wario?")]
    )
    assert any("Wario" in m.memory_text for m in by_question)


def test_s10_threshold_and_core_flag(client: GoMemoryClient, base: str, mario: str) -> None:
    def general(memories: list[Any]) -> list[Any]:
        return [m for m in memories if (m.type if isinstance(m, Memory) else m["type"]) == "general"]

    question = MARIO[0].content  # the verbatim turn: similar enough at 0.65 whatever the key format
    loose = client.get_memory(user_id=mario, query=question, threshold=0.65)
    strict = client.get_memory(user_id=mario, query=question, threshold=0.99)
    assert len(general(strict)) <= len(general(loose))
    assert general(loose), "the verbatim turn should be similar enough at the default threshold"
    assert any(m.type == "core" for m in strict)

    strict_raw = raw_get(base, {"userId": mario, "query": question, "threshold": 0.99}).json()
    assert all(m["score"] >= 0.99 for m in general(strict_raw))
    assert all(m["score"] is None for m in strict_raw if m["type"] == "core")
    everything = raw_get(base, {"userId": mario, "query": question, "threshold": 0}).json()
    assert len(general(everything)) >= len(general(loose))

    no_core = raw_get(base, {"userId": mario, "query": "brother", "core": False}).json()
    assert all(m["type"] != "core" for m in no_core)
    default = raw_get(base, {"userId": mario, "query": question}).json()
    explicit = raw_get(base, {"userId": mario, "query": question, "threshold": 0.65}).json()
    assert default == explicit
    assert all(m["score"] >= 0.65 for m in general(default))


def test_s11_client_side_xor_sends_nothing(client: GoMemoryClient, mario: str) -> None:
    sent: list[str] = []
    client.session.hooks["response"].append(lambda response, **_: sent.append(response.url))
    message = Message(role=Role.USER, content="hi")
    for kwargs in [{}, {"query": "q", "messages": [message]}, {"query": ""}, {"messages": []}]:
        with pytest.raises(ValueError):
            client.get_memory(user_id=mario, **kwargs)
    assert sent == []


def test_s11_server_side_xor_and_malformed_bodies(base: str, mario: str) -> None:
    message = {"role": "user", "content": "hi"}
    for body, text in [
        ({"userId": mario, "query": "q", "messages": [message]}, "Provide exactly one of query or messages"),
        ({"userId": mario, "query": "q", "messages": []}, "Provide exactly one of query or messages"),
        ({"userId": mario}, "Neither user query nor user messages was provided"),
        ({"userId": mario, "query": ""}, "Neither user query nor user messages was provided"),
        ({"userId": mario, "messages": []}, "Need atleast one message"),
        ("{bad json", "Malformed JSON here in the Get Memory request"),
        ("[1, 2]", "Malformed JSON here in the Get Memory request"),
        ({"query": "q"}, "userId is required"),
        ({"userId": mario, "query": "q", "threshold": 1.5}, None),
        ({"userId": mario, "query": "q", "threshold": "high"}, None),
        ({"userId": mario, "query": "q", "core": "yes"}, None),
        ({"userId": mario, "messages": [{"role": "user", "content": ""}]}, None),
    ]:
        assert_error_shape(raw_get(base, body), 400, text)


def test_s12_wire_shape_carries_both_key_sets(base: str, mario: str) -> None:
    response = raw_get(base, {"userId": mario, "query": "Wario"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    memories = response.json()
    assert memories
    for memory in memories:
        for sdk_key, doc_key in KEY_SETS:
            assert memory[sdk_key] == memory[doc_key]
        assert memory["Type"] in {"core", "general"}
        uuid.UUID(memory["Memory_Id"])
        assert memory["UserId"] == mario


def test_s13_unknown_user_and_isolation(client: GoMemoryClient, mario: str) -> None:
    assert client.get_memory(user_id=str(uuid.uuid4()), query="x") == []
    other = client.create_user().user_id
    add_and_wait(client, other, [Message(role=Role.USER, content="My brother's name is Luigi")])
    mine = {m.memory_id for m in client.get_memory(user_id=mario, query="brother", threshold=0)}
    theirs = client.get_memory(user_id=other, query="brother", threshold=0)
    assert theirs and all(m.user_id == other for m in theirs)
    assert mine.isdisjoint(m.memory_id for m in theirs)
    assert all(
        "Luigi" not in m.memory_text for m in client.get_memory(user_id=mario, query="Luigi", threshold=0)
    )


# ---------------------------------------------------------------------------------------------------
# one tenant, two doors


def test_gomemory_data_is_visible_through_the_native_api(gm_server: ServerHandle, mario: str) -> None:
    with gm_server.client() as native:
        assert native.get(f"/v1/users/{mario}").status_code == 200
        page = native.get("/v1/memories", params={"user_id": mario, "limit": 100}).json()
        hits = native.post("/v1/memories/search", json={"query": "Wario", "user_id": mario}).json()
    assert "User's brother's name is Wario" in {m["text"] for m in page["items"] if m["core"]}
    assert any("Wario" in r["memory"]["text"] for r in hits["results"])


def test_native_data_is_visible_through_gomemory(gm_server: ServerHandle, client: GoMemoryClient) -> None:
    user_id = f"native-{uuid.uuid4()}"
    with gm_server.client() as native:
        body = {"user_id": user_id, "messages": [{"role": "user", "content": "I live in Lisbon."}]}
        job_id = native.post("/v1/memories", json=body).json()["job_id"]
        wait_for_job(native, job_id)
    memories = client.get_memory(user_id=user_id, query="Where do I live?")
    assert "User lives in Lisbon" in {m.memory_text for m in memories if m.type == "core"}


# ---------------------------------------------------------------------------------------------------
# failure + retry (recipe step 6), a moved prefix and the bearer key, on a second server


@pytest.fixture(scope="module")
def failing_embeddings() -> Iterator[Any]:
    from memhub.testing.openai_server import start_fake_openai_server

    with start_fake_openai_server() as fake:
        yield fake


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory, failing_embeddings: Any) -> Iterator[ServerHandle]:
    handle = launch_server(
        tmp_path_factory.mktemp("gomemory-keyed"),
        embedder="openai",
        embed_base_url=failing_embeddings.base_url,
        max_attempts=1,
        gomemory_tenant="go-team",
        gomemory_prefix="/compat/go/",
        gomemory_api_key="go-secret",
    )
    yield handle
    handle.stop()


@pytest.fixture
def keyed_client(keyed_server: ServerHandle) -> Iterator[GoMemoryClient]:
    sdk = GoMemoryClient(base_url=f"{keyed_server.base_url}/compat/go")
    sdk.session.headers["Authorization"] = "Bearer go-secret"
    yield sdk
    sdk.session.close()


def test_s6_failed_job_reports_failure_and_is_requeued_by_identical_resubmission(
    keyed_client: GoMemoryClient, failing_embeddings: Any
) -> None:
    user_id = keyed_client.create_user().user_id
    messages = [Message(role=Role.USER, content=f"My name is Peach {uuid.uuid4().hex}")]
    failing_embeddings.fail(True, status=400)  # not retried by the embedder: the job fails at once
    try:
        first = keyed_client.add_memory(user_id=user_id, messages=messages)
        failed = wait_done(keyed_client, first.req_id)
    finally:
        failing_embeddings.fail(False)
    assert failed.status == "failure"
    assert failed.error
    retry = keyed_client.add_memory(user_id=user_id, messages=messages)
    assert (retry.req_id, retry.msg) == (first.req_id, QUEUED)
    done = wait_done(keyed_client, retry.req_id)
    assert (done.status, done.error) == ("success", None)
    assert done.created_at == failed.created_at
    assert any(m.type == "core" for m in keyed_client.get_memory(user_id=user_id, query="Peach", threshold=0))


def test_retrieval_failure_is_an_api_error(keyed_client: GoMemoryClient, failing_embeddings: Any) -> None:
    failing_embeddings.fail(True, status=400)
    try:
        with pytest.raises(APIError) as caught:
            keyed_client.get_memory(user_id=str(uuid.uuid4()), query="anything")
    finally:
        failing_embeddings.fail(False)
    assert caught.value.status == 503  # Unavailable, as on every door (api/errors.py)
    assert caught.value.message


def test_bearer_key_is_required_when_configured(
    keyed_server: ServerHandle, keyed_client: GoMemoryClient, request: pytest.FixtureRequest
) -> None:
    anonymous = GoMemoryClient(base_url=f"{keyed_server.base_url}/compat/go")
    request.addfinalizer(anonymous.session.close)
    assert anonymous.health_check() == "Server is healthy!"  # liveness carries no data
    with pytest.raises(APIError) as caught:
        anonymous.create_user()
    assert caught.value.status == 401
    anonymous.session.headers["Authorization"] = "Bearer wrong"
    with pytest.raises(APIError) as caught:
        anonymous.get_status(str(uuid.uuid4()))
    assert caught.value.status == 401
    with pytest.raises(APIError) as caught:
        keyed_client.get_status(str(uuid.uuid4()))
    assert caught.value.status == 404  # past the door: the id is simply unknown
    uuid.UUID(keyed_client.create_user().user_id)


def test_prefix_is_configurable_and_default_prefix_is_free(keyed_server: ServerHandle) -> None:
    response = requests.get(f"{keyed_server.base_url}/gomemory/health", timeout=30)
    assert response.status_code == 404
    assert "error" in response.json()  # the native envelope: nothing is mounted there


# ---------------------------------------------------------------------------------------------------
# switching the mount on, and refusing to expose it


class _BrokenService:
    """Stands in for a service whose store is failing in a way nobody foresaw."""

    limits = Limits()

    def ensure_tenant(self, name: str) -> Any:
        return SimpleNamespace(id="tenant-id")

    def add_messages(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    def search(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")


def test_unexpected_failures_answer_the_protocols_500_texts() -> None:
    app = FastAPI()
    app.state.service = _BrokenService()
    app.include_router(create_router(Settings(gomemory_tenant="t")), prefix="/gomemory")
    body = {"userId": "u1", "messages": [{"role": "user", "content": "hi"}]}
    with TestClient(app, base_url="http://127.0.0.1") as http:  # a loopback connection, as in real use
        added = http.post("/gomemory/add_memory", json=body)
        got = http.post("/gomemory/get_memory", json={"userId": "u1", "query": "hi"})
    assert added.json() == {
        "Error": "Failed to queue memory insertion.",
        "Status": 500,
        "Message": "Failed to queue memory insertion.",
    }
    assert (got.status_code, got.json()["Message"]) == (500, "Memory Retrieval Failed!")


def _paths(settings: Settings) -> set[str]:
    return set(create_app(settings).openapi()["paths"])


def test_mount_is_off_without_a_tenant(tmp_path: Path) -> None:
    assert not any(p.startswith("/gomemory") for p in _paths(Settings(data=tmp_path)))
    on = _paths(Settings(data=tmp_path, gomemory_tenant="default"))
    assert {"/gomemory/health", "/gomemory/add_memory", "/gomemory/get_memory"} <= on
    moved = _paths(Settings(data=tmp_path, gomemory_tenant="default", gomemory_prefix="gm/"))
    assert "/gm/get_status/{req_id}" in moved


def test_the_start_up_log_says_the_gomemory_api_is_on_and_for_which_tenant(gm_server: ServerHandle) -> None:
    assert "GoMemory API on at /gomemory for tenant 'default' (no authentication" in gm_server.log()


def test_when_off_the_gomemory_prefix_answers_how_to_turn_it_on_in_its_shape(server: ServerHandle) -> None:
    """``server`` is the shared server, started without ``--gomemory-tenant``."""
    assert "GoMemory API on" not in server.log()
    for response in (
        requests.get(f"{server.base_url}/gomemory/health", timeout=10),
        requests.post(f"{server.base_url}/gomemory/add_memory", json={}, timeout=10),
    ):
        assert_error_shape(response, 404)
        assert "--gomemory-tenant" in response.json()["Message"]
    with pytest.raises(APIError, match="--gomemory-tenant"):
        GoMemoryClient(base_url=f"{server.base_url}/gomemory").create_user()
    assert "gomemory" not in requests.get(f"{server.base_url}/v1/nope", timeout=10).text


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_hosts_need_no_opt_in(host: str) -> None:
    check_exposure(Settings(host=host, gomemory_tenant="default"))


@pytest.mark.parametrize(
    "settings",
    [
        {"host": "0.0.0.0", "gomemory_allow_remote": True},
        {"host": "0.0.0.0", "gomemory_api_key": "k"},
        {"host": "192.168.1.5", "gomemory_tenant": None},
    ],
)
def test_remote_hosts_are_allowed_with_an_opt_in_or_key_or_when_off(settings: dict[str, Any]) -> None:
    check_exposure(Settings(**{"gomemory_tenant": "default", **settings}))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "memhub.example.com"])
def test_remote_hosts_are_refused_without_opt_in(host: str) -> None:
    with pytest.raises(InvalidInput, match="refusing to serve the GoMemory API"):
        check_exposure(Settings(host=host, gomemory_tenant="default"))


@pytest.mark.e2e  # runs `memhub serve` as a process
def test_serve_exits_with_a_clear_message_on_a_public_host(tmp_path: Path) -> None:
    result = run_memhub(
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        str(free_port()),
        "--data",
        str(tmp_path),
        "--gomemory-tenant",
        "default",
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    assert "refusing to serve the GoMemory API" in result.stderr
    assert "--gomemory-allow-remote" in result.stderr


def test_request_id_and_contextual_query_helpers() -> None:
    pairs = [("user", "a"), ("model", "b")]
    from memhub.core.models import MessageInput

    messages = [MessageInput(role=r, content=c) for r, c in pairs]
    assert request_id("u", messages) == spec_req_id("u", pairs)
    assert contextual_query(["First. Second!", "", "Third?"]) == "First. Second! Third?"
    long = ["x" * 300 + ".", "Old sentence.", "y" * 300 + "."]
    assert contextual_query(long) == "Old sentence. " + "y" * 300 + "."
    assert len(contextual_query(["z" * 2000])) == 500


# ---------------------------------------------------------------------------------------------------
# behaving like the product under its defaults: one everyday conversation, ten everyday questions

LIFE = [
    (
        "Hi! I'm setting up this assistant, so here is a bit about me. My name is Dana Whitfield.",
        "Nice to meet you, Dana!",
    ),
    (
        "I live in Leeds with my wife Elena, who is a secondary school teacher.",
        "Lovely, I'll keep that in mind.",
    ),
    ("We have two kids, Sofia who is 9 and Leo who is 6.", "Got it: Sofia and Leo."),
    ("I work as a software engineer at a logistics company.", "Thanks, that helps me tailor suggestions."),
    (
        "My manager is called Priya and we have a one-to-one every Monday.",
        "Noted, Monday one-to-ones with Priya.",
    ),
    (
        "I'm vegetarian and I'm allergic to cashews, so please keep that in mind for recipes.",
        "I will avoid cashews.",
    ),
    ("We adopted a beagle named Pickle last spring and he is very naughty.", "Pickle sounds like fun!"),
    ("I drive a blue 2018 Honda Civic but it's getting old.", "Civics last a long time."),
    (
        "I've been playing the cello for twenty years, I practise on Tuesday evenings.",
        "That's a lovely instrument.",
    ),
    ("I'm training for the Leeds half marathon in October.", "Good luck with the training!"),
    ("Every Saturday morning I swim at the leisure centre with Sofia.", "A great family routine."),
    (
        "We're flying to Lisbon for a week in June to celebrate our anniversary.",
        "Lisbon in June is beautiful.",
    ),
    (
        "My mother lives in Dublin and she is coming to stay with us in August.",
        "How nice that she's visiting.",
    ),
    ("I plan to buy a new road bike before the summer.", "I can help you compare bikes."),
    ("I prefer short answers with bullet points.", "I will answer briefly with bullet points."),
]
QUESTIONS = [
    ("What instrument do I play?", "cello"),
    ("Where are we going on holiday in June?", "Lisbon"),
    ("What car do I drive?", "Civic"),
    ("What is my dog called?", "Pickle"),
    ("Which race am I training for?", "marathon"),
    ("When do I go swimming?", "swim"),
    ("Who is my manager?", "Priya"),
    ("When is my mother visiting?", "Dublin"),
    ("What kind of bike do I want to buy?", "bike"),
    ("What am I allergic to?", "cashews"),
]
NEVER_MENTIONED = "Which cryptocurrencies do I hold in my portfolio?"


@pytest.fixture(scope="module")
def dana(base: str) -> str:
    sdk = GoMemoryClient(base_url=base)
    with sdk.session:
        user_id = sdk.create_user().user_id
        messages = [
            Message(role=role, content=text)
            for said, answered in LIFE
            for role, text in ((Role.USER, said), (Role.ASSISTANT, answered))
        ]
        add_and_wait(sdk, user_id, messages)
    return user_id


def test_default_threshold_returns_the_right_general_memory_in_the_top_three(
    client: GoMemoryClient, dana: str
) -> None:
    found = 0
    for question, needle in QUESTIONS:
        general = [
            m.memory_text for m in client.get_memory(user_id=dana, query=question) if m.type == "general"
        ]
        found += any(needle.lower() in text.lower() for text in general[:3])
    assert found >= 8, f"right general memory in the top 3 for {found} of {len(QUESTIONS)} questions"


def test_nothing_passes_the_default_threshold_for_a_topic_never_mentioned(
    client: GoMemoryClient, dana: str
) -> None:
    memories = client.get_memory(user_id=dana, query=NEVER_MENTIONED)
    assert [m.memory_text for m in memories if m.type == "general"] == []
    assert any(m.type == "core" for m in memories)  # the profile is still "always provided"


def test_assistant_turns_are_not_returned_as_the_users_memories(base: str, dana: str) -> None:
    said_by_assistant = {answered for _, answered in LIFE}
    for question, _ in QUESTIONS:
        items = raw_get(base, {"userId": dana, "query": question, "threshold": 0}).json()
        assert not {m["memory_text"] for m in items} & said_by_assistant


def test_core_is_the_stable_profile_and_plans_trips_and_events_are_general(base: str, dana: str) -> None:
    items = raw_get(base, {"userId": dana, "query": "tell me about myself", "threshold": 0}).json()
    core = [m["memory_text"] for m in items if m["type"] == "core"]
    for stable in ("Leeds", "Sofia", "software engineer", "Priya", "vegetarian", "cashews", "Pickle"):
        assert any(stable in text for text in core), f"no core fact about {stable}: {core}"
    for passing in ("Lisbon", "road bike", "marathon", "Saturday", "Civic"):
        assert not any(passing in text for text in core), f"{passing} is not a stable profile fact: {core}"
    bike = raw_get(base, {"userId": dana, "query": "buying a bike", "threshold": 0}).json()
    assert "User plans to buy a new road bike before the summer" in {
        m["memory_text"] for m in bike if m["type"] == "general"
    }


def test_empty_query_together_with_messages_is_rejected(base: str, dana: str) -> None:
    body = {"userId": dana, "query": "", "messages": [{"role": "user", "content": "hi"}]}
    assert_error_shape(raw_get(base, body), 400, "Provide exactly one of query or messages")
