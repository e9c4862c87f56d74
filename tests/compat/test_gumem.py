"""The real GUMem SDK (``steamory-agent-kit-gum`` 0.1.0 from PyPI) against a real ``memhub serve``.

This is the test recipe of ``docs/compat/gumem.md`` §7, numbered as there, run through the doc's names
(``from gumem import GUMemClient``: ``gumem_alias/gumem.py`` maps them onto the real ``gum`` module), so
the doc's snippets run as written. Every failure is checked to be a ``GUMemApiError`` with the status the
spec names and a string ``detail`` that is also the exception's message (§7.12).

The shared ``server`` fixture is one process for the whole test session, so each test works with its own
user ids (``_user``) and never sees another test's memories.
"""

from __future__ import annotations

import re
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.life_conversation import QUESTIONS, TURNS
from support.polling import apoll_until, poll_until
from support.server import ServerHandle

# The doc's module name (``gumem``), mapped onto the real SDK by a test-only shim.
sys.path.insert(0, str(Path(__file__).with_name("gumem_alias")))

from gumem import (
    AsyncGUMemClient,
    AsyncSession,
    GUMemApiError,
    GUMemClient,
    GUMemConnectionError,
    GUMemTimeoutError,
    Session,
)

PREFIX = "/gumem"
UTC = timezone.utc
BERLIN = "For team scheduling, use Berlin when I mention Europe and Toronto when I mention the Americas."
GOT_IT = "Got it: Berlin for Europe, Toronto for the Americas."
PROCESSING_BUDGET = 30.0


def _user(name: str) -> str:
    """A user id no other test uses (the server is shared by the whole test session)."""
    return f"{name}_{uuid.uuid4().hex[:8]}"


def _host(server: ServerHandle, prefix: str = PREFIX) -> str:
    return server.base_url + prefix


@pytest.fixture
def gumem(server: ServerHandle) -> Iterator[GUMemClient]:
    with GUMemClient(api_key=server.api_key, host=_host(server)) as client:
        yield client


def _check_shape(error: GUMemApiError, status: int) -> None:
    """§7.12: the status, and a string ``detail`` that is the message and the body's ``detail``."""
    assert error.status_code == status, (error.status_code, error.body)
    assert error.status == error.status_code
    assert isinstance(error.detail, str)
    assert error.detail
    assert str(error) == error.detail
    assert error.body["detail"] == error.detail


def _fails(status: int, call: Callable[[], Any]) -> GUMemApiError:
    with pytest.raises(GUMemApiError) as info:
        call()
    _check_shape(info.value, status)
    return info.value


async def _afails(status: int, call: Callable[[], Awaitable[Any]]) -> GUMemApiError:
    with pytest.raises(GUMemApiError) as info:
        await call()
    _check_shape(info.value, status)
    return info.value


def _all_processed(memory: dict[str, Any]) -> bool:
    messages = memory["data"]["messages"]
    assert all(m["status"] != "failed" for m in messages), messages
    return bool(messages) and all(m["status"] == "processed" for m in messages)


def _wait_processed(session: Session) -> None:
    """§7.7: poll ``get_memory(details=True)`` until every message is ``processed`` (bounded)."""
    poll_until(
        lambda: _all_processed(session.get_memory({"details": True})),
        timeout=PROCESSING_BUDGET,
        interval=0.1,
        message="messages not processed",
    )


async def _await_processed(session: AsyncSession) -> None:
    """:func:`_wait_processed` on the event loop: it waits with ``asyncio.sleep``, never blocking the loop."""

    async def processed() -> bool:
        return _all_processed(await session.get_memory({"details": True}))

    await apoll_until(processed, timeout=PROCESSING_BUDGET, interval=0.1, message="messages not processed")


def _contents(data: dict[str, Any], *parts: str) -> list[str]:
    return [
        item["content"]
        for part in parts or ("messages", "observations", "propositions")
        for item in data[part]
    ]


def _teach(gumem: GUMemClient, user_id: str) -> Session:
    """A session of ``user_id`` whose first turn teaches the Europe → Berlin rule, fully processed."""
    session = gumem.sessions.create({"user_id": user_id, "title": "Team scheduling session"})
    session.add_messages([{"role": "user", "content": BERLIN}, {"role": "assistant", "content": GOT_IT}])
    _wait_processed(session)
    return session


# ---------------------------------------------------------------------------------------------------
# 1, 2: health and auth


def test_health_needs_no_key_and_the_client_closes(server: ServerHandle) -> None:
    with GUMemClient(api_key=server.api_key, host=_host(server)) as client:
        health = client.health()
    assert health["status"] == "ok"
    assert health["data"]["status"] == "ok"
    assert client._client.is_closed
    wrong = GUMemClient(api_key="wrong", host=_host(server))
    assert wrong.health()["status"] == "ok"
    wrong.close()
    assert wrong._client.is_closed


def test_a_wrong_key_is_401_and_the_api_key_prefix_is_optional(server: ServerHandle) -> None:
    with GUMemClient(api_key="wrong", host=_host(server)) as wrong:
        _fails(401, lambda: wrong.sessions.create({"user_id": "u"}))
    with GUMemClient(api_key="Api-Key " + server.api_key, host=_host(server)) as prefixed:
        assert prefixed.sessions.create({"user_id": _user("u")}).id
    # Other schemes and a missing header are refused in GUMem's shape too; Bearer (qoni) is accepted.
    url = _host(server) + "/api/sessions"
    assert httpx.post(url, json={"user_id": "u"}).json()["detail"]
    assert httpx.post(url, json={"user_id": "u"}, headers={"Authorization": "Basic x"}).status_code == 401
    bearer = httpx.post(
        url, json={"user_id": _user("u")}, headers={"Authorization": f"Bearer {server.api_key}"}
    )
    assert bearer.status_code == 200


# ---------------------------------------------------------------------------------------------------
# 3, 4: sessions


def test_create_session_answers_a_url_safe_id_in_the_envelope(gumem: GUMemClient) -> None:
    user_id = _user("user_123")
    session = gumem.sessions.create(
        {"user_id": user_id, "title": "Team scheduling session", "metadata": {"source": "web-chat"}}
    )
    assert isinstance(session.id, str)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", session.id)
    assert session.raw_response["success"] is True
    data = session.raw_response["data"]
    assert data["session_id"] == session.id
    assert data["user_id"] == user_id
    assert data["title"] == "Team scheduling session"
    assert data["metadata"] == {"source": "web-chat"}
    assert data["created_at"].endswith("Z")


def test_create_session_errors(gumem: GUMemClient) -> None:
    assert _fails(422, lambda: gumem.sessions.create({})).detail == "user_id is required"
    _fails(422, lambda: gumem.sessions.create({"user_id": "  "}))
    _fails(422, lambda: gumem.sessions.create({"user_id": "u", "title": "x" * 513}))


def test_a_caller_chosen_session_id_is_idempotent_for_its_user(gumem: GUMemClient) -> None:
    owner, chosen = _user("owner"), f"ses_{uuid.uuid4().hex}"
    first = gumem.sessions.create({"user_id": owner, "session_id": chosen})
    again = gumem.sessions.create({"user_id": owner, "session_id": chosen})
    assert first.id == again.id == chosen
    _fails(409, lambda: gumem.sessions.create({"user_id": _user("other"), "session_id": chosen}))
    _fails(422, lambda: gumem.sessions.create({"user_id": owner, "session_id": "a/b"}))


def test_from_id_sends_no_request(server: ServerHandle) -> None:
    sent: list[httpx.Request] = []
    with httpx.Client(trust_env=False, event_hooks={"request": [sent.append]}) as http:
        client = GUMemClient(api_key=server.api_key, host=_host(server), client=http)
        session = client.sessions.create({"user_id": _user("u")})
        count = len(sent)
        handle = client.sessions.from_id(session.id)
        assert handle.raw_response == {"data": {"session_id": session.id}}
        assert len(sent) == count
        handle.add_message({"role": "user", "content": "hello"})  # the handle works like the original
        assert len(sent) == count + 1


# ---------------------------------------------------------------------------------------------------
# 5, 6: messages


def test_add_messages_stores_every_field_and_a_message_id_only_once(gumem: GUMemClient) -> None:
    user_id = _user("user_123")
    session = gumem.sessions.create({"user_id": user_id})
    added = session.add_messages(
        [{"role": "user", "content": BERLIN}, {"role": "assistant", "content": GOT_IT}]
    )
    assert added["success"] is True
    assert added["data"]["accepted"] == 2
    assert [m["status"] for m in added["data"]["messages"]] == ["pending", "pending"]

    handle = gumem.sessions.from_id(session.id)
    m1: Any = {
        "role": "user",
        "content": "Please book the Berlin room.",
        "id": "m1",
        "metadata": {"channel": "chat", "ping": "pong"},
        "timestamp": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "created_at": "2026-01-02T03:04:05+02:00",
        "status": "pending",
    }
    first = handle.add_message(m1)
    assert first["data"]["messages"][0]["id"] == "m1"
    assert handle.add_message(m1)["data"]["duplicate"] is True
    more = gumem.sessions.add_messages(
        session.id, {"messages": [{"role": "user", "content": "And Toronto?"}], "user_id": user_id}
    )
    assert more["data"]["accepted"] == 1

    messages = session.get_memory({"details": True})["data"]["messages"]
    stored = [m for m in messages if m["id"] == "m1"]
    assert len(stored) == 1
    assert stored[0]["metadata"] == {"channel": "chat", "ping": "pong"}
    assert stored[0]["timestamp"] == "2026-01-02T03:04:05.000Z"
    assert len(messages) == 4

    # Without an id, the same words said twice are two messages (they are stamped with their arrival).
    session.add_message({"role": "user", "content": "yes"})
    session.add_message({"role": "user", "content": "yes"})
    assert _contents(session.get_memory()["data"], "messages").count("yes") == 2
    # ``sync: true`` (the qoni client's flag) answers once the messages are processed.
    synced = session.add_messages({"messages": [{"role": "user", "content": "done?"}], "sync": True})
    assert synced["data"]["status"] == "processed"


def test_add_messages_errors(gumem: GUMemClient) -> None:
    user_id = _user("user_123")
    session = gumem.sessions.create({"user_id": user_id})
    _fails(422, lambda: session.add_messages([]))
    _fails(422, lambda: session.add_messages([{"role": "user"}]))
    _fails(422, lambda: session.add_messages([{"role": "user", "content": "   "}]))
    _fails(422, lambda: session.add_messages([{"role": "", "content": "hi"}]))
    _fails(422, lambda: session.add_message({"role": "user", "content": "hi", "status": "done"}))
    _fails(422, lambda: session.add_message({"role": "user", "content": "hi", "timestamp": "yesterday"}))
    _fails(
        404, lambda: gumem.sessions.from_id("ses_doesnotexist").add_message({"role": "user", "content": "hi"})
    )
    error = _fails(
        403,
        lambda: session.add_messages(
            {"messages": [{"role": "user", "content": "hi"}], "user_id": "someone_else"}
        ),
    )
    assert error.detail == "session belongs to another user"
    assert session.get_memory()["data"]["messages"] == []  # nothing of the failed calls was stored


# ---------------------------------------------------------------------------------------------------
# 7, 8, 9: recall


def test_recall_by_get_returns_the_three_parts_and_recent_messages_in_order(gumem: GUMemClient) -> None:
    session = _teach(gumem, _user("user_123"))
    memory = session.get_memory(
        {"query": "which city should be used for Europe team scheduling", "details": True}
    )
    data = memory["data"]
    assert all(isinstance(data[part], list) for part in ("messages", "observations", "propositions"))
    assert any("Berlin" in text for text in _contents(data))
    assert any("Berlin" in text for text in _contents(data, "propositions"))
    assert all(0.0 <= p["score"] <= 1.0 for p in data["propositions"])
    assert "Berlin" in data["context"]

    plain = session.get_memory()["data"]
    assert [m["content"] for m in plain["messages"]] == [BERLIN, GOT_IT]
    assert set(plain["messages"][0]) == {"message_id", "id", "role", "content"}  # details=false is terse
    stamps = [m["timestamp"] for m in data["messages"]]
    assert stamps == sorted(stamps)


def test_recall_config_in_any_casing_limits_recent_messages(gumem: GUMemClient) -> None:
    session = gumem.sessions.create({"user_id": _user("user_123")})
    for text in ("first", "second", "third"):
        session.add_message({"role": "user", "content": text})
    for config in ({"MessageRecentLimit": 1}, {"message_recent_limit": 1}, {"messageRecentLimit": 1}):
        data = session.get_memory({"query": "q", "recall_config": config})["data"]
        assert [m["content"] for m in data["messages"]] == ["third"]
    assert len(session.get_memory({"query": "q", "recall_config": None})["data"]["messages"]) == 3
    unknown_knob: Any = {"query_router": "multi_hop_chain", "topic_top_k": 3, "MessageRecentLimit": 2}
    assert len(session.get_memory({"recall_config": unknown_knob})["data"]["messages"]) == 2
    for bad in ({"MessageRecentLimit": -1}, {"MessageRecentLimit": 201}, {"message_recent_limit": "1"}):
        _fails(422, lambda bad=bad: session.get_memory({"query": "q", "recall_config": bad}))
    _fails(422, lambda: session.get_memory({"details": "maybe"}))


def test_metadata_filters_are_exact_match(gumem: GUMemClient) -> None:
    session = gumem.sessions.create({"user_id": _user("user_123")})
    session.add_messages(
        [
            {"role": "user", "content": "ping pong one", "metadata": {"ping": "pong"}},
            {"role": "user", "content": "ping other", "metadata": {"ping": "other"}},
            {"role": "user", "content": "number one", "metadata": {"n": 1}},
            {"role": "user", "content": "boolean true", "metadata": {"b": True}},
        ]
    )
    _wait_processed(session)

    def recall(filters: Any, query: str | None = None) -> dict[str, Any]:
        params: Any = {"details": True, "recall_config": {"MetadataFilters": filters}}
        if query:
            params["query"] = query
        data: dict[str, Any] = session.get_memory(params)["data"]
        return data

    pong = recall({"ping": "pong"}, "ping")
    assert pong["messages"]
    assert all(m["metadata"]["ping"] == "pong" for m in pong["messages"])
    assert all(o["metadata"]["ping"] == "pong" for o in pong["observations"])
    assert [m["content"] for m in recall({"n": 1.0})["messages"]] == ["number one"]
    nothing = recall({"b": 1}, "boolean")
    assert nothing["messages"] == nothing["observations"] == nothing["propositions"] == []
    assert [m["content"] for m in recall({})["messages"]] == _contents(recall(None), "messages")
    for bad in ({"ping": None}, {"ping": {"x": 1}}, {"ping": [1]}, {"": "x"}):
        _fails(422, lambda bad=bad: recall(bad))
    detail = _fails(422, lambda: recall({"ping": None})).detail
    assert detail == "MetadataFilters values must be strings, numbers, or booleans"


# ---------------------------------------------------------------------------------------------------
# 10: user actions


def test_user_actions_are_stored_and_become_searchable(gumem: GUMemClient) -> None:
    user_id = _user("user_123")
    session = gumem.sessions.create({"user_id": user_id})
    action: Any = {
        "user_id": user_id,
        "timestamp": datetime(2026, 4, 22, 1, 2, 3, tzinfo=UTC),
        "content": "User opened the Europe team scheduling page",
        "session_id": session.id,
        "event_type": "page_view",
        "page": "team_scheduling",
        "anchors": {"region": "Europe", "city": "Berlin"},
        "metadata": {"source": "assistant-api"},
        "entities": ["Berlin"],
    }
    created = gumem.user_actions.create(action)
    assert created["success"] is True
    assert isinstance(created["data"]["log_id"], str)
    assert created["data"]["log_id"]
    assert created["data"]["timestamp"] == "2026-04-22T01:02:03.000Z"

    with_id = {**action, "log_id": "l1", "timestamp": "2026-04-22T01:02:03Z"}
    first, again = gumem.user_actions.create(with_id), gumem.user_actions.create(with_id)
    assert first["data"]["log_id"] == again["data"]["log_id"] == "l1"
    assert again["data"]["duplicate"] is True
    naive = gumem.user_actions.create({**action, "timestamp": datetime(2026, 4, 22, 1, 2, 3)})
    assert naive["data"]["timestamp"] == "2026-04-22T01:02:03.000Z"

    for missing in ("content", "timestamp", "user_id"):
        body = {k: v for k, v in action.items() if k != missing}
        assert (
            _fails(422, lambda body=body: gumem.user_actions.create(body)).detail == f"{missing} is required"
        )
    _fails(422, lambda: gumem.user_actions.create({**action, "anchors": {"n": 1}}))
    _fails(422, lambda: gumem.user_actions.create({**action, "entities": [1]}))
    _fails(422, lambda: gumem.user_actions.create({**action, "timestamp": "yesterday"}))
    _fails(403, lambda: gumem.user_actions.create({**action, "user_id": _user("intruder")}))

    # The action is a memory of the session it names: recall finds it among the observations.
    def recalled() -> list[dict[str, Any]]:
        data = session.get_memory({"query": "Europe team scheduling page", "details": True})["data"]
        return [
            o for o in data["observations"] if "User opened the Europe team scheduling page" in o["content"]
        ]

    found = poll_until(
        recalled, timeout=PROCESSING_BUDGET, interval=0.1, message="the action never became a memory"
    )
    stored = found[0]["metadata"]
    assert stored["source"] == "assistant-api"
    assert stored["gumem"]["anchors"] == {"region": "Europe", "city": "Berlin"}
    assert stored["gumem"]["page"] == "team_scheduling"


# ---------------------------------------------------------------------------------------------------
# 11: the documented assistant-turn flow, across sessions


def _fake_llm(context: str, user_message: str) -> str:
    """Stands in for the doc's model call: it knows the Europe city only if recall put it in the context."""
    if user_message.endswith("?"):
        return "Berlin." if "Berlin" in context else "I don't know which city you use for Europe."
    return "Noted."


def test_a_new_session_of_the_same_user_recalls_what_an_earlier_one_taught(server: ServerHandle) -> None:
    from gumem import GUMemClient  # as the doc writes it

    user_id = _user("user_123")
    gumem = GUMemClient(api_key=server.api_key, host=_host(server))

    def assistant_turn(session: Session, user_message: str) -> str:
        memory = session.get_memory({"query": user_message, "details": True})
        context = memory.get("data", {}).get("context", "")
        reply = _fake_llm(context, user_message)
        session.add_messages(
            [{"role": "user", "content": user_message}, {"role": "assistant", "content": reply}]
        )
        return reply

    first = gumem.sessions.create({"user_id": user_id, "title": "Support chat"})
    assert assistant_turn(first, BERLIN) == "Noted."
    _wait_processed(first)

    later = gumem.sessions.create({"user_id": user_id, "title": "Support chat"})
    recalled = later.get_memory({"query": "Europe scheduling city"})["data"]
    assert any("Berlin" in p["content"] for p in recalled["propositions"])
    assert recalled["messages"] == []  # the new session's own history is empty
    assert assistant_turn(later, "Which city do I use for the Europe team sync?") == "Berlin."

    stranger = gumem.sessions.create({"user_id": _user("user_999")})
    theirs = stranger.get_memory({"query": "Europe scheduling city", "details": True})["data"]
    assert not any("Berlin" in text for text in _contents(theirs))
    assert "Berlin" not in theirs["context"]
    gumem.close()


def _tell(session: Session, turns: list[tuple[str, str]]) -> None:
    """The conversation, a user turn and its answer at a time, then wait until all of it is processed."""
    for i in range(0, len(turns), 2):
        session.add_messages([{"role": role, "content": text} for role, text in turns[i : i + 2]])

    def processed() -> bool:
        memory = session.get_memory({"details": True, "recall_config": {"MessageRecentLimit": 200}})
        return _all_processed(memory) and len(memory["data"]["messages"]) == len(turns)

    poll_until(processed, timeout=PROCESSING_BUDGET * 2, interval=0.2, message="conversation not processed")


def _top(data: dict[str, Any], k: int = 5) -> list[str]:
    return [item["content"] for part in ("observations", "propositions") for item in data[part][:k]]


def test_a_new_session_of_the_same_user_recalls_their_whole_conversation(gumem: GUMemClient) -> None:
    """Memory is the user's: a new session recalls what any earlier one was told (issue 22)."""
    user_id = _user("dana")
    _tell(gumem.sessions.create({"user_id": user_id, "title": "Getting to know you"}), TURNS)

    later = gumem.sessions.create({"user_id": user_id, "title": "A week later"})
    missed = []
    for question in QUESTIONS:
        data = later.get_memory({"query": question.text})["data"]
        if not any(question.answer.lower() in text.lower() for text in _top(data)):
            missed.append((question.text, _top(data)))
    assert len(missed) <= len(QUESTIONS) // 5, missed  # the right memory in the top 5 for >= 80 %

    stranger = gumem.sessions.create({"user_id": _user("someone_else")})
    theirs = stranger.get_memory({"query": "What's the name of our dog?"})["data"]
    assert not any("Biscuit" in text for text in _contents(theirs))


def test_recall_prefers_this_session_on_a_tie_and_lists_by_score(gumem: GUMemClient) -> None:
    user_id = _user("dana")
    said = "Remember that the spare key is under the blue flower pot."
    first = gumem.sessions.create({"user_id": user_id})
    _tell(first, [("user", said), ("assistant", "Noted.")])
    second = gumem.sessions.create({"user_id": user_id})
    _tell(second, [("user", said), ("assistant", "Noted.")])

    data = second.get_memory({"query": "Where is the spare key?", "details": True})["data"]
    observations = data["observations"]
    keys = [o for o in observations if o["content"] == said]
    assert len(keys) == 2  # both sessions' turns: the user's memory, not the session's
    assert keys[0]["source"]["session_id"] == second.id  # same text, same score: this session first
    for part in ("observations", "propositions"):
        scores = [item["score"] for item in data[part]]
        assert scores == sorted(scores, reverse=True), (part, scores)


def test_actions_are_the_users_memories_with_or_without_a_session(gumem: GUMemClient) -> None:
    user_id = _user("dana")
    session = gumem.sessions.create({"user_id": user_id})
    when = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    gumem.user_actions.create(
        {
            "user_id": user_id,
            "timestamp": when,
            "content": "User booked a campsite at Yellowstone for August 12",
            "event_type": "booking",
        }
    )
    gumem.user_actions.create(
        {
            "user_id": user_id,
            "session_id": session.id,
            "timestamp": when,
            "content": "User added oat milk to the shopping list",
            "event_type": "list_edit",
        }
    )
    later = gumem.sessions.create({"user_id": user_id})

    def recalled(query: str, phrase: str) -> bool:
        return any(phrase in text for text in _top(later.get_memory({"query": query})["data"]))

    poll_until(
        lambda: recalled("Did I book the campsite?", "campsite at Yellowstone"),
        timeout=PROCESSING_BUDGET,
        interval=0.1,
        message="an action without a session was not recalled",
    )
    poll_until(
        lambda: recalled("What is on my shopping list?", "oat milk"),
        timeout=PROCESSING_BUDGET,
        interval=0.1,
        message="an action of another session was not recalled",
    )
    assert recalled("booking", "campsite at Yellowstone")  # searchable by its type too
    in_its_session = _top(session.get_memory({"query": "What is on my shopping list?"})["data"])
    assert any("oat milk" in text for text in in_its_session)  # and in the session it was recorded in
    stranger = gumem.sessions.create({"user_id": _user("someone_else")})
    theirs = stranger.get_memory({"query": "Did I book the campsite?"})["data"]
    assert not any("Yellowstone" in text for text in _contents(theirs))


def test_a_message_id_re_sent_in_another_batch_is_the_stored_message(gumem: GUMemClient) -> None:
    session = gumem.sessions.create({"user_id": _user("dana")})
    given = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    original = {"role": "user", "content": "My locker code is 4471.", "id": "m-42", "timestamp": given}
    first = session.add_messages([original])["data"]["messages"][0]
    again = session.add_messages([{**original, "content": "edited"}, {"role": "user", "content": "thanks"}])
    assert again["data"]["messages"][0]["id"] == "m-42"
    assert again["data"]["messages"][0]["timestamp"] == first["timestamp"] == "2026-01-02T03:04:05.000Z"
    alone = session.add_messages([original])["data"]
    assert alone["duplicate"] is True
    messages = session.get_memory({"details": True})["data"]["messages"]
    assert [m["content"] for m in messages if m["id"] == "m-42"] == ["My locker code is 4471."]
    assert len(messages) == 2


def test_recall_shows_the_times_the_caller_gave(gumem: GUMemClient) -> None:
    session = gumem.sessions.create({"user_id": _user("dana")})
    session.add_messages(
        [
            {
                "role": "user",
                "content": "We adopted Biscuit from the shelter.",
                "timestamp": "2025-03-01T10:00:00Z",
                "created_at": "2025-03-01T10:05:00Z",
                "metadata": {"channel": "chat"},
            },
            {"role": "user", "content": "He was two years old then.", "created_at": "2025-03-01T10:06:00Z"},
        ]
    )
    _wait_processed(session)
    data = session.get_memory({"query": "When did we adopt Biscuit?", "details": True})["data"]
    first, second = data["messages"]
    assert (first["timestamp"], first["created_at"]) == (
        "2025-03-01T10:00:00.000Z",
        "2025-03-01T10:05:00.000Z",
    )
    assert first["metadata"] == {"channel": "chat"}  # the caller's metadata, as sent
    assert second["timestamp"] == second["created_at"] == "2025-03-01T10:06:00.000Z"
    adopted = next(o for o in data["observations"] if "adopted Biscuit" in o["content"])
    assert (adopted["timestamp"], adopted["created_at"]) == (
        "2025-03-01T10:00:00.000Z",
        "2025-03-01T10:05:00.000Z",
    )


def test_another_tenants_sessions_and_memories_are_invisible(
    server: ServerHandle, gumem: GUMemClient
) -> None:
    user_id = _user("user_123")
    session = _teach(gumem, user_id)
    other_key = server.memhub("keys", "create", "--tenant", f"gumem-{uuid.uuid4().hex[:8]}").stdout.strip()
    with GUMemClient(api_key=other_key, host=_host(server)) as other:
        _fails(404, lambda: other.sessions.from_id(session.id).get_memory())
        _fails(404, lambda: other.sessions.from_id(session.id).add_message({"role": "user", "content": "hi"}))
        same_user = other.sessions.create({"user_id": user_id})  # same user id, other tenant: another person
        data = same_user.get_memory({"query": "Europe scheduling city", "details": True})["data"]
        assert _contents(data) == []


# ---------------------------------------------------------------------------------------------------
# 12: error shape on the wire (400, unknown routes), never the native envelope


def test_malformed_json_and_unknown_routes_answer_in_gumem_shape(server: ServerHandle) -> None:
    headers = {"Authorization": f"Api-Key {server.api_key}", "Content-Type": "application/json"}
    bad = httpx.post(_host(server) + "/api/sessions", content=b"{not json", headers=headers)
    assert bad.status_code == 400
    assert isinstance(bad.json()["detail"], str)
    not_object = httpx.post(_host(server) + "/api/sessions", content=b"[1]", headers=headers)
    assert not_object.status_code == 422
    assert isinstance(not_object.json()["detail"], str)
    missing = httpx.get(_host(server) + "/api/user/actions/query", headers=headers)
    assert missing.status_code == 404
    assert isinstance(missing.json()["detail"], str)
    native = httpx.get(server.base_url + "/v1/sessions/nope", headers={"Authorization": "Bearer wrong"})
    assert native.status_code == 401
    assert "detail" not in native.json()  # the native API keeps its own envelope


# ---------------------------------------------------------------------------------------------------
# 13: transport


def test_transport_failures_raise_connection_and_timeout_errors() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with GUMemClient(api_key="k", host=f"http://127.0.0.1:{closed_port}{PREFIX}") as down:
        with pytest.raises(GUMemConnectionError) as refused:
            down.health()
        assert not isinstance(refused.value, GUMemTimeoutError)
    with socket.socket() as silent:  # accepts connections (backlog) but never answers: a slow route
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        slow = GUMemClient(api_key="k", host=f"http://127.0.0.1:{port}{PREFIX}")
        with slow, pytest.raises(GUMemTimeoutError) as timed_out:
            slow.health(options={"timeout_ms": 200})
    assert timed_out.value.timeout_ms == 200
    assert isinstance(timed_out.value, GUMemConnectionError)


# ---------------------------------------------------------------------------------------------------
# 14: the async client (recipe steps 1, 3, 5, 7, 8, 10)


async def test_the_async_client_works_the_same(server: ServerHandle) -> None:
    user_id = _user("user_123")
    async with AsyncGUMemClient(api_key=server.api_key, host=_host(server)) as gumem:
        assert (await gumem.health())["status"] == "ok"
        session = await gumem.sessions.create({"user_id": user_id, "metadata": {"source": "web-chat"}})
        assert session.raw_response["data"]["session_id"] == session.id
        await _afails(422, lambda: gumem.sessions.create({"user_id": " "}))

        added = await session.add_messages(
            [{"role": "user", "content": BERLIN}, {"role": "assistant", "content": GOT_IT}]
        )
        assert added["data"]["accepted"] == 2
        await _afails(422, lambda: session.add_messages([]))
        await _afails(
            404, lambda: gumem.sessions.from_id("ses_nope").add_message({"role": "user", "content": "x"})
        )
        await _await_processed(session)

        data = (
            await session.get_memory({"query": "which city for Europe team scheduling", "details": True})
        )["data"]
        assert any("Berlin" in p["content"] for p in data["propositions"])
        limited = await session.get_memory({"query": "q", "recall_config": {"MessageRecentLimit": 1}})
        assert [m["content"] for m in limited["data"]["messages"]] == [GOT_IT]
        await _afails(422, lambda: session.get_memory({"recall_config": {"MessageRecentLimit": -1}}))

        logged = await gumem.user_actions.create(
            {
                "user_id": user_id,
                "timestamp": "2026-04-22T01:02:03Z",
                "content": "User opened the settings page",
            }
        )
        assert logged["data"]["log_id"]
    assert gumem._client.is_closed


# ---------------------------------------------------------------------------------------------------
# 15: the prefix is a setting


def test_the_mount_prefix_is_configurable(start_server: Callable[..., ServerHandle]) -> None:
    other = start_server(gumem_prefix="/memory/gumem", worker=False)
    with GUMemClient(api_key=other.api_key, host=_host(other, "/memory/gumem")) as moved:
        assert moved.health()["status"] == "ok"
        assert moved.sessions.create({"user_id": "u"}).id
    assert httpx.get(_host(other) + "/healthz").status_code == 404
