"""Search and the memories themselves: list, count, get, update, delete, provenance, recall statistics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import InvalidInput, NotFound
from .filters import parse_filter
from .models import Event, Memory, MemoryKind, Page, Scope, SearchRequest, SearchResult
from .paging import iter_items
from .ports import MemoryOrder, Reranker
from .retrieval import Retriever
from .service_base import ServiceBase

RECALL_KEY = "_recall"
"""Metadata key of a memory's recall statistics (``{"count", "last_at"}``, see ``record_recall``)."""


class MemoriesMixin(ServiceBase):
    """Retrieval and memory use cases."""

    _retriever: Retriever

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

    def search_for_session(
        self, tenant_id: str, request: SearchRequest, session_id: str
    ) -> list[SearchResult]:
        """The user's memories from all their sessions (and from none), for a session's recall.

        Memory is the user's, not the session's: what the user said in another session, or did outside
        any (a user action without a session), is as much theirs as this session's turns. The best
        ``request.limit`` are chosen by the search's own ranking, then shown by the score they carry
        (sessions that report a score are read best score first), this session's memories first where
        the scores tie. ``request.user_id`` must be set: without it this would search the whole tenant.
        """
        if request.user_id is None:
            raise InvalidInput("a session's recall needs the session's user_id")
        results = self.search(tenant_id, request.model_copy(update={"session_id": None}))
        return sorted(results, key=lambda r: (-round(r.score, 4), r.memory.session_id != session_id))

    def search_merged(
        self,
        tenant_id: str,
        weighted: Sequence[tuple[SearchRequest, float]],
        *,
        reranker: Reranker | None = None,
    ) -> list[tuple[SearchResult, float]]:
        """Several searches (one per space key, each with its own filters) merged best-first.

        Each result's merge score is its similarity times its search's weight, or with ``reranker``
        (requests with ``rerank``) the reranker's ``rank_score``: one scale for every search, so their
        results compare. The sort is stable, so a single search keeps its own order on ties. Callers cut
        the merged list where they need to (after dropping what they cannot show).
        """
        merged = [
            (result, result.rank_score if reranker is not None else result.score * weight)
            for request, weight in weighted
            for result in self.search(tenant_id, request, reranker=reranker)
        ]
        merged.sort(key=lambda pair: -pair[1])
        return merged

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
