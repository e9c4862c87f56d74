"""The composition root: the only module that names concrete backends.

``Runtime.open(settings)`` builds the store, the embedder, the extractor, the service and (optionally)
the in-process worker. Everything above (CLI, HTTP app, embedded client, MCP) asks a runtime for the
service and never constructs backends itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from memhub.core.clock import SystemClock
from memhub.core.errors import InvalidInput
from memhub.core.ports import Embedder, Extractor, Store
from memhub.core.service import Limits, MemoryService
from memhub.jobs import Worker, WorkerConfig
from memhub.pipeline.extractors import RuleExtractor
from memhub.settings import Settings
from memhub.storage import open_store

log = logging.getLogger("memhub.runtime")


def build_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "openai":
        from memhub.pipeline.embedders import OpenAIEmbedder

        if not settings.embed_base_url:
            raise InvalidInput("embedder=openai needs --embed-base-url (MEMHUB_EMBED_BASE_URL)")
        return OpenAIEmbedder(
            base_url=settings.embed_base_url, model=settings.embed_model, api_key=settings.embed_api_key
        )
    from memhub.pipeline.embedders import LocalEmbedder

    return LocalEmbedder(threads=settings.embed_threads)


def build_extractor(settings: Settings) -> Extractor:
    return RuleExtractor()


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_messages_per_request=settings.max_messages_per_request,
        max_content_chars=settings.max_content_chars,
        max_document_chars=settings.max_document_chars,
        max_page_size=settings.max_page_size,
        max_search_limit=settings.max_search_limit,
    )


@dataclass
class Runtime:
    """A running memhub engine: store + models + service (+ worker)."""

    settings: Settings
    store: Store
    embedder: Embedder
    service: MemoryService
    worker: Worker
    _worker_started: bool = field(default=False, init=False)

    @classmethod
    def open(cls, settings: Settings, *, embedder: Embedder | None = None) -> Runtime:
        if settings.database_url is None:
            settings.data.mkdir(parents=True, exist_ok=True)
        store = open_store(settings.store_url())
        model = embedder or build_embedder(settings)
        clock = SystemClock()
        config = WorkerConfig(
            batch_size=settings.worker_batch_size,
            lease_seconds=settings.lease_seconds,
            max_attempts=settings.max_attempts,
        )
        worker = Worker(store, model, build_extractor(settings), clock, config)
        service = MemoryService(store, model, clock, limits=limits_from(settings), on_submitted=worker.notify)
        return cls(settings=settings, store=store, embedder=model, service=service, worker=worker)

    def start_worker(self) -> None:
        """Start the in-process worker thread (``memhub serve`` does unless ``--no-worker``)."""
        self.worker.start()
        self._worker_started = True

    def close(self) -> None:
        """Stop the worker (releasing its leases) and close the store."""
        if self._worker_started:
            self.worker.stop()
            self._worker_started = False
        self.store.close()
