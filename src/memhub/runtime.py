"""The composition root: the only module that names concrete backends.

``Runtime.open(settings)`` builds the store, the embedder, the extractor, the service and (optionally)
the in-process worker. Everything above (CLI, HTTP app, embedded client, MCP) asks a runtime for the
service and never constructs backends itself; what a door or a command needs beyond a running
runtime — a store's backup and schema status for ``memhub backup`` / ``doctor``, GoodMem's registered
rerankers and LLMs, which each tenant names at run time — it gets from the functions here, so the
import-linter contracts in ``pyproject.toml`` can forbid every other module to name a backend.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from memhub.core.clock import SystemClock
from memhub.core.errors import InvalidInput
from memhub.core.ports import Embedder, Extractor, Reranker, Store
from memhub.core.service import Limits, MemoryService
from memhub.jobs import Worker, WorkerConfig, WorkerObserver
from memhub.pipeline.extractors import RuleExtractor
from memhub.pipeline.outbound import OutboundPolicy
from memhub.settings import Settings
from memhub.storage import BackupReport, backup_store, open_store, restore_store
from memhub.storage.inspect import schema_status
from memhub.storage.private import private_dir

__all__ = [
    "BackupReport",
    "ClosableReranker",
    "Runtime",
    "backup_store",
    "build_embedder",
    "build_extractor",
    "build_reranker",
    "chat_reply",
    "limits_from",
    "local_model_file",
    "open_store",
    "registered_reranker",
    "restore_store",
    "schema_status",
]

log = logging.getLogger("memhub.runtime")

OPENAI_DEFAULT_MODEL = "text-embedding-3-small"


def build_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "openai":
        from memhub.pipeline.embedders import OpenAIEmbedder

        if not settings.embed_base_url:
            raise InvalidInput("embedder=openai needs --embed-base-url (MEMHUB_EMBED_BASE_URL)")
        return OpenAIEmbedder(
            base_url=settings.embed_base_url,
            model=settings.embed_model or OPENAI_DEFAULT_MODEL,
            api_key=settings.embed_api_key,
        )
    from memhub.pipeline.embedders.local_onnx import LOCAL_MODELS, MODEL_ID, LocalEmbedder

    model = settings.embed_model or MODEL_ID
    if model not in LOCAL_MODELS:
        raise InvalidInput(
            f"unknown local embedding model {model!r} (--embed-model / MEMHUB_EMBED_MODEL); "
            f"choose one of: {', '.join(LOCAL_MODELS)}"
        )
    return LocalEmbedder(model=model, threads=settings.embed_threads)


def build_extractor(settings: Settings) -> Extractor:
    """The rule extractor, or the LLM extractor (falling back to it) when ``llm_base_url`` is set."""
    if not settings.llm_base_url:
        return RuleExtractor()
    from memhub.pipeline.extractors.llm import LLMExtractor
    from memhub.pipeline.llm import ChatClient

    if not settings.llm_model:
        raise InvalidInput("LLM extraction needs --llm-model (MEMHUB_LLM_MODEL) with --llm-base-url")
    try:
        chat = ChatClient(
            settings.llm_base_url,
            settings.llm_model,
            settings.llm_api_key,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )
    except ValueError as exc:
        raise InvalidInput(f"invalid --llm-base-url: {exc}") from None
    log.info("LLM extraction with %r", chat)
    return LLMExtractor(chat)


def build_reranker(settings: Settings) -> Reranker | None:
    """The reranker at ``rerank_base_url`` (None without one: a search asking to rerank is then refused)."""
    if not settings.rerank_base_url:
        return None
    from memhub.pipeline.llm import ChatClient
    from memhub.pipeline.rerankers import HttpReranker, LLMReranker
    from memhub.pipeline.rerankers.http import Dialect

    url, model, key = settings.rerank_base_url, settings.rerank_model, settings.rerank_api_key
    try:
        if settings.reranker == "llm":
            chat = ChatClient(url, model or "", key, timeout=settings.rerank_timeout, max_retries=1)
            reranker: Reranker = LLMReranker(chat)
        else:
            dialect: Dialect = "tei" if settings.reranker == "tei" else "cohere"
            reranker = HttpReranker(url, model, key, dialect=dialect, timeout=settings.rerank_timeout)
    except ValueError as exc:
        raise InvalidInput(f"invalid --rerank-base-url / --rerank-model: {exc}") from None
    log.info("reranking with %r", reranker)
    return reranker


class ClosableReranker(Reranker, Protocol):
    """A reranker holding a connection pool: close it (or use it as a context manager) after use."""

    def close(self) -> None: ...


def registered_reranker(
    provider: str,
    endpoint_url: str,
    model: str,
    *,
    api_path: str | None,
    api_key: str | None,
    timeout: float,
    max_retries: int,
    outbound: OutboundPolicy,
) -> ClosableReranker:
    """The HTTP reranker a tenant registered (GoodMem's ``rerankers.create``), built per request.

    Raises ``NotSupported`` for a provider memhub cannot call, ``InvalidInput`` for an unusable URL.
    The URL is the tenant's choice, so it is called through ``outbound`` (``pipeline/outbound.py``).
    """
    from memhub.pipeline.rerankers import reranker_for

    return reranker_for(
        provider,
        endpoint_url,
        model,
        api_path=api_path,
        api_key=api_key,
        timeout=timeout,
        max_retries=max_retries,
        transport=outbound.transport(),
    )


def chat_reply(
    base_url: str,
    model: str,
    api_key: str | None,
    *,
    system_prompt: str,
    prompt: str,
    timeout: float,
    max_retries: int,
    temperature: float,
    max_tokens: int,
    outbound: OutboundPolicy,
) -> str:
    """One answer of the OpenAI-compatible chat model a tenant registered (GoodMem's ``llms.create``).

    Raises ``Unavailable`` when the model is down or refuses (``OutboundRefused`` when ``outbound``
    refuses its address), ``ValueError`` for an unusable URL.
    """
    from memhub.pipeline.llm import ChatClient, system, user

    with ChatClient(
        base_url,
        model,
        api_key,
        timeout=timeout,
        max_retries=max_retries,
        temperature=temperature,
        max_tokens=max_tokens,
        transport=outbound.transport(),
    ) as chat:
        return chat.complete([system(system_prompt), user(prompt)]).text


def check_one_vector_space(store: Store, embedder: Embedder) -> None:
    """Refuse to serve a store whose vectors another model made.

    Vectors are stored per model, so a search with model B would rank only B's vectors and silently
    drop every memory model A embedded from its dense side (and the worker would mix new B vectors
    with old A ones). Refusing at start-up keeps rankings within one vector space. While `memhub
    reindex` makes B's vectors beside A's (``core/reindex.py``), the store serves A until the switch.
    """
    model = embedder.model_id
    space = store.vector_space()
    if space.target is not None and model == space.target and space.active not in (None, model):
        raise InvalidInput(
            f"a `memhub reindex` to {model} is under way and not finished: until it is, this store "
            f"searches with {space.active}. Start with --embed-model {space.active} (MEMHUB_EMBED_MODEL), "
            f"or finish the reindex first (`memhub reindex` with --embed-model {model})"
        )
    others = [m for m in store.vector_models() if m not in (model, space.target)]
    if space.active not in (None, model) and space.active not in others:
        others.insert(0, space.active)
    if others:
        raise InvalidInput(
            f"this store's memories were embedded with {', '.join(others)}, but the configured embedding "
            f"model is {model}; memhub does not rank vectors of two models together. Start with "
            f"--embed-model {others[0]} (MEMHUB_EMBED_MODEL), or re-embed the store with {model}: "
            f"`memhub reindex` with --embed-model {model} (searches keep using {others[0]} until it is "
            "done; then restart with the new model)"
        )


def local_model_file(settings: Settings | None = None) -> str:
    """The file name of the configured local model's ONNX file, shipped in ``memhub/pipeline/model/``."""
    from memhub.pipeline.embedders.local_onnx import LOCAL_MODELS, MODEL_ID

    name = settings.embed_model if settings is not None and settings.embedder == "local" else None
    spec = LOCAL_MODELS.get(name or MODEL_ID)
    return spec.file if spec is not None else f"{name} (not a bundled model)"


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_messages_per_request=settings.max_messages_per_request,
        max_content_chars=settings.max_content_chars,
        max_document_chars=settings.max_document_chars,
        max_pdf_pages=settings.max_pdf_pages,
        max_pdf_inflated_bytes=settings.max_pdf_inflated_bytes,
        max_pdf_pixels=settings.max_pdf_pixels,
        pdf_memory_mb=settings.pdf_memory_mb,
        pdf_cpu_seconds=settings.pdf_cpu_seconds,
        pdf_tenant_concurrency=settings.pdf_tenant_concurrency,
        pdf_processes=settings.pdf_processes,
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
    extractor: Extractor | None = None  # closed with the runtime (the LLM extractor holds a connection pool)
    reranker: Reranker | None = None  # closed with the runtime too
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)  # for endpoints tenants register
    _worker_started: bool = field(default=False, init=False)

    @classmethod
    def open(
        cls, settings: Settings, *, embedder: Embedder | None = None, observer: WorkerObserver | None = None
    ) -> Runtime:
        if settings.database_url is None:
            private_dir(settings.data)  # holds the store and the admin key: 0700 when memhub creates it
        store = open_store(settings.store_url(), settings.keyword_stemmer)
        try:
            model = embedder or build_embedder(settings)
            if model.dim:  # key management opens the store with a stand-in that never embeds
                check_one_vector_space(store, model)
        except BaseException:
            store.close()
            raise
        clock = SystemClock()
        config = WorkerConfig(
            batch_size=settings.worker_batch_size,
            lease_seconds=settings.lease_seconds,
            max_attempts=settings.max_attempts,
        )
        extractor = build_extractor(settings)
        worker = Worker(store, model, extractor, clock, config, observer)
        reranker = build_reranker(settings)
        service = MemoryService(
            store, model, clock, reranker=reranker, limits=limits_from(settings), on_submitted=worker.notify
        )
        return cls(
            settings=settings,
            store=store,
            embedder=model,
            service=service,
            worker=worker,
            extractor=extractor,
            reranker=reranker,
            outbound=OutboundPolicy(tuple(settings.outbound_allow), enabled=settings.outbound_tenant_calls),
        )

    def store_bytes(self) -> int | None:
        """Bytes the store takes on disk: the SQLite file with its WAL; None for a database server."""
        url = self.settings.store_url()
        if not url.startswith("sqlite:///"):
            return None
        path = Path(url.removeprefix("sqlite:///").partition("?")[0])
        files = (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
        return sum(f.stat().st_size for f in files if f.exists())

    def start_worker(self) -> None:
        """Start the in-process worker thread (``memhub serve`` does unless ``--no-worker``)."""
        self.worker.start()
        self._worker_started = True

    def close(self) -> None:
        """Stop the worker (releasing its leases) and close the store."""
        if self._worker_started:
            self.worker.stop()
            self._worker_started = False
        for part in (self.extractor, self.reranker):
            close = getattr(part, "close", None)
            if callable(close):
                close()
        self.store.close()
