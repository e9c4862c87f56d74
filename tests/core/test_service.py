"""MemoryService use cases over a real SQLite store and the real local model (worker run in-line)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from memhub.core.errors import Conflict, InvalidInput, LimitExceeded, NotFound, Unauthenticated
from memhub.core.models import (
    ActionInput,
    DocumentInput,
    JobStatus,
    MemoryKind,
    MessageInput,
    SearchMode,
    SearchRequest,
)
from memhub.runtime import Runtime


def _msgs(*pairs: tuple[str, str]) -> list[MessageInput]:
    return [
        MessageInput(role=role, content=content, id=f"msg-{i}") for i, (role, content) in enumerate(pairs)
    ]


def _drain(runtime: Runtime) -> None:
    runtime.worker.run_until_idle()


def test_add_is_durable_and_idempotent(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    messages = _msgs(("user", "My son's name is Todd the Great"), ("assistant", "Lovely name!"))
    first = service.add_messages(tenant.id, messages, user_id="alice")
    again = service.add_messages(tenant.id, messages, user_id="alice")
    assert first.created and not again.created
    assert first.job.id == again.job.id
    assert service.get_job(tenant.id, first.job.id).status is JobStatus.PENDING
    _drain(runtime)
    job = service.get_job(tenant.id, first.job.id)
    assert job.status is JobStatus.SUCCEEDED
    service.add_messages(tenant.id, messages, user_id="alice")
    _drain(runtime)
    page = service.list_memories(tenant.id, user_id="alice", limit=100)
    kinds = sorted((m.kind.value, m.core) for m in page.items)
    assert kinds == [("episode", False), ("episode", False), ("fact", True)]


def test_search_returns_core_fact_with_sources_for_a_family_question(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    service.add_messages(
        tenant.id,
        _msgs(("user", "My son's name is Todd the Great"), ("user", "The weather is nice today")),
        user_id="alice",
    )
    _drain(runtime)
    results = service.search(tenant.id, SearchRequest(query="what is my son called?", user_id="alice"))
    facts = [r for r in results if r.memory.kind is MemoryKind.FACT]
    assert facts and facts[0].memory.core
    assert "Todd" in facts[0].memory.text
    assert facts[0].sources == ["msg-0"]
    assert all(0.0 <= r.score <= 1.0 for r in results)
    assert results[0].memory.text in (
        "My son's name is Todd the Great",
        "User's son's name is Todd the Great",
    )


def test_threshold_filters_on_the_relevance_score(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    service.add_messages(
        tenant.id,
        _msgs(("user", "I adore hiking in the Alps"), ("user", "Quarterly tax forms are due")),
        user_id="u",
    )
    _drain(runtime)
    loose = service.search(tenant.id, SearchRequest(query="mountain walks", user_id="u", threshold=0.0))
    strict = service.search(tenant.id, SearchRequest(query="mountain walks", user_id="u", threshold=0.99))
    assert len(loose) >= 2
    assert strict == []
    mid = loose[0].score
    kept = service.search(tenant.id, SearchRequest(query="mountain walks", user_id="u", threshold=mid))
    assert all(r.score >= mid for r in kept) and kept


def test_hybrid_results_come_in_score_order_with_the_raw_cosine_beside(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    texts = ("I adore hiking in the Alps", "Quarterly tax forms are due", "We walked up a mountain")
    service.add_messages(tenant.id, _msgs(*(("user", t) for t in texts)), user_id="u")
    _drain(runtime)
    results = service.search(tenant.id, SearchRequest(query="mountain walks", user_id="u"))
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    query = runtime.embedder.embed(["mountain walks"])[0]
    for r in results:
        key = runtime.store.memory_chunks(tenant.id, r.memory.id)[0].dense_key
        assert r.similarity == pytest.approx(float(runtime.embedder.embed([key])[0] @ query), abs=1e-4)


def test_search_is_scoped_to_user_tenant_and_filters(runtime: Runtime) -> None:
    service = runtime.service
    a = service.ensure_tenant("a")
    b = service.ensure_tenant("b")
    service.add_messages(a.id, _msgs(("user", "I love sushi")), user_id="u1", metadata={"topic": "food"})
    service.add_messages(
        a.id, _msgs(("user", "I love sushi rolls too")), user_id="u2", metadata={"topic": "food"}
    )
    service.add_messages(b.id, _msgs(("user", "I love sushi very much")), user_id="u1")
    _drain(runtime)
    hits = service.search(a.id, SearchRequest(query="sushi", user_id="u1"))
    assert hits and all(h.memory.user_id == "u1" and h.memory.tenant_id == a.id for h in hits)
    assert service.search(a.id, SearchRequest(query="sushi", filters={"topic": "travel"})) == []
    food = service.search(a.id, SearchRequest(query="sushi", filters={"topic": "food"}))
    assert {h.memory.user_id for h in food} == {"u1", "u2"}
    with pytest.raises(NotFound):
        service.get_memory(b.id, hits[0].memory.id)


@pytest.mark.parametrize("mode", list(SearchMode))
def test_every_search_mode_finds_an_exact_phrase(runtime: Runtime, mode: SearchMode) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    service.add_messages(
        tenant.id,
        _msgs(("assistant", "The zephyr quartz lamp broke"), ("assistant", "We met at noon")),
        user_id="u",
    )
    _drain(runtime)
    hits = service.search(
        tenant.id, SearchRequest(query="zephyr quartz lamp", user_id="u", mode=mode, limit=1)
    )
    assert hits[0].memory.text == "The zephyr quartz lamp broke"


def test_a_changed_fact_supersedes_the_old_one_and_keeps_history(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    service.add_messages(tenant.id, _msgs(("user", "I live in Paris")), user_id="u")
    _drain(runtime)
    service.add_messages(tenant.id, [MessageInput(role="user", content="I live in Berlin now")], user_id="u")
    _drain(runtime)
    current = service.list_memories(tenant.id, user_id="u", kinds=[MemoryKind.FACT]).items
    assert [m.text for m in current] == ["User lives in Berlin now"]
    history = service.list_memories(
        tenant.id, user_id="u", kinds=[MemoryKind.FACT], include_superseded=True
    ).items
    old = next(m for m in history if m.text == "User lives in Paris")
    assert old.superseded_by == current[0].id and old.valid_to is not None


def test_actions_and_documents_become_searchable(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    service.add_action(tenant.id, ActionInput(action="purchased", content="a red bicycle"), user_id="u")
    text = (
        "Onboarding guide. "
        + "Filler sentence about nothing. " * 100
        + "The VPN password rotates every ninety days."
    )
    service.add_document(
        tenant.id, DocumentInput(content=text, title="Guide", chunk_size=300, chunk_overlap=30)
    )
    _drain(runtime)
    bought = service.search(tenant.id, SearchRequest(query="what did the user buy?", user_id="u", limit=1))
    assert bought[0].memory.text == "purchased: a red bicycle"
    doc = service.search(tenant.id, SearchRequest(query="how often does the VPN password rotate?", limit=1))
    assert doc[0].memory.kind is MemoryKind.DOCUMENT
    assert doc[0].chunk is not None and "ninety days" in doc[0].chunk.text


def test_forget_user_cascades(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    service.add_messages(tenant.id, _msgs(("user", "My name is Zed")), user_id="zed", session_id="s1")
    service.add_messages(tenant.id, _msgs(("user", "I am someone else")), user_id="other")
    _drain(runtime)
    assert service.forget_user(tenant.id, "zed") == 2
    with pytest.raises(NotFound):
        service.get_user(tenant.id, "zed")
    assert service.list_memories(tenant.id, user_id="zed").items == []
    assert service.search(tenant.id, SearchRequest(query="Zed", user_id="zed")) == []
    assert service.list_memories(tenant.id, user_id="other").items


def test_api_keys_are_hashed_and_revocable(runtime: Runtime) -> None:
    service = runtime.service
    key, secret = service.create_api_key("acme", "ci")
    assert secret.startswith("mh_") and secret not in key.model_dump_json()
    assert service.authenticate(secret).name == "acme"
    service.revoke_api_key(key.prefix)
    with pytest.raises(Unauthenticated):
        service.authenticate(secret)
    with pytest.raises(Unauthenticated):
        service.authenticate("mh_wrong")


def test_bad_input_is_rejected_with_a_clear_error(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    with pytest.raises(InvalidInput, match="at least one message"):
        service.add_messages(tenant.id, [], user_id="u")
    with pytest.raises(InvalidInput, match="user_id"):
        service.add_messages(tenant.id, _msgs(("user", "x")), user_id=" ")
    with pytest.raises(LimitExceeded, match="limit is"):
        service.add_messages(tenant.id, [MessageInput(role="user", content="x" * 200_000)], user_id="u")
    with pytest.raises(InvalidInput, match="threshold"):
        service.search(tenant.id, SearchRequest(query="x", threshold=1.5))
    with pytest.raises(InvalidInput, match="query"):
        service.search(tenant.id, SearchRequest(query="  "))
    with pytest.raises(NotFound):
        service.search(tenant.id, SearchRequest(query="x", spaces=["nope"]))
    service.create_space(tenant.id, "work")
    with pytest.raises(Conflict):
        service.create_space(tenant.id, "work")
    assert service.counts(tenant.id).memories == 0


def test_message_timestamps_are_kept(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    when = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)
    service.add_messages(
        tenant.id, [MessageInput(role="user", content="hello", timestamp=when, name="Ann")], user_id="u"
    )
    _drain(runtime)
    memory = service.list_memories(tenant.id, user_id="u").items[0]
    assert memory.occurred_at == when
    assert memory.metadata["speaker"] == "Ann"


def test_an_idempotency_key_names_the_job_whatever_the_content(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    first = service.add_messages(tenant.id, _msgs(("user", "hello")), user_id="u", idempotency_key="req-1")
    again = service.add_messages(tenant.id, _msgs(("user", "hello")), user_id="u", idempotency_key="req-1")
    other = service.add_messages(tenant.id, _msgs(("user", "hello")), user_id="u", idempotency_key="req-2")
    assert first.created and not again.created and other.created
    assert service.get_job_by_key(tenant.id, "req-1").id == first.job.id != other.job.id
    with pytest.raises(NotFound):
        service.get_job_by_key(tenant.id, "never-used")
    with pytest.raises(NotFound):
        service.get_job_by_key(service.ensure_tenant("other").id, "req-1")


def test_all_memories_walks_every_page(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    messages = [MessageInput(role="assistant", content=f"note {i}") for i in range(25)]
    service.add_messages(tenant.id, messages, user_id="u")
    _drain(runtime)
    runtime.service.limits = type(service.limits)(max_page_size=7)
    memories = service.all_memories(tenant.id, user_id="u")
    assert sorted(m.text for m in memories) == sorted(f"note {i}" for i in range(25))


def test_recent_messages_keeps_the_tail_across_pages(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    service.create_session(tenant.id, user_id="u", session_id="s1")
    messages = [
        MessageInput(role="user", content=f"line {i}", metadata={"even": i % 2 == 0}) for i in range(12)
    ]
    service.add_messages(tenant.id, messages, user_id="u", session_id="s1")
    runtime.service.limits = type(service.limits)(max_page_size=5)
    assert [e.content for e in service.recent_messages(tenant.id, "s1", 3)] == [
        "line 9",
        "line 10",
        "line 11",
    ]
    evens = service.recent_messages(tenant.id, "s1", 2, filters={"even": True})
    assert [e.content for e in evens] == ["line 8", "line 10"]
    assert service.recent_messages(tenant.id, "s1", 0) == []


def test_a_sessions_search_covers_the_users_other_sessions_and_actions_its_own_first_on_ties(
    runtime: Runtime,
) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    said = [MessageInput(role="user", content="The spare key is under the blue flower pot.")]
    for session_id in ("s-old", "s-new"):
        service.create_session(tenant.id, user_id="alice", session_id=session_id)
        service.add_messages(tenant.id, said, user_id="alice", session_id=session_id)
    service.add_action(
        tenant.id, ActionInput(action="page_view", content="Alice opened the spare key page"), user_id="alice"
    )
    service.add_messages(tenant.id, said, user_id="bob")
    _drain(runtime)

    request = SearchRequest(query="where is the spare key?", user_id="alice", kinds=[MemoryKind.EPISODE])
    results = service.search_for_session(tenant.id, request, "s-new")
    assert [(r.memory.session_id, r.memory.user_id) for r in results[:2]] == [
        ("s-new", "alice"),
        ("s-old", "alice"),
    ]  # same text, same score: the asking session's first
    assert any(r.memory.text.startswith("page_view:") for r in results)  # an action without a session
    assert {r.memory.user_id for r in results} == {"alice"}
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    with pytest.raises(InvalidInput):
        service.search_for_session(tenant.id, SearchRequest(query="key"), "s-new")


def test_messages_are_found_by_their_callers_id_within_a_session(runtime: Runtime) -> None:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    service.create_session(tenant.id, user_id="alice", session_id="s1")
    service.create_session(tenant.id, user_id="alice", session_id="s2")
    service.add_messages(tenant.id, _msgs(("user", "one"), ("user", "two")), user_id="alice", session_id="s1")
    service.add_messages(tenant.id, _msgs(("user", "other")), user_id="alice", session_id="s2")
    found = service.messages_by_external_id(tenant.id, "s1", ["msg-1", "msg-9"])
    assert {k: e.content for k, e in found.items()} == {"msg-1": "two"}
    assert service.messages_by_external_id(tenant.id, "s2", []) == {}
    assert service.messages_by_external_id(tenant.id, "s2", ["msg-0"])["msg-0"].content == "other"
