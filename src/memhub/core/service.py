"""``MemoryService``: every use case of memhub, in one place, over the ports.

Every API surface (native HTTP, the four protocol adapters, MCP, the console, the embedded client) is a
thin adapter that parses its input, calls one method here and serialises the result. Nothing in here
knows about HTTP or SQL. Every method takes the caller's ``tenant_id`` first; the store enforces it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import ids
from .errors import Conflict, InvalidInput, LimitExceeded, NotFound, Unauthenticated
from .filters import matches, parse_filter
from .keycache import KeyCache
from .models import (
    ActionInput,
    ApiKey,
    Blob,
    Counts,
    DocumentInput,
    Event,
    EventKind,
    Job,
    JobStatus,
    Memory,
    MemoryKind,
    MessageInput,
    Page,
    Record,
    Scope,
    SearchRequest,
    SearchResult,
    Session,
    Space,
    Tenant,
    User,
)
from .paging import iter_items
from .ports import Clock, Embedder, MemoryOrder, Reranker, Store
from .retrieval import Retriever

DEFAULT_SPACE = "default"
RECALL_KEY = "_recall"
"""Metadata key of a memory's recall statistics (``{"count", "last_at"}``, see ``record_recall``)."""
KEY_PREFIX = "mh_"


@dataclass(frozen=True)
class Limits:
    """Per-request limits the service enforces whatever door a request came through."""

    max_messages_per_request: int = 500
    max_content_chars: int = 100_000
    max_document_chars: int = 5_000_000
    max_page_size: int = 1000
    max_search_limit: int = 200
    max_metadata_bytes: int = 16_384
    max_blob_bytes: int = 50_000_000


@dataclass(frozen=True)
class Submitted:
    """The answer to an add: the job, and whether this call created (or re-queued) it."""

    job: Job
    created: bool


@dataclass(frozen=True)
class Submission:
    """A validated add, not stored yet: its job and events (``prepare_*``, then :meth:`submit_all`)."""

    job: Job
    events: list[Event]


def hash_api_key(secret: str) -> str:
    """Keys are 256-bit random tokens, so one SHA-256 is a safe, fast, deterministic lookup hash."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class MemoryService:
    """The use cases. Construct once per process (``runtime.py``) and share between threads."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        clock: Clock,
        *,
        reranker: Reranker | None = None,
        limits: Limits | None = None,
        on_submitted: Callable[[], None] | None = None,
        key_cache: KeyCache | None = None,
    ) -> None:
        self.store = store
        self._keys = key_cache or KeyCache()
        self._on_submitted = on_submitted
        self.embedder = embedder
        self.clock = clock
        self.limits = limits or Limits()
        self._retriever = Retriever(store, embedder, clock, reranker)

    # ------------------------------------------------------------------------------------------
    # tenants and API keys

    def ensure_tenant(self, name: str) -> Tenant:
        _check_name("tenant name", name)
        return self.store.ensure_tenant(name, self.clock.now())

    def list_tenants(self) -> list[Tenant]:
        return self.store.list_tenants()

    def create_api_key(self, tenant_name: str, name: str = "") -> tuple[ApiKey, str]:
        """Create a key for the tenant (created if missing). The secret is returned once, never stored."""
        tenant = self.ensure_tenant(tenant_name)
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            id=ids.new_id(),
            tenant_id=tenant.id,
            name=name or "key",
            prefix=secret[:10],
            key_hash=hash_api_key(secret),
            created_at=self.clock.now(),
        )
        self.store.add_api_key(key)
        return key, secret

    def authenticate(self, secret: str | None) -> Tenant:
        """The tenant of a live key, or :class:`Unauthenticated` (see ``keycache.py`` for revocation)."""
        if not secret:
            raise Unauthenticated("missing API key")
        digest = hash_api_key(secret)
        cached = self._keys.get(digest)
        if cached is not None:
            return cached
        generation = self._keys.generation
        key = self.store.find_api_key(digest)
        # The lookup is by hash; the constant-time compare guards backends whose index lookup might
        # match on a prefix or collation rather than the exact bytes.
        if key is None or key.revoked_at is not None or not hmac.compare_digest(key.key_hash, digest):
            raise Unauthenticated("invalid or revoked API key")
        tenant = self.store.get_tenant(key.tenant_id)
        self._keys.put(digest, tenant, generation)
        return tenant

    def recently_authenticated(self, secret: str) -> Tenant | None:
        """The tenant of a key :meth:`authenticate` accepted moments ago, without reading the store.

        None means "ask :meth:`authenticate`", never "refused". Lets an async caller skip handing the
        check to a worker thread when the answer is already in memory.
        """
        return self._keys.get(hash_api_key(secret))

    def list_api_keys(self, tenant_name: str | None = None) -> list[ApiKey]:
        tenant_id = None
        if tenant_name is not None:
            tenant = self.store.find_tenant(tenant_name)
            if tenant is None:
                raise NotFound(f"no tenant named {tenant_name!r}")
            tenant_id = tenant.id
        return self.store.list_api_keys(tenant_id)

    def revoke_api_key(self, key_id_or_prefix: str, *, tenant_id: str | None = None) -> ApiKey:
        """Revoke a key by id or prefix; with ``tenant_id``, only one of that tenant's keys."""
        for key in self.store.list_api_keys(tenant_id):
            if key_id_or_prefix in (key.id, key.prefix):
                revoked = self.store.revoke_api_key(key.id, self.clock.now())
                self._keys.clear()  # refused from the next request on, not after the cache's TTL
                return revoked
        raise NotFound(f"no API key with id or prefix {key_id_or_prefix!r}")

    def has_api_keys(self) -> bool:
        return bool(self.store.list_api_keys(None))

    # ------------------------------------------------------------------------------------------
    # spaces

    def create_space(
        self,
        tenant_id: str,
        name: str,
        metadata: dict[str, Any] | None = None,
        *,
        space_id: str | None = None,
    ) -> Space:
        """A new space; ``space_id`` lets a caller choose the id (:class:`Conflict` if it is taken)."""
        _check_name("space name", name)
        if space_id is not None:
            _check_name("space id", space_id)
        self._check_metadata(metadata)
        if self.store.find_space(tenant_id, name) is not None:
            raise Conflict(f"a space named {name!r} already exists")
        space = Space(
            id=space_id or ids.new_id(),
            tenant_id=tenant_id,
            name=name,
            metadata=metadata or {},
            created_at=self.clock.now(),
        )
        return self.store.create_space(space)

    def list_spaces(self, tenant_id: str) -> list[Space]:
        return self.store.list_spaces(tenant_id)

    def get_space(self, tenant_id: str, space_id: str) -> Space:
        return self.store.get_space(tenant_id, space_id)

    def update_space(
        self,
        tenant_id: str,
        space_id: str,
        *,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Space:
        """Rename a space and/or replace its metadata; the ``default`` space keeps its name."""
        space = self.store.get_space(tenant_id, space_id)
        if name is not None:
            _check_name("space name", name)
            if space.name == DEFAULT_SPACE and name != DEFAULT_SPACE:
                raise Conflict("the default space cannot be renamed")
        self._check_metadata(metadata)
        changes = {"name": name or space.name, "metadata": space.metadata if metadata is None else metadata}
        return self.store.update_space(space.model_copy(update=changes))

    def delete_space(self, tenant_id: str, space_id: str) -> None:
        space = self.store.get_space(tenant_id, space_id)
        if space.name == DEFAULT_SPACE:
            raise Conflict("the default space cannot be deleted")
        self.store.delete_space(tenant_id, space_id)

    def resolve_space(self, tenant_id: str, name_or_id: str | None) -> Space:
        """A space by name or id; ``None`` means the tenant's default space."""
        name = name_or_id or DEFAULT_SPACE
        space = self.store.find_space(tenant_id, name)
        if space is not None:
            return space
        if name == DEFAULT_SPACE:
            self.store.ensure_tenant(self.store.get_tenant(tenant_id).name, self.clock.now())
            found = self.store.find_space(tenant_id, name)
            if found is not None:
                return found
        try:
            return self.store.get_space(tenant_id, name)
        except NotFound:
            raise NotFound(f"no space named or with id {name!r}") from None

    # ------------------------------------------------------------------------------------------
    # ingestion

    def add_messages(
        self,
        tenant_id: str,
        messages: Sequence[MessageInput],
        *,
        user_id: str,
        session_id: str | None = None,
        space: str | None = None,
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Submitted:
        """Store a conversation's messages durably and queue their processing; returns at once.

        See :meth:`prepare_messages` for the arguments.
        """
        return self._store_one(
            self.prepare_messages(
                tenant_id,
                messages,
                user_id=user_id,
                session_id=session_id,
                space=space,
                metadata=metadata,
                idempotency_key=idempotency_key,
            )
        )

    def prepare_messages(
        self,
        tenant_id: str,
        messages: Sequence[MessageInput],
        *,
        user_id: str,
        session_id: str | None = None,
        space: str | None = None,
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Submission:
        """Validate an :meth:`add_messages` and build its job and events without storing anything.

        ``idempotency_key`` serves protocols whose request id is the caller's own deterministic digest
        of the input (GoMemory's ReqId): the job id then derives from (tenant, space, key) rather than
        from the content, so :meth:`get_job_by_key` finds the job again from the caller's id without
        any mapping table. The caller promises that one key always names the same input.
        """
        _check_name("user_id", user_id)
        if session_id is not None:
            _check_name("session_id", session_id)
        if not messages:
            raise InvalidInput("messages must contain at least one message")
        if len(messages) > self.limits.max_messages_per_request:
            raise LimitExceeded(
                f"too many messages in one request ({len(messages)}); "
                f"the limit is {self.limits.max_messages_per_request}"
            )
        for i, message in enumerate(messages):
            self._check_content(f"messages[{i}].content", message.content)
            self._check_metadata(message.metadata)
        self._check_metadata(metadata)
        target = self.resolve_space(tenant_id, space)
        payload = [m.model_dump(mode="json") for m in messages]
        job_id = (
            _keyed_job_id(tenant_id, target.id, idempotency_key)
            if idempotency_key is not None
            else ids.derived_id("messages", tenant_id, target.id, user_id, session_id, payload, metadata)
        )
        now = self.clock.now()
        events = [
            Event(
                id=ids.derived_id(job_id, i),
                tenant_id=tenant_id,
                space_id=target.id,
                user_id=user_id,
                session_id=session_id,
                kind=EventKind.MESSAGE,
                role=m.role,
                name=m.name,
                content=m.content,
                external_id=m.id,
                metadata={**(metadata or {}), **m.metadata},
                occurred_at=m.timestamp or now,
                created_at=now,
                job_id=job_id,
                position=i,
            )
            for i, m in enumerate(messages)
        ]
        return self._submission(job_id, tenant_id, target.id, user_id, EventKind.MESSAGE, events)

    def add_action(
        self,
        tenant_id: str,
        action: ActionInput,
        *,
        user_id: str,
        session_id: str | None = None,
        space: str | None = None,
        idempotency_key: str | None = None,
    ) -> Submitted:
        """Store a user action as an event; it becomes a searchable memory of that user.

        ``idempotency_key``: as for :meth:`add_messages`.
        """
        return self._store_one(
            self.prepare_action(
                tenant_id,
                action,
                user_id=user_id,
                session_id=session_id,
                space=space,
                idempotency_key=idempotency_key,
            )
        )

    def prepare_action(
        self,
        tenant_id: str,
        action: ActionInput,
        *,
        user_id: str,
        session_id: str | None = None,
        space: str | None = None,
        idempotency_key: str | None = None,
    ) -> Submission:
        """Validate an :meth:`add_action` and build its job and event without storing anything."""
        _check_name("user_id", user_id)
        self._check_content("content", action.content)
        self._check_metadata(action.metadata)
        target = self.resolve_space(tenant_id, space)
        payload = action.model_dump(mode="json")
        job_id = (
            _keyed_job_id(tenant_id, target.id, idempotency_key)
            if idempotency_key is not None
            else ids.derived_id("action", tenant_id, target.id, user_id, session_id, payload)
        )
        now = self.clock.now()
        event = Event(
            id=ids.derived_id(job_id, 0),
            tenant_id=tenant_id,
            space_id=target.id,
            user_id=user_id,
            session_id=session_id,
            kind=EventKind.ACTION,
            role="action",
            name=action.action,
            content=action.as_text(),
            external_id=action.id,
            metadata=action.metadata,
            occurred_at=action.timestamp or now,
            created_at=now,
            job_id=job_id,
        )
        return self._submission(job_id, tenant_id, target.id, user_id, EventKind.ACTION, [event])

    def add_document(
        self,
        tenant_id: str,
        document: DocumentInput,
        *,
        user_id: str | None = None,
        space: str | None = None,
    ) -> Submitted:
        """Store a document; the worker chunks and indexes it."""
        if user_id is not None:
            _check_name("user_id", user_id)
        if not document.content.strip():
            raise InvalidInput("document content is empty")
        if len(document.content) > self.limits.max_document_chars:
            raise LimitExceeded(
                f"document is {len(document.content)} characters; the limit is "
                f"{self.limits.max_document_chars}"
            )
        if document.chunk_overlap >= document.chunk_size:
            raise InvalidInput("chunk_overlap must be smaller than chunk_size")
        self._check_metadata(document.metadata)
        target = self.resolve_space(tenant_id, space)
        payload = document.model_dump(mode="json")
        job_id = ids.derived_id("document", tenant_id, target.id, user_id, payload)
        now = self.clock.now()
        meta = {
            **document.metadata,
            "chunk_size": document.chunk_size,
            "chunk_overlap": document.chunk_overlap,
        }
        if document.title:
            meta["title"] = document.title
        event = Event(
            id=ids.derived_id(job_id, 0),
            tenant_id=tenant_id,
            space_id=target.id,
            user_id=user_id,
            kind=EventKind.DOCUMENT,
            role="document",
            name=document.title,
            content=document.content,
            external_id=document.id,
            metadata=meta,
            occurred_at=document.timestamp or now,
            created_at=now,
            job_id=job_id,
        )
        return self._store_one(
            self._submission(job_id, tenant_id, target.id, user_id, EventKind.DOCUMENT, [event])
        )

    def submit_all(self, tenant_id: str, submissions: Sequence[Submission]) -> list[Submitted]:
        """Store prepared submissions in one store transaction (all or nothing), in order.

        For protocols whose one request carries many independent inputs (Memsy's ``/ingest``): N inputs
        cost one transaction, not N. A job id repeated within the batch is a resubmission of the first.
        """
        if any(s.job.tenant_id != tenant_id for s in submissions):
            raise InvalidInput("every submission must belong to the caller's tenant")
        if not submissions:
            return []
        stored = self.store.submit_many([(s.job, s.events) for s in submissions])
        if any(created for _, created in stored) and self._on_submitted is not None:
            self._on_submitted()
        return [Submitted(job, created) for job, created in stored]

    def _submission(
        self,
        job_id: str,
        tenant_id: str,
        space_id: str,
        user_id: str | None,
        kind: EventKind,
        events: list[Event],
    ) -> Submission:
        now = self.clock.now()
        job = Job(
            id=job_id,
            tenant_id=tenant_id,
            space_id=space_id,
            user_id=user_id,
            kind=kind,
            status=JobStatus.PENDING,
            created_at=now,
            updated_at=now,
        )
        return Submission(job, events)

    def _store_one(self, submission: Submission) -> Submitted:
        stored, created = self.store.submit(submission.job, submission.events)
        if created and self._on_submitted is not None:
            self._on_submitted()
        return Submitted(stored, created)

    def get_job(self, tenant_id: str, job_id: str) -> Job:
        return self.store.get_job(tenant_id, job_id)

    def get_jobs(self, tenant_id: str, job_ids: Sequence[str]) -> dict[str, Job]:
        """The tenant's jobs among ``job_ids`` by id (one store call; unknown ids are left out)."""
        return self.store.get_jobs(tenant_id, job_ids)

    def job_events(self, tenant_id: str, job_id: str) -> list[Event]:
        """The events a job was submitted with (a document's original content), in submission order.

        For protocols that serve a submission's input back before (or without) its memories existing.
        """
        self.store.get_job(tenant_id, job_id)  # NotFound for another tenant's job
        return self.store.job_events(job_id)

    def get_job_by_key(self, tenant_id: str, idempotency_key: str, *, space: str | None = None) -> Job:
        """The job an add with this ``idempotency_key`` created, or :class:`NotFound`."""
        target = self.resolve_space(tenant_id, space)
        return self.store.get_job(tenant_id, _keyed_job_id(tenant_id, target.id, idempotency_key))

    # ------------------------------------------------------------------------------------------
    # retrieval

    def search(
        self, tenant_id: str, request: SearchRequest, *, reranker: Reranker | None = None
    ) -> list[SearchResult]:
        """Hybrid search within the tenant; see ``core/retrieval.py`` for how candidates are ranked.

        ``request.rerank`` reorders with ``reranker`` (a protocol adapter's own, e.g. GoodMem's
        registered ones), else with the service's; asking for it with neither is refused, not ignored.
        """
        if not request.query.strip():
            raise InvalidInput("query must not be empty")
        if request.rerank and reranker is None and self._retriever.reranker is None:
            raise InvalidInput(
                "rerank=true needs a reranker, and this server has none: start it with "
                "--rerank-base-url (MEMHUB_RERANK_BASE_URL), or search without rerank"
            )
        self._check_content("query", request.query)
        if not 1 <= request.limit <= self.limits.max_search_limit:
            raise InvalidInput(f"limit must be between 1 and {self.limits.max_search_limit}")
        if request.threshold is not None and not 0.0 <= request.threshold <= 1.0:
            raise InvalidInput("threshold must be between 0 and 1")
        flt = parse_filter(request.filters)
        spaces = [self.resolve_space(tenant_id, s).id for s in (request.spaces or [None])]  # type: ignore[list-item]
        scope = Scope(
            tenant_id=tenant_id,
            space_ids=spaces,
            user_id=request.user_id,
            session_id=request.session_id,
            kinds=request.kinds,
            core=request.core,
        )
        return self._retriever.search(scope, flt, request, reranker)

    # ------------------------------------------------------------------------------------------
    # memories

    def get_memory(self, tenant_id: str, memory_id: str) -> Memory:
        return self.store.get_memory(tenant_id, memory_id)

    def list_memories(
        self,
        tenant_id: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        space: str | None = None,
        kinds: list[MemoryKind] | None = None,
        core: bool | None = None,
        filters: dict[str, Any] | None = None,
        include_superseded: bool = False,
        cursor: str | None = None,
        limit: int = 50,
        newest_first: bool = True,
        order_by: MemoryOrder = "created_at",
    ) -> Page:
        """Keyset pages by ``(order_by, id)``: ``created_at`` (stored) or ``occurred_at`` (happened)."""
        self._check_page_size(limit)
        scope = Scope(
            tenant_id=tenant_id,
            space_ids=None if space is None else [self.resolve_space(tenant_id, space).id],
            user_id=user_id,
            session_id=session_id,
            kinds=kinds,
            core=core,
            include_superseded=include_superseded,
        )
        return self.store.list_memories(scope, parse_filter(filters), cursor, limit, newest_first, order_by)

    def count_memories(
        self,
        tenant_id: str,
        *,
        user_id: str | None = None,
        space: str | None = None,
        kinds: list[MemoryKind] | None = None,
        include_superseded: bool = False,
    ) -> int:
        """How many memories :meth:`list_memories` lists with these arguments (one count query)."""
        scope = Scope(
            tenant_id=tenant_id,
            space_ids=None if space is None else [self.resolve_space(tenant_id, space).id],
            user_id=user_id,
            kinds=kinds,
            include_superseded=include_superseded,
        )
        return self.store.count_memories(scope, None)

    def all_memories(
        self,
        tenant_id: str,
        *,
        user_id: str | None = None,
        space: str | None = None,
        kinds: list[MemoryKind] | None = None,
        core: bool | None = None,
        include_superseded: bool = False,
    ) -> list[Memory]:
        """Every memory :meth:`list_memories` would list, walking its cursor pages (newest first).

        For adapters whose protocol wants a whole set at once (a user's core facts, an offset-paged
        console); each page is one bounded store read.
        """
        return list(
            iter_items(
                lambda cursor: self.list_memories(
                    tenant_id,
                    user_id=user_id,
                    space=space,
                    kinds=kinds,
                    core=core,
                    include_superseded=include_superseded,
                    cursor=cursor,
                    limit=self.limits.max_page_size,
                )
            )
        )

    def update_memory_metadata(self, tenant_id: str, memory_id: str, metadata: dict[str, Any]) -> Memory:
        self._check_metadata(metadata)
        return self.store.update_memory_metadata(tenant_id, memory_id, metadata, self.clock.now())

    def delete_memory(self, tenant_id: str, memory_id: str) -> None:
        self.store.delete_memory(tenant_id, memory_id)

    def source_events(self, tenant_id: str, memory: Memory) -> list[Event]:
        """The events ``memory`` was derived from (its provenance), in submission order.

        A memory's sources are always events of its own job, so this is one read of that job's events.
        """
        wanted = {source.event_id for source in memory.sources}
        if memory.job_id is None or not wanted:
            return []
        events = self.store.job_events(memory.job_id)
        return [e for e in events if e.tenant_id == tenant_id and e.id in wanted]

    def record_recall(self, tenant_id: str, memory_ids: Sequence[str]) -> list[Memory]:
        """Count that a search returned these memories; returns them updated (deleted ones are skipped).

        The count and time of the last recall are kept under :data:`RECALL_KEY` in the metadata, for
        protocols that reinforce what is recalled (Memsy's ``strength``, ``recall_count``). Two
        searches recalling one memory at the same instant may count once: it is a statistic, not a ledger.
        """
        now = self.clock.now()
        updated = []
        for memory_id in memory_ids:
            try:
                memory = self.store.get_memory(tenant_id, memory_id)
            except NotFound:
                continue
            previous = memory.metadata.get(RECALL_KEY)
            count = int(previous.get("count", 0)) if isinstance(previous, dict) else 0
            recall = {"count": count + 1, "last_at": now.isoformat()}
            metadata = {**memory.metadata, RECALL_KEY: recall}
            updated.append(self.store.update_memory_metadata(tenant_id, memory_id, metadata, now))
        return updated

    # ------------------------------------------------------------------------------------------
    # users and sessions

    def list_users(self, tenant_id: str, *, cursor: str | None = None, limit: int = 50) -> Page:
        self._check_page_size(limit)
        return self.store.list_users(tenant_id, cursor, limit)

    def get_user(self, tenant_id: str, user_id: str) -> User:
        return self.store.get_user(tenant_id, user_id)

    def forget_user(self, tenant_id: str, user_id: str) -> int:
        """Delete everything derived from the user's data. Returns the number of memories deleted."""
        self.store.get_user(tenant_id, user_id)
        return self.store.delete_user(tenant_id, user_id)

    def create_session(
        self,
        tenant_id: str,
        *,
        user_id: str,
        session_id: str | None = None,
        space: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Session:
        _check_name("user_id", user_id)
        if session_id is not None:
            _check_name("session_id", session_id)
        self._check_metadata(metadata)
        target = self.resolve_space(tenant_id, space)
        session = Session(
            id=session_id or ids.new_id(),
            tenant_id=tenant_id,
            space_id=target.id,
            user_id=user_id,
            metadata=metadata or {},
            created_at=self.clock.now(),
        )
        return self.store.create_session(session)

    def get_session(self, tenant_id: str, session_id: str) -> Session:
        return self.store.get_session(tenant_id, session_id)

    def delete_session(self, tenant_id: str, session_id: str) -> int:
        """Forget one conversation: its events, jobs and memories. Returns memories + events deleted."""
        _check_name("session_id", session_id)
        return self.store.delete_session(tenant_id, session_id)

    def list_sessions(
        self, tenant_id: str, *, user_id: str | None = None, cursor: str | None = None, limit: int = 50
    ) -> Page:
        self._check_page_size(limit)
        return self.store.list_sessions(tenant_id, user_id, cursor, limit)

    def session_messages(
        self, tenant_id: str, session_id: str, *, cursor: str | None = None, limit: int = 100
    ) -> Page:
        """A session's messages, oldest first."""
        self._check_page_size(limit)
        self.store.get_session(tenant_id, session_id)
        return self.store.list_events(
            tenant_id, session_id=session_id, kinds=[EventKind.MESSAGE], cursor=cursor, limit=limit
        )

    def recent_messages(
        self, tenant_id: str, session_id: str, count: int, *, filters: dict[str, Any] | None = None
    ) -> list[Event]:
        """The last ``count`` messages of a session whose metadata matches ``filters``, oldest first."""
        flt = parse_filter(filters)
        pages = iter_items(
            lambda cursor: self.session_messages(
                tenant_id, session_id, cursor=cursor, limit=self.limits.max_page_size
            )
        )
        return list(deque((e for e in pages if matches(flt, e.metadata)), maxlen=max(count, 0)))

    # ------------------------------------------------------------------------------------------
    # records: small per-tenant configuration objects (see models.Record)

    def add_record(self, tenant_id: str, collection: str, record_id: str, data: dict[str, Any]) -> Record:
        """Create a record; :class:`Conflict` if ``collection`` already holds ``record_id``."""
        _check_name("collection", collection)
        _check_name("record id", record_id)
        self._check_metadata(data)
        now = self.clock.now()
        return self.store.add_record(
            Record(
                tenant_id=tenant_id,
                collection=collection,
                id=record_id,
                data=data,
                created_at=now,
                updated_at=now,
            )
        )

    def get_record(self, tenant_id: str, collection: str, record_id: str) -> Record:
        return self.store.get_record(tenant_id, collection, record_id)

    def list_records(self, tenant_id: str, collection: str) -> list[Record]:
        return self.store.list_records(tenant_id, collection)

    def page_records(
        self,
        tenant_id: str,
        collection: str,
        *,
        where: Mapping[str, str] | None = None,
        cursor: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> Page:
        """Keyset pages of a collection, narrowed to records whose ``data`` holds ``where``'s strings."""
        return self.store.page_records(
            tenant_id, collection, where=where, cursor=cursor, limit=limit, newest_first=newest_first
        )

    def update_record(self, tenant_id: str, collection: str, record_id: str, data: dict[str, Any]) -> Record:
        """Replace a record's data (the caller merges); ``updated_at`` becomes now."""
        self._check_metadata(data)
        current = self.store.get_record(tenant_id, collection, record_id)
        changed = current.model_copy(update={"data": data, "updated_at": self.clock.now()})
        return self.store.update_record(changed)

    def delete_record(self, tenant_id: str, collection: str, record_id: str) -> None:
        self.store.delete_record(tenant_id, collection, record_id)

    # ------------------------------------------------------------------------------------------
    # blobs: bytes kept verbatim for an owner (see models.Blob)

    def put_blob(self, tenant_id: str, owner_id: str, name: str, content_type: str, data: bytes) -> Blob:
        _check_name("blob owner", owner_id)
        _check_name("blob name", name)
        if len(data) > self.limits.max_blob_bytes:
            raise LimitExceeded(
                f"the content is {len(data)} bytes; the limit is {self.limits.max_blob_bytes}"
            )
        blob = Blob(
            tenant_id=tenant_id,
            owner_id=owner_id,
            name=name,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            created_at=self.clock.now(),
            data=data,
        )
        return self.store.put_blob(blob)

    def get_blob(self, tenant_id: str, owner_id: str, name: str) -> Blob:
        return self.store.get_blob(tenant_id, owner_id, name)

    def list_blobs(self, tenant_id: str, owner_id: str) -> list[Blob]:
        return self.store.list_blobs(tenant_id, owner_id)

    def delete_blobs(self, tenant_id: str, owner_id: str) -> int:
        return self.store.delete_blobs(tenant_id, owner_id)

    # ------------------------------------------------------------------------------------------
    # information

    def counts(self, tenant_id: str | None = None) -> Counts:
        return self.store.counts(tenant_id)

    def now(self) -> datetime:
        return self.clock.now()

    # ------------------------------------------------------------------------------------------
    # validation helpers

    def _check_content(self, field: str, text: str) -> None:
        if len(text) > self.limits.max_content_chars:
            raise LimitExceeded(
                f"{field} is {len(text)} characters; the limit is {self.limits.max_content_chars}"
            )

    def _check_metadata(self, metadata: dict[str, Any] | None) -> None:
        if metadata is None:
            return
        if not isinstance(metadata, dict):
            raise InvalidInput("metadata must be a JSON object")
        size = len(json.dumps(metadata, default=str))
        if size > self.limits.max_metadata_bytes:
            raise LimitExceeded(
                f"metadata is {size} bytes as JSON; the limit is {self.limits.max_metadata_bytes}"
            )

    def _check_page_size(self, limit: int) -> None:
        if not 1 <= limit <= self.limits.max_page_size:
            raise InvalidInput(f"limit must be between 1 and {self.limits.max_page_size}")


def _keyed_job_id(tenant_id: str, space_id: str, key: str) -> str:
    """A caller-keyed job id: scoped to tenant and space so equal keys of two tenants never meet."""
    _check_name("idempotency_key", key)
    return ids.derived_id("keyed", tenant_id, space_id, key)


def _check_name(field: str, value: str) -> None:
    if not value or not value.strip():
        raise InvalidInput(f"{field} must not be empty")
    if len(value) > 256:
        raise InvalidInput(f"{field} is longer than 256 characters")
