"""The Store contract: what every backend must do, checked through the Protocol only.

A backend's test module subclasses :class:`StoreContract` and provides a ``store`` fixture yielding a
fresh, empty store (``tests/storage/test_sqlite.py``; PostgreSQL will do the same). Nothing here may
know which backend runs: no SQL, no file paths, no private attributes.

Memories are written the way the worker writes them — ``submit`` → ``claim_jobs`` → ``complete_job`` —
with small random unit vectors, so no embedding model is involved.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest

from memhub.core.errors import Conflict, InvalidInput, ModelRetired, NotFound
from memhub.core.filters import matches, parse_filter
from memhub.core.models import (
    ApiKey,
    Blob,
    Chunk,
    Event,
    EventKind,
    Job,
    JobStatus,
    Memory,
    MemoryKind,
    Record,
    Scope,
    Session,
    SourceRef,
    Space,
)
from memhub.core.ports import JobOutcome, Store, StoredChunk, StoredMemory, VectorSpace

MODEL = "test-model"
DIM = 8
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)

HOSTILE_TEXTS = [
    "",
    "   ",
    '"',
    '""',
    "'",
    "a:b",
    "sparse_key:secret",
    "(",
    ")",
    "(unbalanced",
    "AND",
    "OR OR",
    "NOT",
    "a AND",
    "NEAR(a b)",
    "*",
    "pre*",
    "^start",
    "-minus",
    "+plus",
    "{col}",
    "[x]",
    "\\",
    "'; DROP TABLE memories; --",
    "\x00nul",
    "emoji 🎉 text",
    "日本語のテキスト",
    "a" * 5000,
    " ".join(f"w{i}" for i in range(500)),
]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def new_id() -> str:
    return str(uuid.uuid4())


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Ingested:
    job: Job
    memory_ids: list[str]
    chunk_ids: list[str]
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # chunk id -> unit vector


class Writer:
    """Writes through the Protocol as the service and the worker do, with a clock that only moves on."""

    def __init__(self, store: Store, seed: int = 0) -> None:
        self.store = store
        self.rng = np.random.default_rng(seed)
        self.seconds = 0.0

    def tick(self) -> datetime:
        self.seconds += 1
        return at(self.seconds)

    def tenant(self, name: str) -> tuple[str, str]:
        """(tenant id, default space id)."""
        tenant = self.store.ensure_tenant(name, self.tick())
        space = self.store.find_space(tenant.id, "default")
        assert space is not None
        return tenant.id, space.id

    def space(self, tenant_id: str, name: str) -> str:
        space = Space(id=new_id(), tenant_id=tenant_id, name=name, created_at=self.tick())
        return self.store.create_space(space).id

    def unit(self) -> np.ndarray:
        vector = self.rng.standard_normal(DIM).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def job(self, tenant_id: str, space_id: str, user_id: str | None, job_id: str | None = None) -> Job:
        now = self.tick()
        return Job(
            id=job_id or new_id(),
            tenant_id=tenant_id,
            space_id=space_id,
            user_id=user_id,
            kind=EventKind.MESSAGE,
            status=JobStatus.PENDING,
            created_at=now,
            updated_at=now,
        )

    def events(self, job: Job, contents: list[str], session_id: str | None = None) -> list[Event]:
        now = self.tick()
        return [
            Event(
                id=new_id(),
                tenant_id=job.tenant_id,
                space_id=job.space_id,
                user_id=job.user_id,
                session_id=session_id,
                kind=EventKind.MESSAGE,
                role="user",
                content=content,
                external_id=f"msg-{i}",
                metadata={"n": i},
                occurred_at=now + timedelta(milliseconds=i),
                created_at=now,
                job_id=job.id,
                position=i,
            )
            for i, content in enumerate(contents)
        ]

    def submit(
        self,
        tenant_id: str,
        space_id: str,
        user_id: str | None,
        contents: list[str],
        session_id: str | None = None,
    ) -> tuple[Job, list[Event]]:
        job = self.job(tenant_id, space_id, user_id)
        events = self.events(job, contents, session_id)
        stored, created = self.store.submit(job, events)
        assert created
        return stored, events

    def memorise(
        self,
        tenant_id: str,
        space_id: str,
        texts: list[str],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        kind: MemoryKind = MemoryKind.FACT,
        core: bool = False,
        metadata: list[dict[str, Any]] | None = None,
        vectors: list[np.ndarray] | None = None,
        supersede: dict[str, int] | None = None,
    ) -> Ingested:
        """One job whose outcome is one memory (one chunk) per text; ``supersede`` maps old memory
        ids to the index of the text replacing them."""
        job, events = self.submit(tenant_id, space_id, user_id, texts, session_id)
        owner = self._claim(job.id)
        outcome, ingested = self._outcome(job, events, texts, kind, core, metadata, vectors)
        for old_id, index in (supersede or {}).items():
            outcome.supersede[old_id] = ingested.memory_ids[index]
        assert self.store.complete_job(outcome, owner, self.tick())
        self.store.release_jobs(owner)
        return ingested

    def _claim(self, job_id: str) -> str:
        """Lease ``job_id`` to a fresh owner; other writers (threads) may hold it for a moment."""
        owner = f"writer-{new_id()}"
        for _ in range(2000):
            claimed = self.store.claim_jobs(owner, self.tick(), at(10**7), 10_000)
            if job_id in [j.id for j in claimed]:
                return owner
            self.store.release_jobs(owner)
            time.sleep(0.001)
        raise AssertionError(f"could not claim job {job_id}")

    def _outcome(
        self,
        job: Job,
        events: list[Event],
        texts: list[str],
        kind: MemoryKind,
        core: bool,
        metadata: list[dict[str, Any]] | None,
        vectors: list[np.ndarray] | None,
    ) -> tuple[JobOutcome, Ingested]:
        now = self.tick()
        outcome = JobOutcome(job_id=job.id, model_id=MODEL)
        ingested = Ingested(job=job, memory_ids=[], chunk_ids=[])
        for i, (text, event) in enumerate(zip(texts, events, strict=True)):
            memory = Memory(
                id=new_id(),
                tenant_id=job.tenant_id,
                space_id=job.space_id,
                user_id=job.user_id,
                session_id=event.session_id,
                kind=kind,
                core=core,
                text=text,
                metadata=metadata[i] if metadata else {},
                sources=[SourceRef(event_id=event.id, external_id=event.external_id)],
                occurred_at=event.occurred_at,
                created_at=now,
                updated_at=now,
                job_id=job.id,
            )
            chunk = Chunk(id=new_id(), memory_id=memory.id, text=text, dense_key=text, sparse_key=text)
            vector = vectors[i] if vectors is not None else self.unit()
            vector_hash = content_hash(f"{text}|{vector.tobytes().hex()}")
            outcome.vectors[vector_hash] = vector
            outcome.memories.append(StoredMemory(memory=memory, chunks=[StoredChunk(chunk, vector_hash)]))
            ingested.memory_ids.append(memory.id)
            ingested.chunk_ids.append(chunk.id)
            ingested.vectors[chunk.id] = vector
        return outcome, ingested


def all_pages(fetch: Any, limit: int) -> list[Any]:
    """Follow ``next_cursor`` to the end; ``fetch(cursor, limit)`` returns a Page."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        page = fetch(cursor, limit)
        assert len(page.items) <= limit
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        assert page.items, "a page with a next cursor must not be empty"
        cursor = page.next_cursor


class StoreContract:
    """Every Store backend passes these. Subclasses provide the ``store`` fixture."""

    @pytest.fixture
    def w(self, store: Store) -> Writer:
        return Writer(store)

    # --- tenants, keys, spaces ---------------------------------------------------------------------
    def test_backend_names_itself(self, store: Store) -> None:
        assert store.backend in ("sqlite", "postgresql")

    def test_ensure_tenant_is_idempotent_and_creates_default_space(self, store: Store, w: Writer) -> None:
        first = store.ensure_tenant("acme", at(1))
        again = store.ensure_tenant("acme", at(2))
        assert again == first
        assert first.created_at == at(1)
        assert [s.name for s in store.list_spaces(first.id)] == ["default"]
        assert store.get_tenant(first.id) == first
        assert store.find_tenant("acme") == first
        assert store.find_tenant("nobody") is None
        other = store.ensure_tenant("globex", at(3))
        assert [t.name for t in store.list_tenants()] == ["acme", "globex"]
        assert other.id != first.id
        with pytest.raises(NotFound):
            store.get_tenant("missing")

    def test_api_keys(self, store: Store, w: Writer) -> None:
        a, _ = w.tenant("a")
        b, _ = w.tenant("b")
        key = ApiKey(id="k1", tenant_id=a, name="ci", prefix="mh_abc", key_hash="h1", created_at=at(5))
        store.add_api_key(key)
        store.add_api_key(key.model_copy(update={"id": "k2", "tenant_id": b, "key_hash": "h2"}))
        assert store.find_api_key("h1") == key
        assert store.find_api_key("nope") is None
        assert [k.id for k in store.list_api_keys(a)] == ["k1"]
        assert sorted(k.id for k in store.list_api_keys()) == ["k1", "k2"]
        with pytest.raises(Conflict):
            store.add_api_key(key.model_copy(update={"id": "k3"}))  # same secret hash
        revoked = store.revoke_api_key("k1", at(9))
        assert revoked.revoked_at == at(9)
        assert store.revoke_api_key("k1", at(10)).revoked_at == at(9)
        found = store.find_api_key("h1")
        assert found is not None and found.revoked_at == at(9)
        with pytest.raises(NotFound):
            store.revoke_api_key("missing", at(11))
        with pytest.raises(NotFound):
            store.add_api_key(key.model_copy(update={"id": "k4", "key_hash": "h4", "tenant_id": "nobody"}))

    def test_spaces(self, store: Store, w: Writer) -> None:
        a, default_a = w.tenant("a")
        b, _ = w.tenant("b")
        docs = Space(id=new_id(), tenant_id=a, name="docs", metadata={"lang": "en"}, created_at=at(100))
        assert store.create_space(docs) == docs
        assert store.get_space(a, docs.id) == docs
        assert store.find_space(a, "docs") == docs
        assert store.find_space(b, "docs") is None
        assert [s.id for s in store.list_spaces(a)] == [default_a, docs.id]
        with pytest.raises(Conflict):
            store.create_space(docs.model_copy(update={"id": new_id()}))
        same_name_elsewhere = docs.model_copy(update={"id": new_id(), "tenant_id": b})
        assert store.create_space(same_name_elsewhere).tenant_id == b
        with pytest.raises(NotFound):
            store.get_space(b, docs.id)
        with pytest.raises(NotFound):
            store.delete_space(b, docs.id)
        store.delete_space(a, docs.id)
        assert store.find_space(a, "docs") is None
        with pytest.raises(NotFound):
            store.delete_space(a, docs.id)

    def test_update_space_renames_and_replaces_metadata(self, store: Store, w: Writer) -> None:
        a, _ = w.tenant("a")
        b, _ = w.tenant("b")
        docs = Space(id=new_id(), tenant_id=a, name="docs", metadata={"lang": "en"}, created_at=at(100))
        store.create_space(docs)
        store.create_space(docs.model_copy(update={"id": new_id(), "name": "notes"}))
        renamed = store.update_space(docs.model_copy(update={"name": "papers", "metadata": {"x": 1}}))
        assert (renamed.name, renamed.metadata, renamed.created_at) == ("papers", {"x": 1}, at(100))
        assert store.get_space(a, docs.id) == renamed and store.find_space(a, "docs") is None
        with pytest.raises(Conflict):
            store.update_space(renamed.model_copy(update={"name": "notes"}))
        with pytest.raises(NotFound):
            store.update_space(renamed.model_copy(update={"tenant_id": b}))

    def test_blobs_are_kept_per_owner(self, store: Store, w: Writer) -> None:
        a, _ = w.tenant("a")
        b, _ = w.tenant("b")

        def blob(tenant: str, owner: str, name: str, data: bytes) -> Blob:
            digest = hashlib.sha256(data).hexdigest()
            return Blob(
                tenant_id=tenant,
                owner_id=owner,
                name=name,
                content_type="application/pdf",
                size=len(data),
                sha256=digest,
                created_at=at(1),
                data=data,
            )

        original = blob(a, "m1", "original", b"%PDF-\x00\xff")
        assert store.put_blob(original).data == b""
        store.put_blob(blob(a, "m1", "page/0", b"png"))
        store.put_blob(blob(a, "m2", "original", b"other"))
        store.put_blob(blob(b, "m1", "original", b"tenant b"))
        assert store.get_blob(a, "m1", "original") == original
        assert [(x.name, x.size, x.data) for x in store.list_blobs(a, "m1")] == [
            ("original", 7, b""),
            ("page/0", 3, b""),
        ]
        store.put_blob(blob(a, "m1", "page/0", b"png2"))  # replaces
        assert store.get_blob(a, "m1", "page/0").data == b"png2"
        assert store.delete_blobs(a, "m1") == 2
        assert store.list_blobs(a, "m1") == [] and store.delete_blobs(a, "m1") == 0
        assert store.get_blob(b, "m1", "original").data == b"tenant b"
        with pytest.raises(NotFound):
            store.get_blob(a, "m1", "original")

    # --- submissions and events --------------------------------------------------------------------
    def test_submit_stores_events_and_creates_user_and_session(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        job, events = w.submit(a, space, "alice", ["hello", "world", "again"], session_id="s1")
        assert store.get_job(a, job.id).status == JobStatus.PENDING
        assert store.job_events(job.id) == events
        user = store.get_user(a, "alice")
        assert user.memory_count == 0
        session = store.get_session(a, "s1")
        assert (session.user_id, session.space_id) == ("alice", space)
        listed = store.list_events(a, session_id="s1").items
        assert [e.id for e in listed] == [e.id for e in events]

    def test_submit_is_idempotent_on_job_id(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        job, events = w.submit(a, space, "alice", ["one", "two"])
        again = job.model_copy(update={"updated_at": at(999)})
        other_events = w.events(again, ["three"])
        existing, created = store.submit(again, other_events)
        assert created is False
        assert existing == store.get_job(a, job.id)
        assert existing.updated_at == job.updated_at
        assert [e.id for e in store.job_events(job.id)] == [e.id for e in events]
        assert store.counts(a).events == 2

    def test_failed_job_is_requeued_by_resubmission(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        job, _ = w.submit(a, space, "alice", ["one"])
        store.claim_jobs("w1", at(100), at(200), 10)
        store.fail_job(job.id, "w1", "boom", at(101), retry=False)
        failed = store.get_job(a, job.id)
        assert (failed.status, failed.last_error) == (JobStatus.FAILED, "boom")
        requeued, created = store.submit(job.model_copy(update={"updated_at": at(300)}), [])
        assert created is True
        assert requeued.status == JobStatus.PENDING
        assert requeued.last_error is None and requeued.lease_owner is None
        assert store.get_job(a, job.id) == requeued
        assert store.counts(a).events == 1

    def test_submit_checks_tenancy_of_space_and_events(self, store: Store, w: Writer) -> None:
        a, space_a = w.tenant("a")
        b, _ = w.tenant("b")
        job = w.job(b, space_a, "bob")
        with pytest.raises(NotFound):
            store.submit(job, w.events(job, ["x"]))
        own = w.job(a, space_a, "alice")
        stray = w.events(own, ["x"])[0].model_copy(update={"tenant_id": b})
        with pytest.raises(InvalidInput):
            store.submit(own, [stray])
        with pytest.raises(NotFound):
            store.get_job(a, job.id)

    def test_list_events_oldest_first_with_cursor_and_filters(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        expected: list[str] = []
        for n in range(12):
            _, events = w.submit(
                a, space, "alice" if n % 2 else "bob", [f"m{n}a", f"m{n}b"], session_id=f"s{n % 2}"
            )
            expected.extend(e.id for e in events)
        pages = all_pages(lambda c, n: store.list_events(a, cursor=c, limit=n), 5)
        assert [e.id for e in pages] == expected
        alice = all_pages(lambda c, n: store.list_events(a, user_id="alice", cursor=c, limit=n), 4)
        assert {e.user_id for e in alice} == {"alice"} and len(alice) == 12
        assert store.list_events(a, kinds=[EventKind.DOCUMENT]).items == []
        with pytest.raises(InvalidInput):
            store.list_events(a, cursor="not-a-cursor")

    # --- the job queue -----------------------------------------------------------------------------
    def test_claim_leases_oldest_first_and_expired_leases_are_reclaimed(
        self, store: Store, w: Writer
    ) -> None:
        a, space = w.tenant("a")
        jobs = [w.submit(a, space, "alice", [f"t{i}"])[0] for i in range(3)]
        first = store.claim_jobs("w1", at(100), at(160), 2)
        assert [j.id for j in first] == [jobs[0].id, jobs[1].id]
        for job in first:
            assert (job.status, job.lease_owner, job.attempts) == (JobStatus.PROCESSING, "w1", 1)
            assert job.lease_expires_at == at(160)
        assert [j.id for j in store.claim_jobs("w2", at(110), at(170), 10)] == [jobs[2].id]
        assert store.claim_jobs("w2", at(120), at(180), 10) == []
        reclaimed = store.claim_jobs("w3", at(161), at(300), 10)
        assert [j.id for j in reclaimed] == [jobs[0].id, jobs[1].id]
        assert all(j.lease_owner == "w3" and j.attempts == 2 for j in reclaimed)

    def test_complete_job_writes_outcome_only_for_the_lease_holder(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        job, events = w.submit(a, space, "alice", ["likes tea"])
        outcome, ingested = w._outcome(job, events, ["likes tea"], MemoryKind.FACT, False, None, None)
        assert store.complete_job(outcome, "w1", at(50)) is False  # never claimed
        store.claim_jobs("w1", at(100), at(110), 1)
        store.claim_jobs("w2", at(111), at(200), 1)  # w1's lease expired; w2 took over
        assert store.complete_job(outcome, "w1", at(112)) is False
        assert store.get_memories(a, ingested.memory_ids) == {}
        assert store.get_job(a, job.id).lease_owner == "w2"
        assert store.complete_job(outcome, "w2", at(113)) is True
        done = store.get_job(a, job.id)
        assert (done.status, done.memory_ids, done.lease_owner) == (
            JobStatus.SUCCEEDED,
            ingested.memory_ids,
            None,
        )
        memory = store.get_memory(a, ingested.memory_ids[0])
        assert memory.text == "likes tea"
        assert memory.sources == [SourceRef(event_id=events[0].id, external_id="msg-0")]
        assert store.complete_job(outcome, "w2", at(114)) is False  # already finished

    def test_complete_job_is_atomic(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        job, events = w.submit(a, space, "alice", ["one", "two"])
        outcome, ingested = w._outcome(job, events, ["one", "two"], MemoryKind.FACT, False, None, None)
        outcome.vectors.pop(outcome.memories[1].chunks[0].vector_hash)  # second chunk has no vector
        store.claim_jobs("w1", at(100), at(200), 1)
        with pytest.raises(InvalidInput):
            store.complete_job(outcome, "w1", at(101))
        assert store.get_memories(a, ingested.memory_ids) == {}
        assert store.get_job(a, job.id).status == JobStatus.PROCESSING

    def test_fail_and_release(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        j1, _ = w.submit(a, space, "alice", ["1"])
        j2, _ = w.submit(a, space, "alice", ["2"])
        j3, _ = w.submit(a, space, "alice", ["3"])
        store.claim_jobs("w1", at(100), at(200), 3)
        store.fail_job(j1.id, "someone-else", "nope", at(101), retry=False)
        assert store.get_job(a, j1.id).status == JobStatus.PROCESSING
        store.fail_job(j1.id, "w1", "transient", at(102), retry=True)
        retried = store.get_job(a, j1.id)
        assert (retried.status, retried.last_error, retried.lease_owner) == (
            JobStatus.PENDING,
            "transient",
            None,
        )
        store.fail_job(j2.id, "w1", "fatal", at(103), retry=False)
        assert store.get_job(a, j2.id).status == JobStatus.FAILED
        assert store.counts(a).jobs_failed == 1
        assert store.release_jobs("w1") == 1
        released = store.get_job(a, j3.id)
        assert (released.status, released.lease_owner, released.lease_expires_at) == (
            JobStatus.PENDING,
            None,
            None,
        )
        assert store.release_jobs("w1") == 0
        assert {j.id for j in store.claim_jobs("w2", at(104), at(300), 10)} == {j1.id, j3.id}

    def test_renew_leases_extends_only_the_leases_the_owner_still_holds(
        self, store: Store, w: Writer
    ) -> None:
        a, space = w.tenant("a")
        j1, _ = w.submit(a, space, "alice", ["1"])
        j2, _ = w.submit(a, space, "alice", ["2"])
        j3, _ = w.submit(a, space, "alice", ["3"])
        assert {j.id for j in store.claim_jobs("w1", at(100), at(110), 2)} == {j1.id, j2.id}
        assert store.renew_leases("w1", [], at(999)) == []
        # j1 renewed in time; j2's lease expired and w2 took it over; j3 was never w1's
        assert store.renew_leases("w1", [j1.id], at(130)) == [j1.id]
        assert [j.id for j in store.claim_jobs("w2", at(120), at(200), 10)] == [j2.id, j3.id]
        assert sorted(store.renew_leases("w1", [j1.id, j2.id, j3.id, "no-such-job"], at(140))) == [j1.id]
        assert store.get_job(a, j1.id).lease_expires_at == at(140)
        assert (store.get_job(a, j2.id).lease_owner, store.get_job(a, j2.id).lease_expires_at) == (
            "w2",
            at(200),
        )
        assert store.claim_jobs("w3", at(135), at(300), 10) == []  # the renewed lease keeps j1 from w3
        store.fail_job(j1.id, "w1", "boom", at(136), retry=True)
        assert store.renew_leases("w1", [j1.id], at(150)) == []  # a job no longer processing stays put
        assert store.get_job(a, j1.id).status == JobStatus.PENDING

    # --- memories ----------------------------------------------------------------------------------
    def test_memory_round_trip_and_chunks(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        meta = [{"topic": "food", "tags": ["x", "y"], "nested": {"n": 1.5}}]
        got = w.memorise(a, space, ["likes green tea"], user_id="alice", session_id="s1", metadata=meta)
        memory = store.get_memory(a, got.memory_ids[0])
        assert (memory.user_id, memory.session_id, memory.space_id) == ("alice", "s1", space)
        assert memory.metadata == meta[0]
        assert memory.kind == MemoryKind.FACT and memory.core is False
        assert memory.valid_to is None and memory.superseded_by is None
        assert memory.created_at.tzinfo is not None
        chunks = store.memory_chunks(a, memory.id)
        assert [c.id for c in chunks] == got.chunk_ids
        assert chunks[0].memory_id == memory.id and chunks[0].sparse_key == "likes green tea"
        assert store.get_chunks(a, [*got.chunk_ids, "missing"]) == {chunks[0].id: chunks[0]}
        assert store.sparse_keys(a, [*got.chunk_ids, "missing"]) == {chunks[0].id: "likes green tea"}
        assert store.get_memories(a, [memory.id, "missing"]) == {memory.id: memory}
        assert store.get_user(a, "alice").memory_count == 1

    def test_update_metadata_replaces_the_dict(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        got = w.memorise(a, space, ["x"], metadata=[{"keep": 1, "drop": 2}])
        updated = store.update_memory_metadata(a, got.memory_ids[0], {"keep": 3}, at(10**6))
        assert updated.metadata == {"keep": 3}
        assert updated.updated_at == at(10**6)
        assert store.get_memory(a, got.memory_ids[0]) == updated
        with pytest.raises(NotFound):
            store.update_memory_metadata(a, "missing", {}, at(1))

    def test_delete_memory_removes_it_from_reads_and_searches(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        got = w.memorise(a, space, ["zebra stripes", "zebra crossing"])
        scope = Scope(tenant_id=a)
        target = got.vectors[got.chunk_ids[0]]
        assert store.vector_search(scope, None, MODEL, target, 1)[0].memory_id == got.memory_ids[0]
        store.delete_memory(a, got.memory_ids[0])
        with pytest.raises(NotFound):
            store.get_memory(a, got.memory_ids[0])
        with pytest.raises(NotFound):
            store.delete_memory(a, got.memory_ids[0])
        assert store.get_chunks(a, got.chunk_ids[:1]) == {}
        assert [h.memory_id for h in store.keyword_search(scope, None, "zebra", 10)] == [got.memory_ids[1]]
        assert [h.memory_id for h in store.vector_search(scope, None, MODEL, target, 10)] == [
            got.memory_ids[1]
        ]
        assert store.counts(a).memories == 1

    def test_supersede_closes_the_old_memory_and_hides_it(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        old = w.memorise(a, space, ["lives in London"], user_id="alice")
        new = w.memorise(a, space, ["lives in Paris"], user_id="alice", supersede={old.memory_ids[0]: 0})
        closed = store.get_memory(a, old.memory_ids[0])
        replacement = store.get_memory(a, new.memory_ids[0])
        assert closed.superseded_by == new.memory_ids[0]
        assert closed.valid_to == (replacement.valid_from or replacement.occurred_at)  # not the job's time
        scope = Scope(tenant_id=a, user_id="alice")
        assert [m.id for m in store.list_memories(scope, None, None, 10).items] == new.memory_ids
        history = Scope(tenant_id=a, user_id="alice", include_superseded=True)
        assert len(store.list_memories(history, None, None, 10).items) == 2
        assert [h.memory_id for h in store.keyword_search(scope, None, "lives", 10)] == new.memory_ids
        hits = store.vector_search(scope, None, MODEL, old.vectors[old.chunk_ids[0]], 10)
        assert [h.memory_id for h in hits] == new.memory_ids
        assert len(store.vector_search(history, None, MODEL, old.vectors[old.chunk_ids[0]], 10)) == 2
        assert store.get_user(a, "alice").memory_count == 1
        store.delete_memory(a, new.memory_ids[0])
        assert store.get_memory(a, old.memory_ids[0]).superseded_by == new.memory_ids[0]

    def test_list_memories_pages_without_duplicates_or_gaps(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        ids: list[str] = []
        for batch in range(30):
            ids.extend(w.memorise(a, space, [f"b{batch} m{i}" for i in range(10)], user_id="u").memory_ids)
        scope = Scope(tenant_id=a)
        seen: list[Memory] = []
        cursor: str | None = None
        while True:
            page = store.list_memories(scope, None, cursor, 7)
            seen.extend(page.items)
            if len(seen) in (70, 140):  # rows keep arriving while the listing is paged
                w.memorise(a, space, ["late 1", "late 2"], user_id="u")
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        seen_ids = [m.id for m in seen]
        assert len(seen_ids) == len(set(seen_ids))
        assert set(ids) <= set(seen_ids)
        keys = [(m.created_at, m.id) for m in seen]
        assert keys == sorted(keys, reverse=True)
        oldest_first = all_pages(lambda c, n: store.list_memories(scope, None, c, n, newest_first=False), 11)
        assert [m.id for m in oldest_first][:300] == sorted(
            ids, key=lambda i: (store.get_memory(a, i).created_at, i)
        )
        page = store.list_memories(scope, None, None, 5)
        with pytest.raises(InvalidInput):
            store.list_memories(scope, None, page.next_cursor, 5, newest_first=False)
        with pytest.raises(InvalidInput):
            store.list_memories(scope, None, "garbage!", 5)

    def test_scope_narrows_listing_and_searches(self, store: Store, w: Writer) -> None:
        a, default = w.tenant("a")
        docs = w.space(a, "docs")
        w.memorise(a, default, ["apple one"], user_id="alice", session_id="s1")
        w.memorise(a, default, ["apple two"], user_id="bob", session_id="s2", core=True)
        w.memorise(a, docs, ["apple three"], user_id="alice", kind=MemoryKind.DOCUMENT)
        w.memorise(a, docs, ["apple four"], kind=MemoryKind.EPISODE)
        cases = {
            "all": (Scope(tenant_id=a), 4),
            "space": (Scope(tenant_id=a, space_ids=[docs]), 2),
            "two spaces": (Scope(tenant_id=a, space_ids=[docs, default]), 4),
            "no space": (Scope(tenant_id=a, space_ids=[]), 0),
            "user": (Scope(tenant_id=a, user_id="alice"), 2),
            "session": (Scope(tenant_id=a, session_id="s2"), 1),
            "kinds": (Scope(tenant_id=a, kinds=[MemoryKind.DOCUMENT, MemoryKind.EPISODE]), 2),
            "core": (Scope(tenant_id=a, core=True), 1),
            "not core": (Scope(tenant_id=a, core=False), 3),
            "unknown user": (Scope(tenant_id=a, user_id="nobody"), 0),
        }
        query = w.unit()
        for name, (scope, expected) in cases.items():
            listed = store.list_memories(scope, None, None, 100).items
            keyword = store.keyword_search(scope, None, "apple", 100)
            dense = store.vector_search(scope, None, MODEL, query, 100)
            assert len(listed) == expected, name
            assert {h.memory_id for h in keyword} == {m.id for m in listed}, name
            assert {h.memory_id for h in dense} == {m.id for m in listed}, name

    def test_metadata_filters_apply_before_the_limit(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        metadata = [
            {"n": i, "colour": ["red", "green", "blue"][i % 3], "tags": ["even"] if i % 2 == 0 else ["odd"]}
            | ({"rare": True} if i % 20 == 0 else {})
            | ({"nested": {"k": i % 4}} if i % 5 == 0 else {})
            for i in range(200)
        ]
        got = w.memorise(a, space, [f"common word {i}" for i in range(200)], metadata=metadata)
        by_id = dict(zip(got.memory_ids, metadata, strict=True))
        filters: list[dict[str, Any]] = [
            {"rare": True},
            {"colour": {"$in": ["red", "blue"]}, "n": {"$gte": 150}},
            {"tags": "even", "n": {"$lt": 30}},
            {"$or": [{"nested.k": 3}, {"rare": True}]},
            {"$not": {"colour": "green"}},
            {"missing": {"$exists": False}, "n": {"$gt": 190}},
            {"colour": {"$ne": "red"}, "n": {"$lte": 10}},
            {"colour": {"$contains": "ee"}, "n": {"$lt": 40}},
            {"colour": {"$icontains": "RE"}, "tags": {"$contains": "odd"}, "n": {"$lt": 50}},
            {"tags": {"$icontains": "EV"}, "n": {"$gt": 180}},
            {"n": {"$contains": 3}, "rare": True},
        ]
        scope = Scope(tenant_id=a)
        query = w.unit()
        for raw in filters:
            flt = parse_filter(raw)
            expected = {i for i, m in by_id.items() if matches(flt, m)}
            listed = all_pages(lambda c, n, f=flt: store.list_memories(scope, f, c, n), 4)
            assert {m.id for m in listed} == expected, raw
            assert len(listed) == len(expected), raw
            wanted = min(10, len(expected))
            keyword = store.keyword_search(scope, flt, "common word", 10)
            dense = store.vector_search(scope, flt, MODEL, query, 10)
            assert len(keyword) == wanted and {h.memory_id for h in keyword} <= expected, raw
            assert len(dense) == wanted and {h.memory_id for h in dense} <= expected, raw

    def test_counts(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        b, _ = w.tenant("b")
        w.memorise(a, space, ["1", "2"], user_id="alice", session_id="s1")
        w.submit(a, space, "bob", ["pending"])
        counts = store.counts(a)
        assert (counts.spaces, counts.users, counts.sessions) == (1, 2, 1)
        assert (counts.events, counts.memories, counts.jobs_pending, counts.jobs_failed) == (3, 2, 1, 0)
        assert store.counts(b).memories == 0
        total = store.counts()
        assert (total.spaces, total.memories) == (2, 2)

    def test_count_memories_counts_what_list_memories_lists(self, store: Store, w: Writer) -> None:
        a, default = w.tenant("a")
        b, other = w.tenant("b")
        docs = w.space(a, "docs")
        first = w.memorise(
            a, default, ["one", "two", "three"], user_id="alice", metadata=[{"n": n} for n in (1, 2, 3)]
        )
        w.memorise(a, default, ["three, again"], user_id="alice", supersede={first.memory_ids[2]: 0})
        w.memorise(a, docs, ["a document"], kind=MemoryKind.DOCUMENT)
        w.memorise(b, other, ["another tenant's"], user_id="alice")
        scopes = [
            Scope(tenant_id=a),
            Scope(tenant_id=a, include_superseded=True),
            Scope(tenant_id=a, space_ids=[docs]),
            Scope(tenant_id=a, user_id="alice", include_superseded=True),
            Scope(tenant_id=a, kinds=[MemoryKind.DOCUMENT]),
            Scope(tenant_id=a, kinds=[MemoryKind.EPISODE]),
            Scope(tenant_id=a, user_id="nobody"),
            Scope(tenant_id=b),
        ]
        for scope in scopes:
            for flt in (None, parse_filter({"n": {"$gte": 2}})):
                listed = all_pages(lambda c, n, s=scope, f=flt: store.list_memories(s, f, c, n), 2)
                assert store.count_memories(scope, flt) == len(listed), (scope, flt)
        assert store.count_memories(Scope(tenant_id=a), None) == 4
        assert store.count_memories(Scope(tenant_id=a, include_superseded=True), None) == 5

    def test_list_memories_by_occurrence_pages_in_time_order(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        for batch in range(6):  # one batch's memories share created_at but not occurred_at
            w.memorise(a, space, [f"b{batch} m{i}" for i in range(9)], user_id="u")
        scope = Scope(tenant_id=a)
        everything = all_pages(lambda c, n: store.list_memories(scope, None, c, n), 100)
        for newest_first in (True, False):
            listed = all_pages(
                lambda c, n, nf=newest_first: store.list_memories(scope, None, c, n, nf, "occurred_at"), 4
            )
            expected = sorted(everything, key=lambda m: (m.occurred_at, m.id), reverse=newest_first)
            assert [m.id for m in listed] == [m.id for m in expected]
        page = store.list_memories(scope, None, None, 4, True, "occurred_at")
        with pytest.raises(InvalidInput):  # a cursor of one order is not one of another
            store.list_memories(scope, None, page.next_cursor, 4, True, "created_at")

    def test_submit_many_stores_every_submission_in_one_transaction(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        jobs = [w.job(a, space, "alice") for _ in range(3)]
        batch = [(job, w.events(job, [f"event {i}"], session_id="s1")) for i, job in enumerate(jobs)]
        stored = store.submit_many([*batch, batch[0]])
        assert [(job.id, created) for job, created in stored] == [
            *[(job.id, True) for job in jobs],
            (jobs[0].id, False),  # the same job again within the batch: a resubmission
        ]
        assert all(store.get_job(a, job.id).status is JobStatus.PENDING for job in jobs)
        contents = [e.content for e in store.list_events(a, session_id="s1").items]
        assert contents == ["event 0", "event 1", "event 2"]
        kept, broken = w.job(a, space, "bob"), w.job(a, "no-such-space", "bob")
        with pytest.raises(NotFound):  # all or nothing: the valid first submission is not stored either
            store.submit_many([(kept, w.events(kept, ["first"])), (broken, w.events(broken, ["second"]))])
        with pytest.raises(NotFound):
            store.get_job(a, kept.id)
        assert store.submit_many([]) == []

    # --- users and sessions ------------------------------------------------------------------------
    def test_users_are_listed_with_cursor(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        names = [f"user-{i:02d}" for i in range(23)]
        for name in names:
            w.submit(a, space, name, ["hi"])
        w.memorise(a, space, ["x", "y"], user_id="user-05")
        users = all_pages(lambda c, n: store.list_users(a, c, n), 5)
        assert [u.id for u in users] == names
        assert [u.memory_count for u in users if u.id == "user-05"] == [2]
        with pytest.raises(NotFound):
            store.get_user(a, "nobody")

    def test_delete_user_cascades(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        gone = w.memorise(a, space, ["alice fact one", "alice fact two"], user_id="alice", session_id="s1")
        kept = w.memorise(a, space, ["bob fact"], user_id="bob", session_id="s2")
        pending, _ = w.submit(a, space, "alice", ["not processed yet"], session_id="s1")
        assert store.delete_user(a, "alice") == 2
        with pytest.raises(NotFound):
            store.get_user(a, "alice")
        with pytest.raises(NotFound):
            store.get_session(a, "s1")
        with pytest.raises(NotFound):
            store.get_job(a, pending.id)
        with pytest.raises(NotFound):
            store.get_job(a, gone.job.id)
        assert store.get_memories(a, gone.memory_ids) == {}
        assert store.get_chunks(a, gone.chunk_ids) == {}
        assert store.sparse_keys(a, gone.chunk_ids) == {}
        assert store.list_events(a, user_id="alice").items == []
        assert store.keyword_search(Scope(tenant_id=a), None, "fact", 10)[0].memory_id == kept.memory_ids[0]
        hits = store.vector_search(Scope(tenant_id=a), None, MODEL, gone.vectors[gone.chunk_ids[0]], 10)
        assert [h.memory_id for h in hits] == kept.memory_ids
        assert store.get_session(a, "s2").user_id == "bob"
        with pytest.raises(NotFound):
            store.delete_user(a, "alice")

    def test_sessions(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        b, space_b = w.tenant("b")
        made = [
            store.create_session(
                Session(
                    id=f"s{i}",
                    tenant_id=a,
                    space_id=space,
                    user_id="alice" if i % 2 else "bob",
                    created_at=at(i),
                )
            )
            for i in range(9)
        ]
        assert store.get_user(a, "alice").id == "alice"  # created on first reference
        assert made[3].metadata == {} and store.get_session(a, "s3") == made[3]
        with pytest.raises(Conflict):
            store.create_session(made[0])
        with pytest.raises(NotFound):
            store.create_session(made[0].model_copy(update={"id": "x", "space_id": space_b}))
        newest_first = all_pages(lambda c, n: store.list_sessions(a, None, c, n), 4)
        assert [s.id for s in newest_first] == [f"s{i}" for i in reversed(range(9))]
        alice = all_pages(lambda c, n: store.list_sessions(a, "alice", c, n), 2)
        assert [s.id for s in alice] == ["s7", "s5", "s3", "s1"]
        store.create_session(made[0].model_copy(update={"tenant_id": b, "space_id": space_b}))
        assert store.get_session(b, "s0").tenant_id == b

    def test_delete_session_cascades(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        gone = w.memorise(a, space, ["in session", "also in session"], user_id="alice", session_id="s1")
        kept = w.memorise(a, space, ["other session"], user_id="alice", session_id="s2")
        assert store.delete_session(a, "s1") == 4  # two memories + two events
        with pytest.raises(NotFound):
            store.get_session(a, "s1")
        with pytest.raises(NotFound):
            store.get_job(a, gone.job.id)
        assert store.get_memories(a, gone.memory_ids) == {}
        assert [
            m.id for m in store.list_memories(Scope(tenant_id=a), None, None, 10).items
        ] == kept.memory_ids
        assert store.delete_session(a, "s1") == 0
        assert store.delete_session(a, "never") == 0
        assert store.get_user(a, "alice").memory_count == 1

    def test_delete_space_cascades(self, store: Store, w: Writer) -> None:
        a, default = w.tenant("a")
        docs = w.space(a, "docs")
        gone = w.memorise(a, docs, ["doc text"], user_id="alice", session_id="s-docs")
        kept = w.memorise(a, default, ["doc text kept"], user_id="alice")
        pending, _ = w.submit(a, docs, "alice", ["queued"])
        store.delete_space(a, docs)
        assert store.get_memories(a, gone.memory_ids) == {}
        with pytest.raises(NotFound):
            store.get_job(a, pending.id)
        with pytest.raises(NotFound):
            store.get_session(a, "s-docs")
        assert [
            h.memory_id for h in store.keyword_search(Scope(tenant_id=a), None, "doc", 10)
        ] == kept.memory_ids
        assert store.counts(a).memories == 1 and store.counts(a).events == 1

    # --- tenancy isolation -------------------------------------------------------------------------
    def test_another_tenant_cannot_see_or_touch_anything(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        b, _ = w.tenant("b")
        got = w.memorise(a, space, ["secret plan"], user_id="alice", session_id="s1")
        memory_id = got.memory_ids[0]
        for call in (
            lambda: store.get_memory(b, memory_id),
            lambda: store.memory_chunks(b, memory_id),
            lambda: store.update_memory_metadata(b, memory_id, {"x": 1}, at(1)),
            lambda: store.delete_memory(b, memory_id),
            lambda: store.get_job(b, got.job.id),
            lambda: store.get_user(b, "alice"),
            lambda: store.delete_user(b, "alice"),
            lambda: store.get_session(b, "s1"),
            lambda: store.get_space(b, space),
        ):
            with pytest.raises(NotFound):
                call()
        assert store.delete_session(b, "s1") == 0
        assert store.get_memories(b, [memory_id]) == {}
        assert store.get_chunks(b, got.chunk_ids) == {}
        assert store.sparse_keys(b, got.chunk_ids) == {}
        assert store.list_memories(Scope(tenant_id=b), None, None, 10).items == []
        assert store.list_memories(Scope(tenant_id=b, space_ids=[space]), None, None, 10).items == []
        assert store.list_events(b).items == []
        assert store.list_users(b, None, 10).items == []
        assert store.keyword_search(Scope(tenant_id=b), None, "secret plan", 10) == []
        assert store.keyword_search(Scope(tenant_id=b, space_ids=[space]), None, "secret", 10) == []
        vector = got.vectors[got.chunk_ids[0]]
        assert store.vector_search(Scope(tenant_id=b), None, MODEL, vector, 10) == []
        assert store.vector_search(Scope(tenant_id=b, space_ids=[space]), None, MODEL, vector, 10) == []
        assert store.get_memory(a, memory_id).metadata == {}  # untouched

    # --- records -----------------------------------------------------------------------------------
    def test_records(self, store: Store, w: Writer) -> None:
        a, _ = w.tenant("a")
        b, _ = w.tenant("b")
        role = Record(
            tenant_id=a, collection="memsy.role", id="r1", data={"p": 1}, created_at=at(1), updated_at=at(1)
        )
        assert store.add_record(role) == role
        store.add_record(role.model_copy(update={"id": "r0", "created_at": at(2), "updated_at": at(2)}))
        store.add_record(role.model_copy(update={"tenant_id": b}))
        with pytest.raises(Conflict):
            store.add_record(role)
        assert [r.id for r in store.list_records(a, "memsy.role")] == ["r1", "r0"]
        assert store.list_records(a, "other") == []
        updated = store.update_record(role.model_copy(update={"data": {"q": 2}, "updated_at": at(5)}))
        assert (updated.data, updated.updated_at, updated.created_at) == ({"q": 2}, at(5), at(1))
        assert store.get_record(b, "memsy.role", "r1").data == {"p": 1}
        store.delete_record(a, "memsy.role", "r1")
        for call in (
            lambda: store.get_record(a, "memsy.role", "r1"),
            lambda: store.delete_record(a, "memsy.role", "r1"),
            lambda: store.update_record(role),
        ):
            with pytest.raises(NotFound):
                call()

    def test_record_pages_walk_a_collection_by_field_in_both_directions(
        self, store: Store, w: Writer
    ) -> None:
        a, _ = w.tenant("a")
        b, _ = w.tenant("b")

        def add(tenant: str, rid: str, second: int, data: dict[str, Any]) -> None:
            when = at(second)
            store.add_record(
                Record(tenant_id=tenant, collection="c", id=rid, data=data, created_at=when, updated_at=when)
            )

        for n in range(7):  # ties on created_at are broken by id
            add(a, f"r{n}", 10 + n // 2, {"space": "s1" if n != 3 else "s2", "n": n})
        add(a, "num", 30, {"space": 1})  # a number never equals the string "1"
        add(a, "one", 31, {"space": "1"})
        add(b, "r9", 12, {"space": "s1"})
        store.add_record(
            Record(
                tenant_id=a,
                collection="other",
                id="x",
                data={"space": "s1"},
                created_at=at(1),
                updated_at=at(1),
            )
        )

        def walk(newest_first: bool, where: dict[str, str] | None, size: int) -> list[str]:
            seen, cursor = [], None
            while True:
                page = store.page_records(
                    a, "c", where=where, cursor=cursor, limit=size, newest_first=newest_first
                )
                assert len(page.items) <= size
                seen += [r.id for r in page.items]
                if page.next_cursor is None:
                    return seen
                cursor = page.next_cursor

        s1 = ["r0", "r1", "r2", "r4", "r5", "r6"]
        for size in (1, 2, 6, 50):
            assert walk(False, {"space": "s1"}, size) == s1
            assert walk(True, {"space": "s1"}, size) == s1[::-1]
        assert walk(False, None, 3) == [r.id for r in store.list_records(a, "c")]
        assert walk(False, {"space": "1"}, 5) == ["one"]
        assert walk(False, {"space": "s1", "n": "0"}, 5) == []  # n is a number
        assert walk(False, {"missing": "s1"}, 5) == []
        assert store.page_records(b, "c", where={"space": "s1"}).items[0].id == "r9"
        first = store.page_records(a, "c", limit=2)
        with pytest.raises(InvalidInput):  # a cursor of one direction is refused by the other
            store.page_records(a, "c", cursor=first.next_cursor, newest_first=True)
        for bad in ({'sp"ace': "s1"}, {"a.b": "s1"}, {"space": 1}):
            with pytest.raises(InvalidInput):
                store.page_records(a, "c", where=bad)  # type: ignore[arg-type]

    def test_get_jobs_returns_the_tenants_jobs_by_id(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        b, other = w.tenant("b")
        mine = [w.job(a, space, None) for _ in range(3)]
        for job in mine:
            store.submit(job, w.events(job, ["hello"]))
        theirs = w.job(b, other, None)
        store.submit(theirs, w.events(theirs, ["hi"]))
        ids = [mine[2].id, "unknown", mine[0].id, theirs.id, mine[0].id]
        found = store.get_jobs(a, ids)
        assert set(found) == {mine[0].id, mine[2].id}
        assert found[mine[2].id] == store.get_job(a, mine[2].id)
        assert store.get_jobs(a, []) == {}
        many = [f"no-{n}" for n in range(1200)] + [mine[1].id]  # more ids than one statement binds
        assert list(store.get_jobs(a, many)) == [mine[1].id]

    # --- vectors and search ------------------------------------------------------------------------
    def test_vectors_are_cached_by_hash(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        got = w.memorise(a, space, ["cache me"])
        chunk_id = got.chunk_ids[0]
        vector = got.vectors[chunk_id]
        vector_hash = content_hash(f"cache me|{vector.tobytes().hex()}")
        cached = store.get_vectors(MODEL, [vector_hash, "unknown"])
        assert list(cached) == [vector_hash]
        np.testing.assert_allclose(cached[vector_hash], vector, rtol=1e-6)
        assert store.get_vectors("another-model", [vector_hash]) == {}
        np.testing.assert_allclose(store.chunk_vectors(MODEL, [chunk_id, "x"])[chunk_id], vector, rtol=1e-6)
        # a later job reuses the cached vector without sending it again
        job, events = w.submit(a, space, None, ["same text"])
        outcome, _ = w._outcome(job, events, ["same text"], MemoryKind.FACT, False, None, None)
        outcome.memories[0].chunks[0].vector_hash = vector_hash
        outcome.vectors = {}
        store.claim_jobs("w9", at(10**5), at(10**6), 100)
        assert store.complete_job(outcome, "w9", at(10**5 + 1))
        reused = store.chunk_vectors(MODEL, [outcome.memories[0].chunks[0].chunk.id])
        np.testing.assert_allclose(next(iter(reused.values())), vector, rtol=1e-6)

    def test_vector_models_name_every_model_with_chunk_vectors(self, store: Store, w: Writer) -> None:
        assert store.vector_models() == []
        a, space = w.tenant("a")
        w.memorise(a, space, ["a remembered fact"])
        assert store.vector_models() == [MODEL]

    def test_vector_search_is_exact(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        ingested = [
            w.memorise(a, space, [f"t{b}-{i}" for i in range(40)], user_id=f"u{b % 3}") for b in range(6)
        ]
        vectors = {cid: v for got in ingested for cid, v in got.vectors.items()}
        users = {cid: f"u{b % 3}" for b, got in enumerate(ingested) for cid in got.chunk_ids}
        ids = list(vectors)
        matrix = np.stack([vectors[i] for i in ids])
        for trial in range(10):
            query = w.unit()
            user = None if trial % 2 else f"u{trial % 3}"
            allowed = np.array([user is None or users[i] == user for i in ids])
            scores = np.where(allowed, matrix @ query, -np.inf)
            order = np.argsort(-scores, kind="stable")[:7]
            hits = store.vector_search(Scope(tenant_id=a, user_id=user), None, MODEL, query, 7)
            assert [h.chunk_id for h in hits] == [ids[i] for i in order]
            np.testing.assert_allclose([h.score for h in hits], scores[order], atol=1e-5)
        assert store.vector_search(Scope(tenant_id=a), None, MODEL, w.unit(), 0) == []
        assert store.vector_search(Scope(tenant_id=a), None, "unknown-model", w.unit(), 5) == []
        with pytest.raises(InvalidInput):
            store.vector_search(Scope(tenant_id=a), None, MODEL, np.ones(DIM + 1, dtype=np.float32), 5)

    def test_a_dense_hit_hands_back_only_its_chunks_stored_vector(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        got = w.memorise(a, space, [f"vector {i}" for i in range(12)])
        hits = store.vector_search(Scope(tenant_id=a), None, MODEL, w.unit(), 12)
        stored = store.chunk_vectors(MODEL, [h.chunk_id for h in hits])
        for hit in hits:  # optional (the retriever reads the others); when given, the stored one to the bit
            if hit.vector is not None:
                assert hit.vector.dtype == np.float32
                assert np.array_equal(hit.vector, stored[hit.chunk_id])
        assert {h.chunk_id for h in hits} == set(got.chunk_ids)

    def test_chunk_vectors_read_for_a_tenant_are_the_stored_ones_to_the_bit(
        self, store: Store, w: Writer
    ) -> None:
        a, space = w.tenant("a")
        b, space_b = w.tenant("b")
        got = w.memorise(a, space, [f"vector {i}" for i in range(12)])
        elsewhere = w.memorise(b, space_b, ["another tenant's vector"])
        store.vector_search(Scope(tenant_id=a), None, MODEL, w.unit(), 3)  # a store may index them now
        later = w.memorise(a, space, ["written after that search"])
        store.delete_memory(a, got.memory_ids[0])
        asked = [*got.chunk_ids, *later.chunk_ids, *elsewhere.chunk_ids, "unknown"]
        for_tenant = store.chunk_vectors(MODEL, asked, a)
        from_file = store.chunk_vectors(MODEL, asked)
        assert (
            set(for_tenant) == set(from_file) == {*got.chunk_ids[1:], *later.chunk_ids, *elsewhere.chunk_ids}
        )
        for chunk_id, vector in for_tenant.items():
            assert vector.dtype == np.float32
            assert vector.tobytes() == from_file[chunk_id].tobytes()
        assert store.chunk_vectors("another-model", asked, a) == {}

    def test_keyword_search_ranks_and_survives_hostile_text(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        got = w.memorise(
            a,
            space,
            [
                "the café serves espresso",
                "espresso espresso espresso machine",
                "tea garden",
                "AND OR NOT near",
            ],
        )
        hits = store.keyword_search(Scope(tenant_id=a), None, "espresso", 10)
        assert [h.memory_id for h in hits] == [got.memory_ids[1], got.memory_ids[0]]
        assert hits[0].score >= hits[1].score > 0
        accents = store.keyword_search(Scope(tenant_id=a), None, "CAFE", 10)
        assert [h.memory_id for h in accents] == [got.memory_ids[0]]
        operators = store.keyword_search(Scope(tenant_id=a), None, "AND", 10)
        assert [h.memory_id for h in operators] == [got.memory_ids[3]]
        for text in HOSTILE_TEXTS:
            for hit in store.keyword_search(Scope(tenant_id=a), None, text, 5):
                assert hit.memory_id in got.memory_ids
        assert store.keyword_search(Scope(tenant_id=a), None, "espresso", 0) == []

    def test_keyword_search_finds_other_forms_of_a_word(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        got = w.memorise(
            a,
            space,
            [
                "We went camping by the lake",
                "two books on the shelf",
                "Die Kinder spielten im Garten",
                "東京タワー",
            ],
        )

        def found(query: str) -> list[str]:
            return [h.memory_id for h in store.keyword_search(Scope(tenant_id=a), None, query, 10)]

        assert found("camped") == found("Camps") == found("camping") == [got.memory_ids[0]]
        assert found("book") == [got.memory_ids[1]]
        # Words of other languages are not broken: each still finds itself, whatever English rules do.
        assert found("Kinder") == found("spielten") == [got.memory_ids[2]]
        assert found("東京タワー") == [got.memory_ids[3]]

    def test_keyword_search_ranks_a_rare_word_above_common_ones(self, store: Store, w: Writer) -> None:
        a, space = w.tenant("a")
        common = [f"weekly project meeting notes, project meeting {i}" for i in range(30)]
        got = w.memorise(a, space, [*common, "zanzibar trip"])
        hits = store.keyword_search(Scope(tenant_id=a), None, "project meeting zanzibar", 5)
        assert hits[0].memory_id == got.memory_ids[-1]
        assert len(hits) == 5 and hits[0].score > hits[1].score

    # --- switching the embedding model (memhub reindex) --------------------------------------------
    def _embed_for(self, store: Store, w: Writer, model: str, chunks: list[Any]) -> dict[int, np.ndarray]:
        """Give ``chunks`` (ChunkToEmbed) vectors of ``model``; returns them by chunk rid."""
        vectors = {chunk.rid: w.unit() for chunk in chunks}
        hashes = {chunk.rid: content_hash(f"{model}|{chunk.rid}") for chunk in chunks}
        store.add_chunk_vectors(
            model, {hashes[rid]: v for rid, v in vectors.items()}, [(rid, hashes[rid]) for rid in vectors]
        )
        return vectors

    def test_a_reindex_serves_the_old_vectors_until_every_chunk_has_a_new_one(
        self, store: Store, w: Writer
    ) -> None:
        a, space = w.tenant("a")
        old = w.memorise(a, space, ["first fact", "second fact", "third fact"])
        assert store.vector_space() == VectorSpace()
        store.begin_reindex(MODEL, "new-model")
        assert store.vector_space() == VectorSpace(active=MODEL, target="new-model")
        first = store.chunks_to_embed("new-model", 0, 2)
        assert [c.dense_key for c in first] == ["first fact", "second fact"]
        assert all(c.tenant_id == a for c in first) and first[0].rid < first[1].rid
        rest = store.chunks_to_embed("new-model", first[-1].rid, 2)
        assert [c.dense_key for c in rest] == ["third fact"]
        assert store.chunks_to_embed("new-model", rest[-1].rid, 2) == []
        self._embed_for(store, w, "new-model", first)
        assert store.reindex_progress("new-model") == (2, 3)
        assert [c.dense_key for c in store.chunks_to_embed("new-model", 0, 10)] == ["third fact"]
        new_space = store.vector_search(Scope(tenant_id=a), None, "new-model", w.unit(), 10)
        assert len(new_space) == 2  # (an index of the new model made before the switch must not go stale)
        # not complete: nothing switches, and searches still rank the old model's vectors
        assert store.finish_reindex("new-model") == 1
        assert store.vector_space() == VectorSpace(active=MODEL, target="new-model")
        assert store.vector_models() == sorted([MODEL, "new-model"])
        query = old.vectors[old.chunk_ids[2]]
        assert store.vector_search(Scope(tenant_id=a), None, MODEL, query, 1)[0].chunk_id == old.chunk_ids[2]
        vectors = self._embed_for(store, w, "new-model", rest)
        assert store.finish_reindex("new-model") == 0
        assert store.vector_space() == VectorSpace(active="new-model")
        assert store.vector_models() == ["new-model"]
        assert store.chunk_vectors(MODEL, old.chunk_ids) == {}
        with pytest.raises(ModelRetired, match="restart it with --embed-model new-model"):
            store.vector_search(Scope(tenant_id=a), None, MODEL, query, 10)  # a server still on MODEL
        hits = store.vector_search(Scope(tenant_id=a), None, "new-model", vectors[rest[0].rid], 10)
        assert len(hits) == 3 and hits[0].chunk_id == old.chunk_ids[2]
        assert hits[0].score == pytest.approx(1.0, abs=1e-5)

    def test_chunks_written_during_a_reindex_are_left_for_it_and_a_retired_model_is_refused(
        self, store: Store, w: Writer
    ) -> None:
        a, space = w.tenant("a")
        w.memorise(a, space, ["before the reindex"])
        store.begin_reindex(MODEL, "new-model")
        self._embed_for(store, w, "new-model", store.chunks_to_embed("new-model", 0, 10))
        w.memorise(a, space, ["while it runs"])  # a worker still on the old model: accepted
        assert store.finish_reindex("new-model") == 1
        late = store.chunks_to_embed("new-model", 0, 10)
        assert [c.dense_key for c in late] == ["while it runs"]
        self._embed_for(store, w, "new-model", late)
        assert store.finish_reindex("new-model") == 0
        before = store.counts(a)
        with pytest.raises(ModelRetired, match="--embed-model new-model"):
            w.memorise(a, space, ["after the switch"])
        assert store.counts(a).memories == before.memories
        # a worker on the new model writes as usual
        job, events = w.submit(a, space, None, ["after the switch"])
        owner = w._claim(job.id)
        outcome, _ = w._outcome(job, events, ["after the switch"], MemoryKind.FACT, False, None, None)
        outcome.model_id = "new-model"
        assert store.complete_job(outcome, owner, w.tick())
        assert store.reindex_progress("new-model") == (3, 3)

    def test_adding_reindex_vectors_skips_deleted_chunks_and_keeps_existing_links(
        self, store: Store, w: Writer
    ) -> None:
        a, space = w.tenant("a")
        got = w.memorise(a, space, ["kept", "forgotten"])
        store.begin_reindex(MODEL, "new-model")
        chunks = store.chunks_to_embed("new-model", 0, 10)
        store.delete_memory(a, got.memory_ids[1])
        first = self._embed_for(store, w, "new-model", chunks)
        assert store.reindex_progress("new-model") == (1, 1)
        self._embed_for(store, w, "new-model", chunks[:1])  # another vector for the same chunk: ignored
        kept = store.chunk_vectors("new-model", [got.chunk_ids[0]])[got.chunk_ids[0]]
        np.testing.assert_allclose(kept, first[chunks[0].rid], rtol=1e-6)
        assert store.finish_reindex("new-model") == 0
        assert store.vector_models() == ["new-model"]
