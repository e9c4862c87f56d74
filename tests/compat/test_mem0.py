"""The real mem0 Python SDK (``mem0ai`` 2.2.1 from PyPI, sync and async) against a real ``memhub serve``.

The recipe of ``docs/compat/mem0.md``: ping (in the constructor), add with ``infer`` true and false, the
event polled until it succeeds, search with filters until the memory is found, get_all, get, update,
history, delete, users, delete_users, batches, what memhub refuses, and a second tenant's key. The
shared ``server`` fixture is one process for the session, so every test works with its own entity ids.
The SDK's telemetry is off and its config folder is a temporary one (both read at import time).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

os.environ["MEM0_TELEMETRY"] = "False"
os.environ.setdefault("MEM0_DIR", tempfile.mkdtemp(prefix="mem0-sdk-"))

import httpx
import pytest
from mem0 import AsyncMemoryClient, MemoryClient
from mem0.exceptions import MemoryError as Mem0Error
from mem0.exceptions import MemoryNotFoundError, ValidationError

from memhub.testing.chat_server import ChatScript
from memhub.testing.openai_server import start_fake_openai_server
from memhub.testing.rerank_server import RerankRoute
from support.server import ServerHandle, launch_server

PREFIX = "/mem0"
PROCESSING_BUDGET = 60.0


def _id(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def _host(server: ServerHandle) -> str:
    return server.base_url + PREFIX


@pytest.fixture
def mem0(server: ServerHandle) -> Iterator[MemoryClient]:
    client = MemoryClient(api_key=server.api_key, host=_host(server))
    yield client
    client.client.close()


def settle(client: MemoryClient, event_id: str) -> dict[str, Any]:
    """Poll ``GET /v1/event/{id}/`` (the documented way) until the add is done."""
    deadline = time.monotonic() + PROCESSING_BUDGET
    while True:
        response = client.client.get(f"/v1/event/{event_id}/")
        assert response.status_code == 200, response.text
        event: dict[str, Any] = response.json()
        if event["status"] in ("SUCCEEDED", "FAILED") or time.monotonic() > deadline:
            assert event["status"] == "SUCCEEDED", event
            return event
        time.sleep(0.05)


def verbatim(client: MemoryClient, text: str, **entities: Any) -> str:
    """``infer=False``: stored as sent, answered synchronously with the memory's id."""
    answer = client.add([{"role": "user", "content": text}], infer=False, **entities)
    assert answer["status"] == "SUCCEEDED", answer
    (result,) = answer["results"]
    assert result["data"]["memory"] == text and result["event"] == "ADD"
    memory_id: str = result["id"]
    return memory_id


# ---------------------------------------------------------------------------------------------------
# start-up and keys


def test_the_client_starts_with_a_memhub_key_and_refuses_a_wrong_one(server: ServerHandle) -> None:
    with httpx.Client() as http:
        client = MemoryClient(api_key=server.api_key, host=_host(server), client=http)
        assert client.org_id and client.project_id  # what /v1/ping/ answered
    with httpx.Client() as http, pytest.raises(ValueError, match="API key"):
        MemoryClient(api_key="mh_not-a-key", host=_host(server), client=http)


def test_the_token_scheme_is_what_authenticates_and_mem0_user_id_is_ignored(server: ServerHandle) -> None:
    with httpx.Client(base_url=_host(server), timeout=30) as http:
        ok = http.get("/v1/ping/", headers={"Authorization": f"Token {server.api_key}", "Mem0-User-ID": "x"})
        assert ok.status_code == 200 and ok.json()["status"] == "ok"
        missing = http.get("/v1/ping/")
        assert missing.status_code == 401 and "Token" in missing.json()["detail"]


# ---------------------------------------------------------------------------------------------------
# add


def test_add_with_infer_false_stores_each_message_verbatim(mem0: MemoryClient) -> None:
    user = _id("ver")
    answer = mem0.add(
        [
            {"role": "user", "content": "I just adopted a greyhound called Comet."},
            {"role": "assistant", "content": "Congratulations on Comet!"},
        ],
        user_id=user,
        infer=False,
        metadata={"channel": "web"},
    )
    assert answer["status"] == "SUCCEEDED"
    assert [r["data"]["memory"] for r in answer["results"]] == [
        "I just adopted a greyhound called Comet.",
        "Congratulations on Comet!",
    ]
    listed = mem0.get_all(filters={"user_id": user})
    assert listed["count"] == 2  # no facts derived: verbatim means verbatim
    assert {m["metadata"]["channel"] for m in listed["results"]} == {"web"}


@pytest.mark.e2e  # starts its own server (with an LLM extractor)
def test_infer_false_and_text_updates_never_call_the_llm_extractor(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """mem0's ``infer=False`` stores the messages as they are: with an LLM extractor configured (a fake
    chat endpoint on loopback), neither such an add nor a text update sends it a request; an inferred
    add does, and its fact comes from the model."""
    fact = {"facts": [{"text": "User owns a kayak named Otter", "core": False, "turn": 0}]}
    with start_fake_openai_server() as fake:
        chat = ChatScript(fake)
        handle = launch_server(
            tmp_path_factory.mktemp("mem0-llm"), llm_base_url=fake.base_url, llm_model="fake-chat"
        )
        try:
            with httpx.Client() as http:
                client = MemoryClient(api_key=handle.api_key, host=_host(handle), client=http)
                user = _id("llm")
                memory_id = verbatim(client, "I keep my kayak Otter at the lake.", user_id=user)
                client.update(memory_id, text="I keep my kayak Otter at the river.")
                calls_without_inference = len(chat.calls)
                chat.reply(json.dumps(fact))
                answer = client.add("My kayak is called Otter.", user_id=user)
                event = settle(client, answer["event_id"])
        finally:
            handle.stop()
    assert calls_without_inference == 0
    assert len(chat.calls) == 1 and "My kayak is called Otter." in chat.calls[0][-1]["content"]
    assert "User owns a kayak named Otter" in [r["data"]["memory"] for r in event["results"]]


def test_add_queues_extraction_and_the_event_reports_the_memories(mem0: MemoryClient) -> None:
    user = _id("inf")
    answer = mem0.add("I live in Lisbon and I work as a ceramicist.", filters={"user_id": user})
    assert answer["status"] == "PENDING" and answer["event_id"]
    event = settle(mem0, answer["event_id"])
    texts = [r["data"]["memory"] for r in event["results"]]
    assert "I live in Lisbon and I work as a ceramicist." in texts
    assert any("Lisbon" in text and text.startswith("User") for text in texts)  # memhub's extraction


def test_add_needs_an_entity_and_refuses_what_memhub_cannot_honour(mem0: MemoryClient) -> None:
    with pytest.raises(ValidationError, match="user_id, agent_id, app_id or run_id"):
        mem0.add("No owner at all.", infer=False)
    with pytest.raises(Mem0Error, match=r"expiring memories.*not supported by memhub"):
        mem0.add("Forget me tomorrow.", user_id=_id("exp"), expiration_date="2030-01-01")
    with pytest.raises(Mem0Error, match="not supported by memhub"):
        mem0.add("Sort me.", user_id=_id("cat"), custom_categories=[{"pets": "animals"}])


# ---------------------------------------------------------------------------------------------------
# search


def test_search_finds_the_users_memory_with_a_score_in_0_1_and_no_one_elses(mem0: MemoryClient) -> None:
    alice, bob = _id("alice"), _id("bob")
    verbatim(mem0, "My sister lives in Porto and teaches chemistry.", user_id=alice)
    verbatim(mem0, "My sister lives in Porto and teaches chemistry.", user_id=bob)
    found = mem0.search("where does my sister live?", filters={"user_id": alice})["results"]
    assert found and found[0]["memory"] == "My sister lives in Porto and teaches chemistry."
    assert {hit["user_id"] for hit in found} == {alice}
    assert all(0.0 <= hit["score"] <= 1.0 for hit in found)


def test_a_users_memories_from_another_door_are_that_users_memories_here(
    server: ServerHandle, mem0: MemoryClient
) -> None:
    """The same memhub user through the native API and through mem0: one user, one set of memories."""
    user = _id("shared")
    with server.client() as native:
        body = {"messages": [{"role": "user", "content": "My allotment plot is number 42."}], "user_id": user}
        job = native.post("/v1/memories", json=body).json()["job_id"]
        deadline = time.monotonic() + PROCESSING_BUDGET
        while native.get(f"/v1/jobs/{job}").json()["status"] != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    found = mem0.search("which allotment plot?", filters={"user_id": user})["results"]
    hit = next(h for h in found if h["memory"] == "My allotment plot is number 42.")
    assert {h["user_id"] for h in found} == {user}
    assert mem0.get_all(filters={"AND": [{"user_id": user}]})["count"] >= 1
    updated = mem0.update(hit["id"], metadata={"plot": 42})
    assert updated["user_id"] == user and updated["metadata"] == {"plot": 42}


def test_a_users_search_finds_what_every_run_of_theirs_was_told(mem0: MemoryClient) -> None:
    """Memory is the user's, not the run's: ``run_id`` narrows only when it is asked for."""
    user, monday, friday = _id("runs"), _id("r-mon"), _id("r-fri")
    verbatim(mem0, "My bike is a green Brompton.", user_id=user, run_id=monday)
    verbatim(mem0, "I ride my bike to the office on Fridays.", user_id=user, run_id=friday)
    everything = mem0.search("tell me about my bike", filters={"user_id": user}, threshold=0.0)["results"]
    assert {h["run_id"] for h in everything} == {monday, friday}
    one_run = mem0.search("my bike", filters={"AND": [{"user_id": user}, {"run_id": friday}]}, threshold=0.0)
    assert [h["memory"] for h in one_run["results"]] == ["I ride my bike to the office on Fridays."]


def test_search_filters_combine_and_or_not_with_the_documented_operators(mem0: MemoryClient) -> None:
    user, agent = _id("flt"), _id("agent")
    verbatim(mem0, "Book the Tuesday yoga class.", user_id=user, metadata={"topic": "Fitness", "prio": 1})
    verbatim(mem0, "Book the Thursday yoga retreat.", user_id=user, agent_id=agent, metadata={"prio": 5})
    verbatim(mem0, "Book the Friday yoga workshop.", agent_id=agent, metadata={"topic": "work", "prio": 3})

    def hits(filters: dict[str, Any]) -> set[str]:
        results = mem0.search("book a yoga session", filters=filters, threshold=0.0)["results"]
        return {r["memory"].split()[2] for r in results}

    assert hits({"user_id": user}) == {"Tuesday", "Thursday"}
    assert hits({"agent_id": agent}) == {"Thursday", "Friday"}
    assert hits({"AND": [{"user_id": user}, {"agent_id": agent}]}) == {"Thursday"}
    assert hits({"OR": [{"user_id": user}, {"agent_id": agent}]}) == {"Tuesday", "Thursday", "Friday"}
    assert hits({"AND": [{"agent_id": agent}, {"NOT": [{"user_id": user}]}]}) == {"Friday"}
    assert hits({"AND": [{"user_id": user}, {"agent_id": "*"}]}) == {"Thursday"}
    assert hits({"agent_id": agent, "metadata": {"prio": {"gte": 4}}}) == {"Thursday"}
    assert hits({"OR": [{"user_id": user}, {"agent_id": agent}], "metadata": {"prio": {"in": [1, 3]}}}) == {
        "Tuesday",
        "Friday",
    }
    assert hits({"user_id": user, "metadata": {"topic": {"icontains": "FIT"}}}) == {"Tuesday"}
    assert hits({"agent_id": agent, "metadata": {"topic": {"ne": "work"}}}) == {"Thursday"}
    assert hits({"agent_id": agent, "metadata": {"prio": {"lt": 5, "gt": 1}}}) == {"Friday"}


def test_search_honours_top_k_and_threshold(mem0: MemoryClient) -> None:
    user = _id("topk")
    for day in ("Monday", "Tuesday", "Wednesday"):
        verbatim(mem0, f"On {day} I water the tomato plants.", user_id=user)
    everything = mem0.search("watering the tomatoes", filters={"user_id": user}, threshold=0.0)["results"]
    assert len(everything) == 3
    assert len(mem0.search("watering the tomatoes", filters={"user_id": user}, top_k=2)["results"]) == 2
    best = max(hit["score"] for hit in everything)
    above = mem0.search("watering the tomatoes", filters={"user_id": user}, threshold=min(1.0, best + 1e-6))
    assert above["results"] == []


def test_search_refuses_what_memhub_cannot_do_rather_than_ignoring_it(mem0: MemoryClient) -> None:
    user = _id("refuse")
    with pytest.raises(ValidationError, match="rerank=true needs a reranker"):
        mem0.search("anything", filters={"user_id": user}, rerank=True)
    with pytest.raises(Mem0Error, match="filtering by created_at is not supported by memhub"):
        mem0.search("anything", filters={"AND": [{"user_id": user}, {"created_at": {"gte": "2024-01-01"}}]})
    with pytest.raises(ValidationError, match="unknown operator 'between'"):
        mem0.search("anything", filters={"user_id": user, "metadata": {"n": {"between": [1, 2]}}})


@pytest.mark.e2e  # starts its own server (with a reranker)
def test_rerank_orders_the_hits_by_the_servers_reranker(tmp_path_factory: pytest.TempPathFactory) -> None:
    """With a reranker configured (a fake rerank endpoint on loopback), ``rerank=True`` is its order."""
    texts = (
        "My cat Miso sleeps on the radiator.",
        "I keep two goldfish in the kitchen.",
        "Our dog Rex barks.",
    )
    with start_fake_openai_server() as fake:
        route = RerankRoute(fake, {"goldfish": 4.0, "Rex": 1.0, "Miso": -2.0})
        handle = launch_server(
            tmp_path_factory.mktemp("mem0-rerank"),
            rerank_base_url=fake.base_url,
            rerank_model="fake-reranker",
        )
        try:
            with httpx.Client() as http:
                client = MemoryClient(api_key=handle.api_key, host=_host(handle), client=http)
                user = _id("rr")
                for text in texts:
                    verbatim(client, text, user_id=user)
                ask = {"filters": {"user_id": user}, "threshold": 0.0}
                fused = client.search("which pets live here?", **ask)["results"]
                calls = len(route.calls)
                reranked = client.search("which pets live here?", rerank=True, **ask)["results"]
        finally:
            handle.stop()
    assert len(route.calls) == calls + 1
    assert [hit["memory"] for hit in reranked] == [texts[1], texts[2], texts[0]]
    assert {h["id"]: h["score"] for h in reranked} == {h["id"]: h["score"] for h in fused}  # still similarity


# ---------------------------------------------------------------------------------------------------
# listing, one memory


def test_get_all_pages_with_count_next_and_previous(mem0: MemoryClient) -> None:
    user = _id("pages")
    for n in range(5):
        verbatim(mem0, f"Reading list entry number {n}.", user_id=user)
    first = mem0.get_all(filters={"user_id": user}, page=1, page_size=2)
    assert first["count"] == 5 and len(first["results"]) == 2
    assert first["previous"] is None and "page=2" in first["next"]
    last = mem0.get_all(filters={"user_id": user}, page=3, page_size=2)
    assert len(last["results"]) == 1 and last["next"] is None and "page=2" in last["previous"]
    seen = [
        m["id"]
        for p in (1, 2, 3)
        for m in mem0.get_all(filters={"user_id": user}, page=p, page_size=2)["results"]
    ]
    assert len(set(seen)) == 5


def test_get_update_and_history_follow_a_memory_through_its_versions(mem0: MemoryClient) -> None:
    user = _id("upd")
    memory_id = verbatim(mem0, "My favourite tea is sencha.", user_id=user, metadata={"kind": "taste"})
    got = mem0.get(memory_id)
    assert got["memory"] == "My favourite tea is sencha." and got["metadata"] == {"kind": "taste"}

    updated = mem0.update(memory_id, text="My favourite tea is genmaicha.")
    assert updated["memory"] == "My favourite tea is genmaicha." and updated["metadata"] == {"kind": "taste"}
    assert mem0.get(memory_id)["memory"] == "My favourite tea is genmaicha."  # the old id still works
    mem0.update(memory_id, metadata={"kind": "drink", "checked": True})
    assert mem0.get(memory_id)["metadata"] == {"kind": "drink", "checked": True}

    history = mem0.history(memory_id)
    assert [(h["event"], h["old_memory"], h["new_memory"]) for h in history] == [
        ("ADD", None, "My favourite tea is sencha."),
        ("UPDATE", "My favourite tea is sencha.", "My favourite tea is genmaicha."),
    ]
    assert history[0]["input"] == [{"role": "user", "content": "My favourite tea is sencha."}]
    assert history[1]["input"] == [{"role": "user", "content": "My favourite tea is genmaicha."}]
    from_new_id = mem0.history(updated["id"])  # the same versions, found from the newer id
    assert [(h["event"], h["new_memory"]) for h in from_new_id] == [
        (h["event"], h["new_memory"]) for h in history
    ]
    listed = mem0.get_all(filters={"user_id": user})["results"]
    assert [m["memory"] for m in listed] == ["My favourite tea is genmaicha."]  # latest only
    both = mem0.get_all(filters={"user_id": user}, latest_only=False)["results"]
    assert len(both) == 2


def test_delete_removes_a_memory_and_its_history_records_the_delete(mem0: MemoryClient) -> None:
    user = _id("del")
    memory_id = verbatim(mem0, "The spare key is under the blue pot.", user_id=user)
    mem0.update(memory_id, text="The spare key is with the neighbour.")
    assert mem0.delete(memory_id) == {"message": "Memory deleted successfully!"}
    # memhub deletes for real: the deleted version's text is gone, the version before it says so
    history = mem0.history(memory_id)
    assert [(h["event"], h["old_memory"]) for h in history] == [
        ("ADD", None),
        ("DELETE", "The spare key is under the blue pot."),
    ]
    with pytest.raises(MemoryNotFoundError):
        mem0.get(memory_id)
    assert mem0.get_all(filters={"user_id": user})["count"] == 0

    linked = verbatim(mem0, "Gate code is 1234.", user_id=user)
    mem0.update(linked, text="Gate code is 4321.")
    assert mem0.delete(linked, delete_linked=True)["cascade_count"] == 1
    with pytest.raises(MemoryNotFoundError):
        mem0.history(linked)


def test_delete_all_forgets_what_the_entity_ids_select(mem0: MemoryClient) -> None:
    user, agent = _id("da"), _id("da-agent")
    verbatim(mem0, "Keep the receipts for the bike.", user_id=user)
    verbatim(mem0, "The agent prefers short answers.", agent_id=agent)
    verbatim(mem0, "Shared note between user and agent.", user_id=user, agent_id=agent)
    mem0.delete_all(agent_id=agent)
    assert [m["memory"] for m in mem0.get_all(filters={"user_id": user})["results"]] == [
        "Keep the receipts for the bike."
    ]
    mem0.delete_all(user_id=user)
    assert mem0.get_all(filters={"user_id": user})["count"] == 0
    with pytest.raises(ValidationError, match="delete_all needs one of"):
        mem0.delete_all()


def test_users_lists_entities_and_delete_users_forgets_them(mem0: MemoryClient) -> None:
    user, agent, run = _id("ent"), _id("ent-agent"), _id("ent-run")
    verbatim(mem0, "Plan the trip to Kyoto.", user_id=user, run_id=run)
    verbatim(mem0, "Agent-only memory.", agent_id=agent)
    listed = {(e["type"], e["name"]) for e in mem0.users()["results"]}
    assert {("user", user), ("agent", agent), ("run", run)} <= listed
    mem0.delete_users(run_id=run)
    assert mem0.get_all(filters={"user_id": user})["count"] == 0
    mem0.delete_users(agent_id=agent)
    mem0.delete_users(user_id=user)
    listed = {(e["type"], e["name"]) for e in mem0.users()["results"]}
    assert not listed & {("user", user), ("agent", agent), ("run", run)}
    with pytest.raises(MemoryNotFoundError):
        mem0.delete_users(user_id=user)


def test_reset_forgets_every_entity_of_the_tenant_and_only_that_tenant(
    server: ServerHandle, mem0: MemoryClient
) -> None:
    kept = verbatim(mem0, "This memory belongs to another tenant than the reset.", user_id=_id("keep"))
    with httpx.Client() as http:
        client = MemoryClient(api_key=server.create_key(_id("reset")), host=_host(server), client=http)
        user, run = _id("r-user"), _id("r-run")
        verbatim(client, "A run of the user.", user_id=user, run_id=run)
        verbatim(client, "Only a run.", run_id=_id("r-run-only"))
        verbatim(client, "Only an agent.", agent_id=_id("r-agent"))
        assert len(client.users()["results"]) == 4  # two runs, a user, an agent
        client.reset()
        assert client.users()["results"] == []
        assert client.get_all(filters={"user_id": "*"})["count"] == 0
    assert mem0.get(kept)["memory"] == "This memory belongs to another tenant than the reset."


def test_batch_update_and_delete(mem0: MemoryClient) -> None:
    user = _id("batch")
    first = verbatim(mem0, "Buy oat milk.", user_id=user)
    second = verbatim(mem0, "Buy rye bread.", user_id=user)
    answer = mem0.batch_update(
        [{"memory_id": first, "text": "Buy soy milk."}, {"memory_id": second, "metadata": {"shop": "bakery"}}]
    )
    assert answer == {"message": "Successfully updated 2 memories"}
    assert mem0.get(first)["memory"] == "Buy soy milk."
    assert mem0.get(second)["metadata"] == {"shop": "bakery"}
    with pytest.raises(MemoryNotFoundError):
        mem0.batch_delete([{"memory_id": first}, {"memory_id": str(uuid.uuid4())}])
    assert mem0.get(first)["memory"] == "Buy soy milk."  # a bad id in the batch changed nothing
    assert mem0.batch_delete([{"memory_id": first}, {"memory_id": second}]) == {
        "message": "Successfully deleted 2 memories"
    }
    assert mem0.get_all(filters={"user_id": user})["count"] == 0


def test_update_and_delete_all_refuse_what_they_cannot_honour(mem0: MemoryClient) -> None:
    user = _id("noop")
    memory_id = verbatim(mem0, "Water the fern on Fridays.", user_id=user)
    with pytest.raises(Mem0Error, match=r"changing a memory's time.*not supported by memhub"):
        mem0.update(memory_id, timestamp=1700000000)
    answer = mem0.client.delete("/v1/memories/", params={"user_id": user, "metadata": '{"room": "hall"}'})
    assert answer.status_code == 501 and "deleting by metadata" in answer.json()["detail"]
    assert mem0.get(memory_id)["memory"] == "Water the fern on Fridays."  # nothing was deleted


# ---------------------------------------------------------------------------------------------------
# what memhub does not have, and tenants


@pytest.mark.parametrize(
    ("call", "feature"),
    [
        (lambda c: c.get_summary(filters={"user_id": "u"}), "summaries"),
        (lambda c: c.feedback(memory_id=str(uuid.uuid4()), feedback="POSITIVE"), "feedback"),
        (lambda c: c.create_memory_export(schema="{}", user_id="u"), "memory exports"),
        (lambda c: c.get_webhooks(project_id="p"), "webhooks"),
        (lambda c: c.project.get(), "organisations and projects"),
        (lambda c: c.get_profile("u"), "user profiles"),
    ],
)
def test_what_memhub_does_not_have_is_refused_by_name(mem0: MemoryClient, call: Any, feature: str) -> None:
    with pytest.raises(Exception, match=f"{feature}.*not supported by memhub"):
        call(mem0)


def test_another_tenants_key_sees_and_changes_nothing(server: ServerHandle, mem0: MemoryClient) -> None:
    user = _id("iso")
    memory_id = verbatim(mem0, "The vault combination is 31-7-12.", user_id=user)
    http = httpx.Client()
    request_cleanup = http.close
    other = MemoryClient(api_key=server.create_key(_id("tenant")), host=_host(server), client=http)
    assert other.search("vault combination", filters={"user_id": user}, threshold=0.0)["results"] == []
    assert other.get_all(filters={"user_id": user})["count"] == 0
    for call in (other.get, other.history, other.delete):
        with pytest.raises(MemoryNotFoundError):
            call(memory_id)
    with pytest.raises(MemoryNotFoundError):
        other.update(memory_id, text="overwritten")
    with pytest.raises(MemoryNotFoundError):
        other.delete_users(user_id=user)
    assert mem0.get(memory_id)["memory"] == "The vault combination is 31-7-12."
    request_cleanup()


# ---------------------------------------------------------------------------------------------------
# the async client


def test_the_async_client_runs_the_everyday_flow(server: ServerHandle) -> None:
    async def flow() -> None:
        async with AsyncMemoryClient(api_key=server.api_key, host=_host(server)) as client:
            user = _id("async")
            added = await client.add("I keep my bike in the cellar.", user_id=user, infer=False)
            memory_id = added["results"][0]["id"]
            queued = await client.add("My bike is a red gravel bike.", filters={"user_id": user})
            assert queued["status"] == "PENDING"
            deadline = time.monotonic() + PROCESSING_BUDGET
            while (await client.async_client.get(f"/v1/event/{queued['event_id']}/")).json()[
                "status"
            ] != "SUCCEEDED":
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            found = (await client.search("where is the bike kept?", filters={"user_id": user}))["results"]
            assert "I keep my bike in the cellar." in [hit["memory"] for hit in found]
            await client.update(memory_id, text="I keep my bike in the hallway.")
            assert (await client.get(memory_id))["memory"] == "I keep my bike in the hallway."
            assert [h["event"] for h in await client.history(memory_id)] == ["ADD", "UPDATE"]
            assert (await client.get_all(filters={"user_id": user}))["count"] >= 2
            assert any(e["name"] == user for e in (await client.users())["results"])
            await client.delete(memory_id)
            await client.delete_users(user_id=user)
            assert (await client.get_all(filters={"user_id": user}))["count"] == 0

    asyncio.run(flow())
