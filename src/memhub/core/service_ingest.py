"""Ingestion: messages, actions and documents, validated into events and a job, stored durably.

Each ``add_*`` stores at once and returns; ``prepare_*`` only validates and builds, for callers that
store many inputs in one transaction (:meth:`~JobsMixin.submit_all`, in ``service_jobs``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import ids
from .errors import Conflict, InvalidInput, LimitExceeded
from .models import REVISES_KEY, VERBATIM_KEY, ActionInput, DocumentInput, Event, EventKind, MessageInput
from .service_base import check_name
from .service_jobs import JobsMixin, Submission, Submitted, keyed_job_id


class IngestMixin(JobsMixin):
    """The ``add_*`` and ``prepare_*`` use cases."""

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
        verbatim: bool = False,
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
                verbatim=verbatim,
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
        verbatim: bool = False,
    ) -> Submission:
        """Validate an :meth:`add_messages` and build its job and events without storing anything.

        ``verbatim`` keeps each turn as a memory and derives no facts (protocols whose callers choose
        per add, e.g. mem0's ``infer: false``); the flag travels in the events' metadata
        (:data:`~memhub.core.models.VERBATIM_KEY`), so the worker needs no other channel.

        ``idempotency_key`` serves protocols whose request id is the caller's own deterministic digest
        of the input (GoMemory's ReqId): the job id then derives from (tenant, space, key) rather than
        from the content, so :meth:`get_job_by_key` finds the job again from the caller's id without
        any mapping table. The caller promises that one key always names the same input.
        """
        check_name("user_id", user_id)
        if session_id is not None:
            check_name("session_id", session_id)
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
        if verbatim:
            metadata = {**(metadata or {}), VERBATIM_KEY: True}
        target = self.resolve_space(tenant_id, space)
        payload = [m.model_dump(mode="json") for m in messages]
        job_id = (
            keyed_job_id(tenant_id, target.id, idempotency_key)
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

    def revise_memory(
        self, tenant_id: str, memory_id: str, text: str, metadata: dict[str, Any] | None = None
    ) -> Submitted:
        """Replace a live memory's text: a verbatim submission whose memory supersedes the old one.

        memhub never edits a memory in place, so a text change keeps the history (the old memory gets
        ``superseded_by``, the new one names it under :data:`~memhub.core.models.REVISES_KEY`) and the
        new text is embedded like any turn. ``metadata`` replaces the old memory's when given. Returns
        the submission; the new memory exists once its job succeeds. The same revision sent twice is one.
        """
        old = self.store.get_memory(tenant_id, memory_id)
        if old.superseded_by is not None:
            raise Conflict(f"memory {memory_id} was replaced by {old.superseded_by}; revise that one")
        if old.user_id is None:
            raise InvalidInput(f"memory {memory_id} belongs to no user, so it cannot be revised")
        if not text.strip():
            raise InvalidInput("text must not be empty")
        base = old.metadata if metadata is None else metadata
        carried = {k: v for k, v in base.items() if k not in (REVISES_KEY, VERBATIM_KEY)}
        role = old.metadata.get("role")
        message = MessageInput(
            role=role if isinstance(role, str) and role else "user", content=text, timestamp=old.occurred_at
        )
        key = "revise:" + ids.derived_id(memory_id, text, carried)
        return self._store_one(
            self.prepare_messages(
                tenant_id,
                [message],
                user_id=old.user_id,
                session_id=old.session_id,
                space=old.space_id,
                metadata={**carried, REVISES_KEY: memory_id},
                idempotency_key=key,
                verbatim=True,
            )
        )

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
        check_name("user_id", user_id)
        self._check_content("content", action.content)
        self._check_metadata(action.metadata)
        target = self.resolve_space(tenant_id, space)
        payload = action.model_dump(mode="json")
        job_id = (
            keyed_job_id(tenant_id, target.id, idempotency_key)
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
            check_name("user_id", user_id)
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
