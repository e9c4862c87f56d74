"""Users (the subjects memories are about), their sessions and a session's messages."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from typing import Any

from . import ids
from .filters import matches, parse_filter
from .models import Event, EventKind, Page, Session, User
from .paging import iter_items
from .service_base import ServiceBase, check_name


class SessionsMixin(ServiceBase):
    """User and session use cases."""

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
        check_name("user_id", user_id)
        if session_id is not None:
            check_name("session_id", session_id)
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
        check_name("session_id", session_id)
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

    def list_events(
        self,
        tenant_id: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        kinds: list[EventKind] | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page:
        """Every raw event of the tenant (messages with or without a session, actions, documents),
        oldest first: what a complete export reads through the API."""
        self._check_page_size(limit)
        return self.store.list_events(
            tenant_id, user_id=user_id, session_id=session_id, kinds=kinds, cursor=cursor, limit=limit
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

    def messages_by_external_id(
        self, tenant_id: str, session_id: str, external_ids: Collection[str]
    ) -> dict[str, Event]:
        """The session's stored messages whose caller id is among ``external_ids``, by that id.

        For protocols whose message id is an idempotency key inside the session (GUMem): a message
        re-sent with its id, alone or in another batch, is the message already stored. The first stored
        message with an id wins. One pass over the session's messages (sessions are conversations).
        """
        wanted = set(external_ids)
        if not wanted:
            return {}
        found: dict[str, Event] = {}
        pages = iter_items(
            lambda cursor: self.session_messages(
                tenant_id, session_id, cursor=cursor, limit=self.limits.max_page_size
            )
        )
        for event in pages:
            if event.external_id in wanted and event.external_id not in found:
                found[event.external_id] = event
        return found
