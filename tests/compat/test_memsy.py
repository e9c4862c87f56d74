"""The real ``memsy==0.3.5`` SDK from PyPI, unmodified, against a real ``memhub serve`` process.

Follows the test recipe of ``docs/compat/memsy.md`` §6 (the ``test_sN_…`` names give the step), with
the SDK's own classes deciding what an error is. Each group of tests works in its own tenant (= Memsy
org) on the shared server, so the counts it checks are its own: ``my-org`` for the recipe, one more for
paging, one for the async client. The settings (rate limit, stub ``clear``, a moved mount) get servers
of their own. Only the 60-second dedup window is checked in-process, where a test can move the clock.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from memsy import (
    AsyncMemsyClient,
    AuthenticationError,
    AuthorizationError,
    EventPayload,
    MemsyAPIError,
    MemsyClient,
)
from memsy.models import StatusResponse

from memhub.api import create_app
from memhub.settings import Settings
from support.embedders import HashEmbedder
from support.polling import apoll_until, poll_until
from support.server import ServerHandle, launch_server

PREFIX = Settings().memsy_prefix
ORG = "my-org"
SORTS = ("observed_at_desc", "observed_at_asc", "strength_desc", "confidence_desc", "created_at_desc")
ACTOR_SORTS = ("first_memory_desc", "first_memory_asc", "last_memory_desc", "actor_id_asc")


def memsy_url(server: ServerHandle) -> str:
    return f"{server.base_url}{PREFIX}"


def client_for(server: ServerHandle, key: str, **kwargs: Any) -> MemsyClient:
    return MemsyClient(base_url=memsy_url(server), api_key=key, max_retries=1, retry_backoff=0.01, **kwargs)


def wait_processed(client: MemsyClient, event_ids: list[str], timeout: float = 30.0) -> StatusResponse:
    """Poll ``status`` the way Memsy's docs do, until nothing is pending."""

    def nothing_pending() -> StatusResponse | None:
        status = client.status(event_ids)
        return None if status.pending_ids else status

    return poll_until(
        nothing_pending, timeout=timeout, interval=0.1, message=f"events still pending: {event_ids}"
    )


@dataclass
class SteppedClock:
    """A clock the test moves by hand."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


def assert_memsy_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Memsy's error shape: ``{"detail": {"error": code, "message": str, ...}}`` and nothing else."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"detail"}, body
    detail: dict[str, Any] = body["detail"]
    assert detail["error"] == code, detail
    assert isinstance(detail["message"], str) and detail["message"]
    return detail


# ---------------------------------------------------------------------------------------------------
# fixtures: the recipe's world in tenant my-org


@dataclass
class World:
    """What step 3 ingested: ``ids`` are the three u1/s1 events; ``u2`` and ``s2`` the extra two."""

    ids: list[str]
    u2: str
    s2: str


def recipe_events() -> list[EventPayload]:
    return [
        EventPayload(actor_id="u1", session_id="s1", kind="user_message", content="I like green tea."),
        EventPayload(
            actor_id="u1",
            session_id="s1",
            kind="assistant_message",
            content="Noted: you drink green tea every morning.",
            role_id="r1",
            team_id="t1",
            ts="2026-03-15T14:22:10Z",
            metadata=json.dumps({"plan": "pro"}),
        ),
        EventPayload(
            actor_id="u1",
            session_id="s1",
            kind="user_message",
            content="I live in Berlin.",
            metadata="not json",
        ),
    ]


@pytest.fixture(scope="module")
def key(server: ServerHandle) -> str:
    return server.create_key(ORG)


@pytest.fixture
def c(server: ServerHandle, key: str) -> Iterator[MemsyClient]:
    with client_for(server, key) as client:
        yield client


@pytest.fixture(scope="module")
def world(server: ServerHandle, key: str) -> World:
    with client_for(server, key) as client:
        ids = client.ingest(recipe_events()).event_ids
        u2 = client.ingest([EventPayload("u2", "s9", "user_message", "I like black coffee.")]).event_ids[0]
        s2 = client.ingest(
            [EventPayload("u1", "s2", "user_message", "I like iced tea in summer.")]
        ).event_ids[0]
        wait_processed(client, [*ids, u2, s2])
    return World(ids, u2, s2)


# ---------------------------------------------------------------------------------------------------
# 1-2: health and authentication


def test_s1_health_needs_no_key_and_closes_with_the_context(server: ServerHandle) -> None:
    with MemsyClient(base_url=memsy_url(server), api_key="msy_whatever") as h:
        health = h.health()
        assert health.status == "ok"
        assert health.components == {"database": "ok", "queue": "ok"}
    assert h._client.is_closed


def test_s1_health_reports_the_version(c: MemsyClient) -> None:
    health = c.health()
    assert health.version
    assert health.usage is not None and health.usage.plan == "self-hosted"


def test_s2_bad_key_is_authentication_error(server: ServerHandle) -> None:
    with client_for(server, "msy_bad") as bad, pytest.raises(AuthenticationError) as caught:
        bad.search("x")
    assert caught.value.status_code == 401
    assert caught.value.error_code == "invalid_api_key"


def test_s2_missing_key_is_401_not_403(server: ServerHandle) -> None:
    with httpx.Client(base_url=memsy_url(server)) as raw:
        assert_memsy_error(raw.post("/search", json={"query": "x"}), 401, "invalid_api_key")
        wrong_scheme = raw.post("/search", json={"query": "x"}, headers={"Authorization": "Basic abc"})
        assert_memsy_error(wrong_scheme, 401, "invalid_api_key")


# ---------------------------------------------------------------------------------------------------
# 3-5: ingest, validation, status


def test_s3_ingest_answers_ids_in_order_and_deduplicates(c: MemsyClient, world: World) -> None:
    assert len(world.ids) == 3 and len(set(world.ids)) == 3
    again = c.ingest([recipe_events()[0]])
    assert again.event_ids == [world.ids[0]]
    assert again.usage is not None and again.usage.plan == "self-hosted"
    batch = c.ingest([recipe_events()[1], recipe_events()[0], recipe_events()[1]])
    assert batch.event_ids == [world.ids[1], world.ids[0], world.ids[1]]
    assert world.u2 not in world.ids and world.s2 not in world.ids


def test_s3_identical_events_inside_one_new_batch_share_one_id(c: MemsyClient) -> None:
    event = EventPayload("u3", "s3", "app_event", f"opened settings {uuid.uuid4()}")
    first, second, other = c.ingest(
        [event, event, EventPayload("u3", "s3", "tool_result", event.content)]
    ).event_ids
    assert first == second != other


def test_s3_ingest_stores_events_before_answering(c: MemsyClient) -> None:
    ids = c.ingest([EventPayload("u3", "s3", "user_message", f"I like chess {uuid.uuid4()}")]).event_ids
    status = c.status(ids)
    assert status.total == 1
    assert status.statuses is not None and status.statuses[ids[0]] in ("pending", "processing", "completed")


@pytest.mark.parametrize(
    "event",
    [
        EventPayload("u1", "s1", "chat", "hello"),
        EventPayload("u1", "s1", "user_message", "   "),
        EventPayload("u1", "s1", "user_message", "x" * 8000),
        EventPayload("", "s1", "user_message", "hello"),
        EventPayload("u1", " ", "user_message", "hello"),
        EventPayload("a" * 257, "s1", "user_message", "hello"),
        EventPayload("u1", "s1", "user_message", "hello", metadata="x" * 4097),
        EventPayload("u1", "s1", "user_message", "hello", ts="yesterday"),
    ],
    ids=[
        "kind",
        "blank-content",
        "long-content",
        "empty-actor",
        "blank-session",
        "long-actor",
        "metadata",
        "ts",
    ],
)
def test_s4_invalid_events_are_422(c: MemsyClient, event: EventPayload) -> None:
    with pytest.raises(MemsyAPIError) as caught:
        c.ingest([event])
    assert caught.value.status_code == 422
    assert caught.value.error_code == "validation_error"
    assert isinstance(caught.value.detail, str) and caught.value.detail


def test_s4_empty_and_oversized_batches_are_422(c: MemsyClient) -> None:
    for events in ([], [EventPayload("u1", "s1", "user_message", "hi")] * 1001):
        with pytest.raises(MemsyAPIError) as caught:
            c.ingest(events)
        assert caught.value.status_code == 422


def test_s4_limits_are_inclusive(c: MemsyClient) -> None:
    edge = EventPayload("u3", "s3", "user_message", "y" * 7999, metadata="m" * 4096)
    assert len(c.ingest([edge]).event_ids) == 1


def test_s4_malformed_json_is_400_in_memsy_shape(server: ServerHandle, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with httpx.Client(base_url=memsy_url(server), headers=headers) as raw:
        assert_memsy_error(raw.post("/ingest", content=b'{"events": ['), 400, "bad_request")
        detail = assert_memsy_error(
            raw.post("/ingest", json={"events": [{"kind": "chat"}]}), 422, "validation_error"
        )
        assert detail["errors"] and all("loc" in e and "msg" in e for e in detail["errors"])


def test_s5_status_partitions_and_completes(c: MemsyClient, world: World) -> None:
    status = c.status(world.ids)
    assert set(status.completed_ids + status.failed_ids + status.pending_ids) == set(world.ids)
    assert status.total == 3
    assert status.completed_ids == world.ids
    assert status.statuses == dict.fromkeys(world.ids, "completed")


def test_s5_unknown_ids_fail_as_not_found(c: MemsyClient, world: World) -> None:
    status = c.status(["nope", world.ids[0], "nope"])
    assert status.failed_ids == ["nope"]
    assert status.completed_ids == [world.ids[0]]
    assert status.total == 2
    assert status.statuses == {"nope": "not_found", world.ids[0]: "completed"}
    assert c.status([]).total == 0


def test_s5_another_orgs_event_is_not_found(server: ServerHandle, world: World) -> None:
    with client_for(server, server.create_key("stranger-org")) as stranger:
        assert stranger.status(world.ids[:1]).statuses == {world.ids[0]: "not_found"}


def test_s5_too_many_ids_is_422(c: MemsyClient) -> None:
    with pytest.raises(MemsyAPIError) as caught:
        c.status([f"id{i}" for i in range(501)])
    assert caught.value.status_code == 422


# ---------------------------------------------------------------------------------------------------
# 6: search


def test_s6_search_finds_the_actors_memories_ranked(c: MemsyClient, world: World) -> None:
    results = c.search("what does the user drink?", actor_id="u1").results
    assert results
    for r in results:
        assert isinstance(r.id, str) and isinstance(r.content, str)
        assert 0.0 <= r.score <= 1.0
        assert r.metadata is not None and r.metadata["actor_id"] == "u1"
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert any("tea" in r.content.lower() for r in results)
    assert all("coffee" not in r.content for r in results)


def test_s6_threshold_drops_weaker_results(c: MemsyClient, world: World) -> None:
    assert all(r.score >= 0.99 for r in c.search("what does the user drink?", threshold=0.99).results)
    best = c.search("green tea", actor_id="u1").results[0].score  # a relevance probability, see README
    loose = c.search("green tea", actor_id="u1", threshold=best).results
    assert loose and all(r.score >= best for r in loose)
    assert c.search("green tea", actor_id="u1", threshold=7).results == []  # clamped to 1.0


def test_s6_source_events_and_metadata_are_the_real_provenance(c: MemsyClient, world: World) -> None:
    results = c.search(
        "green tea Berlin", actor_id="u1", session_id="s1", limit=20, include_source_events=True
    )
    by_event: dict[str, Any] = {}
    for r in results.results:
        assert r.source_events and r.source_event_ids == [e.event_id for e in r.source_events]
        assert r.source_events[0].event_id in world.ids
        for entry in r.source_metadata:
            by_event[entry["event_id"]] = entry
    assert by_event[world.ids[1]] == {"event_id": world.ids[1], "metadata": {"plan": "pro"}}
    assert by_event[world.ids[2]] == {"event_id": world.ids[2], "raw": "not json"}
    assistant = next(r for r in results.results if r.source_events[0].event_id == world.ids[1])
    source = assistant.source_events[0]
    assert (source.kind, source.content) == ("assistant_message", "Noted: you drink green tea every morning.")
    assert source.ts == "2026-03-15T14:22:10.000Z"
    assert assistant.observed_at == "2026-03-15T14:22:10.000Z"
    fact = next(r for r in results.results if r.type == "fact" and "tea" in r.content)
    assert fact.source_events[0].content == "I like green tea." and fact.kind == "semantic"


def test_s6_session_scoping(c: MemsyClient, world: World) -> None:
    inside = c.search("tea", actor_id="u1", session_id="s1", limit=50).results
    assert inside and {r.session_id for r in inside} <= {"s1", None}
    outside = c.search("tea", actor_id="u1", exclude_session_id="s1", limit=50).results
    assert outside and all(r.session_id != "s1" for r in outside)
    assert any(r.session_id == "s2" for r in outside)
    both_empty = c.search("tea", actor_id="u1", session_id="", exclude_session_id="s1", limit=50).results
    assert [r.id for r in both_empty] == [r.id for r in outside]


def test_s6_an_actors_memories_of_every_session_are_found_without_a_session(
    c: MemsyClient, world: World
) -> None:
    """Memory is the actor's, not the session's: no ``session_id`` searches all their conversations."""
    found = c.search("tea", actor_id="u1", limit=50).results
    assert {"s1", "s2"} <= {r.session_id for r in found}
    assert all(r.metadata["actor_id"] == "u1" for r in found)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"session_id": "s1", "exclude_session_id": "s2"},
        {"session_id": "bad id"},
        {"exclude_session_id": "x" * 257},
        {"limit": 0},
        {"limit": 101},
    ],
)
def test_s6_invalid_searches_are_422(c: MemsyClient, kwargs: dict[str, Any]) -> None:
    with pytest.raises(MemsyAPIError) as caught:
        c.search("tea", **kwargs)
    assert caught.value.status_code == 422


def test_s6_empty_query_is_422(c: MemsyClient) -> None:
    with pytest.raises(MemsyAPIError) as caught:
        c.search("  ")
    assert caught.value.status_code == 422


def test_s6_search_reinforces_what_it_returns(c: MemsyClient, world: World) -> None:
    first = c.search("green tea", actor_id="u1", limit=1).results[0]
    before = c.memories.get(first.id)
    again = c.search("green tea", actor_id="u1", limit=1).results[0]
    after = c.memories.get(first.id)
    assert again.id == first.id
    assert before.recall_count >= 1 and after.recall_count == before.recall_count + 1
    assert after.strength == pytest.approx(min(5.0, before.strength + 0.1))
    assert after.last_recalled_at is not None and after.last_recalled_at >= (before.last_recalled_at or "")


# ---------------------------------------------------------------------------------------------------
# 7-8: orgs, roles, teams


def test_s7_org_lifecycle(c: MemsyClient) -> None:
    org = c.orgs.create(ORG, "Acme", "B2B dev tools")
    assert (org.org_id, org.name, org.focus) == (ORG, "Acme", "B2B dev tools")
    assert (
        org.promotion_prompt
        and org.created_at
        and org.prompt_meta
        == {
            "generator": "template",
            "generated_at": org.prompt_meta["generated_at"],
        }
    )
    with pytest.raises(MemsyAPIError) as conflict:
        c.orgs.create(ORG, "Acme", "B2B dev tools")
    assert conflict.value.status_code == 409
    with pytest.raises(AuthorizationError) as foreign:
        c.orgs.get("other-org")  # an org this tenant never created
    assert foreign.value.status_code == 403 and foreign.value.error_code == "org_mismatch"
    assert [o.org_id for o in c.orgs.list()] == [ORG]
    assert c.orgs.get(ORG) == org
    renamed = c.orgs.update(ORG, name="Acme Corp")
    assert (renamed.name, renamed.focus, renamed.promotion_prompt) == (
        "Acme Corp",
        org.focus,
        org.promotion_prompt,
    )
    assert renamed.updated_at >= org.updated_at and renamed.created_at == org.created_at
    assert c.orgs.update(ORG) == renamed
    assert c.orgs.update(ORG, promotion_prompt="P").promotion_prompt == "P"
    regenerated = c.orgs.regenerate_prompt(ORG)
    assert isinstance(regenerated.promotion_prompt, str) and "Acme Corp" in regenerated.promotion_prompt
    with pytest.raises(AuthorizationError):
        c.orgs.get("other-org")
    assert c.orgs.delete(ORG) is None
    with pytest.raises(MemsyAPIError) as gone:
        c.orgs.get(ORG)
    assert gone.value.status_code == 404
    assert c.orgs.list() == []


def test_s7_org_validation(c: MemsyClient) -> None:
    for name, focus in (("", "f"), ("n", "  ")):
        with pytest.raises(MemsyAPIError) as caught:
            c.orgs.create(ORG, name, focus)
        assert caught.value.status_code == 422


@pytest.mark.parametrize("level", ["roles", "teams"])
def test_s8_role_and_team_lifecycle(c: MemsyClient, level: str) -> None:
    resource = getattr(c, level)
    id_key = f"{level[:-1]}_id"
    first = resource.create(ORG, "Backend Engineer", "Python")
    second = resource.create(ORG, "Backend Engineer", "Python")
    first_id, second_id = getattr(first, id_key), getattr(second, id_key)
    assert first_id and first_id not in ("Backend Engineer", second_id)
    assert first.org_id == ORG and first.promotion_prompt
    listed = [getattr(r, id_key) for r in resource.list(ORG)]
    assert listed[-2:] == [first_id, second_id]
    assert [getattr(r, id_key) for r in resource.list(ORG, limit=1, offset=listed.index(second_id))] == [
        second_id
    ]
    assert resource.get(first_id, ORG) == first
    with pytest.raises(AuthorizationError):
        resource.get(first_id, "other-org")
    with pytest.raises(AuthorizationError):
        resource.list("other-org")
    with pytest.raises(MemsyAPIError) as missing:
        resource.get(f"{level[:-1]}_nope", ORG)
    assert missing.value.status_code == 404
    updated = resource.update(first_id, ORG, focus="F2")
    assert (updated.focus, updated.name, updated.promotion_prompt) == (
        "F2",
        first.name,
        first.promotion_prompt,
    )
    assert "F2" in resource.regenerate_prompt(first_id, ORG).promotion_prompt
    assert resource.delete(first_id, ORG) is None
    with pytest.raises(MemsyAPIError) as gone:
        resource.get(first_id, ORG)
    assert gone.value.status_code == 404
    assert resource.get(second_id, ORG) == second
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        with pytest.raises(MemsyAPIError) as caught:
            resource.list(ORG, **bad)
        assert caught.value.status_code == 422


def test_a_tenant_has_several_orgs_whatever_its_name_each_isolated(server: ServerHandle) -> None:
    with (
        client_for(server, server.create_key(f"tenant-{uuid.uuid4().hex[:6]}")) as first,
        client_for(server, server.create_key(f"tenant-{uuid.uuid4().hex[:6]}")) as second,
    ):
        acme = first.orgs.create("acme", "Acme", "B2B dev tools")
        assert (acme.org_id, acme.name) == ("acme", "Acme")
        assert first.orgs.create("globex", "Globex", "Energy").org_id == "globex"
        assert sorted(o.org_id for o in first.orgs.list()) == ["acme", "globex"]
        with pytest.raises(MemsyAPIError) as again:
            first.orgs.create("acme", "Acme", "again")
        assert again.value.status_code == 409
        # Another tenant's "acme" is its own org: no conflict, and neither sees the other's.
        assert second.orgs.create("acme", "Acme Two", "Retail").name == "Acme Two"
        assert [o.org_id for o in second.orgs.list()] == ["acme"]
        assert first.orgs.get("acme").name == "Acme"
        with pytest.raises(AuthorizationError):
            second.orgs.get("globex")

        # Roles and teams belong to the org they were created in.
        backend = first.roles.create("acme", "Backend", "Python")
        first.roles.create("globex", "Ops", "Grid")
        assert [r.name for r in first.roles.list("acme")] == ["Backend"]
        assert [r.name for r in first.roles.list("globex")] == ["Ops"]
        assert first.roles.get(backend.role_id, "acme").org_id == "acme"
        with pytest.raises(AuthorizationError):
            first.roles.get(backend.role_id, "globex")
        with pytest.raises(MemsyAPIError) as theirs:
            second.roles.get(backend.role_id, "acme")  # same org name, another tenant: no such role
        assert theirs.value.status_code == 404
        with pytest.raises(AuthorizationError):
            first.teams.create("initech", "x", "y")  # an org the tenant never created
        assert first.orgs.delete("globex") is None
        assert [o.org_id for o in first.orgs.list()] == ["acme"]


def test_role_and_team_tags_promote_memories_to_those_roles_and_teams(server: ServerHandle) -> None:
    with client_for(server, server.create_key(f"promo-{uuid.uuid4().hex[:6]}")) as c:
        ids = c.ingest(
            [
                EventPayload(
                    actor_id="alice",
                    session_id="a1",
                    kind="user_message",
                    content="The staging database password rotates every Monday.",
                    role_id="role_backend",
                ),
                EventPayload(
                    actor_id="alice",
                    session_id="a1",
                    kind="user_message",
                    content="Deploys to production are frozen on Fridays.",
                    team_id="team_platform",
                ),
                EventPayload(
                    actor_id="alice",
                    session_id="a1",
                    kind="user_message",
                    content="My own staging sandbox is called alice-box.",
                ),
            ]
        ).event_ids
        wait_processed(c, ids)

        def found(**kwargs: Any) -> list[str]:
            return [
                r.content
                for r in c.search("staging database and production deploys", limit=20, **kwargs).results
            ]

        bob_alone = found(actor_id="bob")
        assert bob_alone == []  # bob's own memories: none
        as_backend = found(actor_id="bob", role_ids=["role_backend"])
        assert any("password rotates" in t for t in as_backend)
        assert not any("frozen on Fridays" in t or "alice-box" in t for t in as_backend)
        in_platform = found(actor_id="bob", team_ids=["team_platform"])
        assert any("frozen on Fridays" in t for t in in_platform)
        assert not any("password rotates" in t or "alice-box" in t for t in in_platform)
        both = c.search(
            "staging", actor_id="bob", role_ids=["role_backend"], team_ids=["team_platform"]
        ).results
        assert len({r.id for r in both}) == len(both)
        scores = [r.score for r in both]
        assert scores == sorted(scores, reverse=True)
        # Alice still sees her own memories once each, promoted or not.
        hers = c.search("staging", actor_id="alice", role_ids=["role_backend"], limit=20).results
        assert len({r.id for r in hers}) == len(hers)
        assert any("alice-box" in r.content for r in hers)
        # The console shows the promoted level.
        levels = {i.text: i.scope.level for i in c.memories.list(actor_id="alice", limit=200).items}
        assert {levels[t] for t in levels if "password rotates" in t} == {"role"}
        assert {levels[t] for t in levels if "frozen on Fridays" in t} == {"team"}
        assert {levels[t] for t in levels if "alice-box" in t} == {"actor"}


# ---------------------------------------------------------------------------------------------------
# 9-11: console memories, stats, actors


def test_s9_console_list_items(c: MemsyClient, world: World) -> None:
    page = c.memories.list()
    assert page.total >= 1 and (page.limit, page.offset) == (50, 0)
    for item in page.items:
        assert item.memory_id and item.org_id == ORG and item.status == "active"
        assert item.scope.actor_id
        assert item.scope.level == (
            "team" if item.scope.team_id else "role" if item.scope.role_id else "actor"
        )
        assert item.kind == item.memory_kind and item.memory_kind in ("semantic", "episodic")
        assert 0.0 <= item.confidence <= 1.0 and 1.0 <= item.strength <= 5.0
    tagged = next(i for i in page.items if world.ids[1] in i.source_event_ids)
    assert (tagged.scope.role_id, tagged.scope.team_id) == ("r1", "t1")


def test_s9_console_filters_narrow(c: MemsyClient, world: World) -> None:
    everything = c.memories.list(limit=200).items
    assert {i.scope.actor_id for i in c.memories.list(actor_id="u2", limit=200).items} == {"u2"}
    semantic = c.memories.list(kind="semantic", limit=200).items
    assert semantic and all(i.memory_kind == "semantic" for i in semantic) and len(semantic) < len(everything)
    facts = c.memories.list(type="fact", limit=200).items
    assert facts and all(i.type == "fact" for i in facts)
    tea = c.memories.list(search="TEA", limit=200).items
    assert tea and all("tea" in i.text.lower() for i in tea)
    assert c.memories.list(kind="procedural").total == 0
    assert c.memories.list(status="archived").total == 0


def test_s9_every_sort_works_and_bad_values_are_422(c: MemsyClient, world: World) -> None:
    for sort in SORTS:
        assert c.memories.list(sort=sort, limit=200).total >= 1
    observed = [i.observed_at or "" for i in c.memories.list(sort="observed_at_asc", limit=200).items]
    assert observed == sorted(observed)
    for bad in ({"sort": "bogus"}, {"limit": 201}, {"limit": 0}, {"offset": -1}, {"status": "gone"}):
        with pytest.raises(MemsyAPIError) as caught:
            c.memories.list(**bad)
        assert caught.value.status_code == 422


def test_s9_get_equals_the_list_item_and_unknown_is_404(c: MemsyClient, world: World) -> None:
    item = c.memories.list(limit=1).items[0]
    assert c.memories.get(item.memory_id) == item
    for missing in (str(uuid.uuid4()), "not-a-uuid"):
        with pytest.raises(MemsyAPIError) as caught:
            c.memories.get(missing)
        assert caught.value.status_code == 404


def test_s10_stats_are_consistent(c: MemsyClient, world: World) -> None:
    stats = c.memories.stats()
    assert stats.total == stats.total_memories >= 1
    assert sum(stats.by_status.values()) == stats.total
    assert sum(stats.by_kind.values()) == sum(stats.by_type.values()) == stats.total
    assert stats.active_memories == c.memories.list(status="active", limit=200).total
    assert 0.0 <= stats.avg_confidence <= 1.0 and 1.0 <= stats.avg_strength <= 5.0
    assert (
        stats.confidence_buckets is not None
        and sum(b["count"] for b in stats.confidence_buckets) == stats.total
    )
    assert stats.date_range is not None and stats.date_range["earliest"] <= stats.date_range["latest"]


def test_s11_actors(c: MemsyClient, world: World) -> None:
    actors = {a.actor_id: a for a in c.actors.list().items}
    assert actors["u1"].memory_count >= 1 and actors["u1"].active_memory_count >= 1
    assert actors["u1"].role_ids == ["r1"] and actors["u1"].team_ids == ["t1"]
    assert actors["u1"].scope_levels == ["actor", "team"]  # its r1/t1-tagged memory is promoted
    assert [a.actor_id for a in c.actors.list(q="U1").items] == ["u1"]
    single = c.actors.get("u1")
    assert asdict(single) == asdict(actors["u1"])
    for sort in ACTOR_SORTS:
        page = c.actors.list(sort=sort)  # type: ignore[arg-type]
        assert page.total == len(page.items) == len(actors) and not page.truncated
    assert [a.actor_id for a in c.actors.list(sort="actor_id_asc").items] == sorted(actors)
    with pytest.raises(MemsyAPIError) as missing:
        c.actors.get("nobody")
    assert missing.value.status_code == 404
    with pytest.raises(AuthorizationError) as foreign:
        c.actors.list(org_id="other")
    assert foreign.value.status_code == 403
    assert c.actors.list(org_id=ORG).total == len(actors)


def test_s11_actor_ids_with_slashes_round_trip(c: MemsyClient) -> None:
    actor = "slack:T1/U2 x"
    ids = c.ingest([EventPayload(actor, "s4", "user_message", "I like rowing.")]).event_ids
    wait_processed(c, ids)
    assert c.actors.get(actor).actor_id == actor
    assert c.memories.list(actor_id=actor).total >= 1


# ---------------------------------------------------------------------------------------------------
# 9 (paging): 250 memories in an org of their own


def test_s9_offset_paging_has_no_duplicates_or_gaps(server: ServerHandle) -> None:
    with client_for(server, server.create_key("paging-org")) as c:
        ts = "2026-01-01T00:00:00Z"  # one timestamp for all: observed_at ties everywhere, memory_id decides
        events = [
            EventPayload(f"p{i % 3}", f"s{i}", "assistant_message", f"note {i}", ts=ts) for i in range(250)
        ]
        wait_processed(c, c.ingest(events).event_ids, timeout=120)

        def listed(sort: str, limit: int) -> list[str]:
            pages = (c.memories.list(sort=sort, limit=limit, offset=o).items for o in range(0, 250, limit))
            return [item.memory_id for page in pages for item in page]

        full = listed("observed_at_desc", 200)
        assert len(full) == len(set(full)) == c.memories.list(limit=1).total == 250
        assert full == sorted(full)  # every sort key ties: the memory_id tiebreak is the whole order
        assert listed("observed_at_desc", 1) == full
        assert listed("strength_desc", 200) == full
        by_creation = listed("created_at_desc", 200)
        assert listed("created_at_desc", 7) == by_creation and sorted(by_creation) == full
        assert c.memories.list(limit=10, offset=250).items == []
        actors = c.actors.list(limit=2)
        assert actors.total == 3 and len(actors.items) == 2
        assert c.actors.list(limit=2, offset=2).items[0].actor_id not in {a.actor_id for a in actors.items}


def test_s3_dedup_window_is_sixty_seconds(tmp_path: Path) -> None:
    """Identical events within 60 s share the first one's id, across a window boundary too; later, new."""
    app = create_app(Settings(data=tmp_path, worker=False), embedder=HashEmbedder())
    with TestClient(app) as http:
        clock = SteppedClock(datetime(2026, 3, 15, 14, 0, 50, tzinfo=timezone.utc))  # 10 s before a minute
        app.state.service.clock = clock
        headers = {"Authorization": f"Bearer {(tmp_path / 'admin-key').read_text().strip()}"}
        event = {"actor_id": "u1", "session_id": "s1", "kind": "user_message", "content": "ok"}

        def ingest_after(seconds: float) -> str:
            clock.moment += timedelta(seconds=seconds)
            response = http.post(f"{PREFIX}/ingest", json={"events": [event]}, headers=headers)
            return str(response.json()["event_ids"][0])

        first = ingest_after(0)
        assert ingest_after(30) == first  # next window, 30 s after the original
        assert ingest_after(29) == first  # 59 s after it
        second = ingest_after(2)  # 61 s after it: a new event
        assert second != first
        assert ingest_after(10) == second


# ---------------------------------------------------------------------------------------------------
# 12: the legacy clear


def test_s12_clear_deletes_the_conversation(server: ServerHandle, key: str, c: MemsyClient) -> None:
    ids = c.ingest(
        [
            EventPayload("u5", "doomed", "user_message", "I like plums."),
            EventPayload("u5", "kept", "user_message", "I like pears."),
        ]
    ).event_ids
    wait_processed(c, ids)
    with httpx.Client(base_url=memsy_url(server), headers={"Authorization": f"Bearer {key}"}) as raw:
        response = raw.delete("/clear/doomed")
        assert response.status_code == 200, response.text
        assert response.json()["deleted"] >= 2  # the event and its memories
        assert raw.delete("/clear/doomed").json() == {"deleted": 0}
    assert c.search("plums", actor_id="u5", session_id="doomed").results == []
    assert c.status(ids).statuses == {ids[0]: "not_found", ids[1]: "completed"}
    assert c.search("pears", actor_id="u5", session_id="kept").results


# ---------------------------------------------------------------------------------------------------
# a server with the other settings: stub clear, a moved mount, a rate limit


MOVED = "/compat/memsy"


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """60 requests per minute per key (a burst of 60, then one per second), ``clear`` stubbed, mount moved."""
    handle = launch_server(
        tmp_path_factory.mktemp("memsy-tuned"),
        rate_limit_per_minute=60,
        memsy_clear_mode="stub",
        memsy_prefix=MOVED,
        worker=False,
    )
    yield handle
    handle.stop()


def test_the_mount_prefix_is_a_setting(tuned: ServerHandle) -> None:
    with MemsyClient(base_url=f"{tuned.base_url}{MOVED}/", api_key=tuned.api_key) as c:
        assert c.health().status == "ok"
    with httpx.Client(base_url=tuned.base_url) as raw:
        assert set(raw.get(f"{PREFIX}/health").json()) == {"error"}  # nothing Memsy at the default


def test_s12_clear_can_be_a_501_stub(tuned: ServerHandle) -> None:
    key = tuned.create_key("stub-org")  # its own rate-limit bucket
    with httpx.Client(base_url=f"{tuned.base_url}{MOVED}", headers={"Authorization": f"Bearer {key}"}) as raw:
        assert_memsy_error(raw.delete("/clear/anything"), 501, "not_implemented")


# ---------------------------------------------------------------------------------------------------
# 13: rate limiting


def test_s13_rate_limit_retry_after_and_the_sdk_retry(tuned: ServerHandle) -> None:
    sent: list[float] = []
    base_url = f"{tuned.base_url}{MOVED}"
    with MemsyClient(base_url=base_url, api_key=tuned.api_key, max_retries=1, retry_backoff=0.01) as c:
        c._client.event_hooks["request"].append(lambda _request: sent.append(time.monotonic()))
        first = c.status([])
        assert first.rate_limit is not None and first.rate_limit.limit == 60
        assert first.rate_limit.remaining is not None and 0 <= first.rate_limit.remaining < 60
        assert first.rate_limit.reset is not None and first.rate_limit.reset >= time.time() - 1
        with httpx.Client(base_url=base_url, headers=tuned.headers) as raw:
            for _ in range(100):  # drain the burst with raw calls, which nothing retries
                if (response := raw.post("/status", json={"event_ids": []})).status_code == 429:
                    break
        assert response.headers["Retry-After"] == "1"
        assert_memsy_error(response, 429, "rate_limited")
        sent.clear()
        assert c.status([]).total == 0  # 429, sleep Retry-After, retry: succeeds
    assert len(sent) == 2 and sent[1] - sent[0] >= 1.0


def test_s13_max_retries_exceeded(start_server: Any) -> None:
    limited = start_server(rate_limit_per_minute=1, worker=False)
    with MemsyClient(base_url=memsy_url(limited), api_key=limited.api_key, max_retries=0) as c:
        c.health()  # health needs no key: not limited
        c.status([])
        with pytest.raises(MemsyAPIError) as caught:
            c.status([])
    assert caught.value.status_code == 429 and str(caught.value) == "Max retries exceeded"


# ---------------------------------------------------------------------------------------------------
# errors under the mount stay Memsy's, errors elsewhere stay native


def test_unknown_routes_answer_in_each_doors_shape(server: ServerHandle, key: str) -> None:
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}) as raw:
        assert_memsy_error(raw.get(f"{PREFIX}/usage/summary"), 404, "not_found")
        assert set(raw.get("/v1/nope").json()) == {"error"}


# ---------------------------------------------------------------------------------------------------
# 14: the async client (1, 3, 5, 6, 7, 9) in an org of its own


@pytest.fixture
async def ac(server: ServerHandle) -> AsyncIterator[AsyncMemsyClient]:
    key = server.create_key("async-org")
    async with AsyncMemsyClient(
        base_url=memsy_url(server), api_key=key, max_retries=1, retry_backoff=0.01
    ) as client:
        yield client


async def test_s14_async_client_end_to_end(ac: AsyncMemsyClient) -> None:
    assert (await ac.health()).status == "ok"
    events = recipe_events()
    ids = (await ac.ingest(events)).event_ids
    assert len(set(ids)) == 3 and (await ac.ingest(events[:1])).event_ids == ids[:1]

    async def nothing_pending() -> StatusResponse | None:
        status = await ac.status(ids)
        return None if status.pending_ids else status

    status = await apoll_until(nothing_pending, message=f"events still pending: {ids}")
    assert status.completed_ids == ids
    results = (
        await ac.search("what does the user drink?", actor_id="u1", include_source_events=True)
    ).results
    assert results and results[0].source_events[0].event_id in ids
    org = await ac.orgs.create("async-org", "Async", "tests")
    assert [o.org_id for o in await ac.orgs.list()] == ["async-org"] and org.promotion_prompt
    with pytest.raises(AuthorizationError):
        await ac.orgs.get(ORG)
    page = await ac.memories.list(limit=200)
    assert page.total == len(page.items) >= 3 and {i.org_id for i in page.items} == {"async-org"}
    assert (await ac.memories.get(page.items[0].memory_id)) == page.items[0]
