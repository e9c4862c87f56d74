"""``POST /v1/memories:retrieve``: memhub search, answered as GoodMem's NDJSON event stream.

The stream (spec §6): a result set bracketed by ``resultSetBoundary`` BEGIN/END events sharing a fresh
``resultSetId``; each distinct memory is announced once by a ``memoryDefinition`` event before the first
``retrievedItem`` that points at it through ``memoryIndex`` (a stream-global index into the sequence of
definitions, assigned in first-seen order even when ``fetchMemory`` is false).

Why it is built this way:

* **Everything is decided before the first byte.** The SDK can only raise a typed exception for an HTTP
  error status, so validation (ids, filters, post-processor), unknown spaces/rerankers/LLMs and the
  searches themselves all run before the response starts; the stream then only writes events.
* **One memhub search per space key**, because each key carries its own filter and embedder weights.
  memhub embeds with one model, so a space's weighted sum of per-embedder similarities is the similarity
  times the sum of the weights (the key's ``embedderWeights`` if given, else the space's defaults).
  Hits of all spaces are then merged best-first by that weighted score — the order in which GoodMem's
  vector stage reports them — and cut at ``requestedSize``.
* **Post-processing** (``postProcessor`` = the ChatPostProcessor; its config keys are snake_case).
  ``reranker_id`` / ``llm_id`` must name registered rerankers / LLMs (404 before streaming otherwise).
  With a reranker a second result set, stage ``rerank``, follows: the same searches reranked by the
  registered reranker (``rerank``; its scores become the set's ``relevanceScore``), then
  ``relevance_threshold``, ``max_results`` (default 10) and ``chronological_resort`` (default true)
  applied as GoodMem documents them. A reranker that fails adds a ``RERANKING_FAILED`` status and the
  set falls back to the vector results. With ``llm_id`` the registered LLM writes one ``abstractReply``
  about the last result set (``llm``); that call is the only work done while the stream is
  open, after the result sets were sent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from memhub.api.deps import ServiceDep, outbound_policy
from memhub.core.errors import InvalidInput, NotFound, Unavailable
from memhub.core.models import Chunk, MemoryKind, Record, SearchRequest, SearchResult
from memhub.core.ports import Reranker
from memhub.core.service import MemoryService
from memhub.pipeline.outbound import OutboundPolicy

from .door import TenantDep
from .filters.expression import parse_expression, to_json
from .llm import LlmStage, abstract_event
from .llm import plan as plan_llm
from .memories import job_of, original_content
from .registry import LLMS, RERANKERS
from .rerank import failed_event, registered_reranker
from .resources import MEMORIES, space_of
from .wire import RetrieveRequest, SpaceKey, memory_json, millis

CHAT_POST_PROCESSOR = "com.goodmem.retrieval.postprocess.ChatPostProcessorFactory"
DEFAULT_SIZE = 20
# The ChatPostProcessor's documented defaults (GoodMem's docs table; the SDK omits both unless given):
# at most 10 results, re-sorted chronologically.
DEFAULT_MAX_RESULTS = 10
NDJSON = "application/x-ndjson"
STAGE_VECTOR = "vector_search"
STAGE_RERANK = "rerank"


@dataclass
class _SpacePlan:
    space_id: str
    filters: dict[str, Any] | None
    weight: float


@dataclass
class _Hit:
    record: Record
    result: SearchResult
    chunk: Chunk
    score: float


@dataclass
class _Stream:
    """The events of one answer, and the memory index of every memory defined so far."""

    fetch_memory: bool
    fetch_content: bool
    lines: list[str] = field(default_factory=list)
    indices: dict[str, int] = field(default_factory=dict)

    def emit(self, event: dict[str, Any]) -> None:
        self.lines.append(json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n")


def add_routes(api: APIRouter) -> None:
    api.add_api_route(
        "/v1/memories:retrieve", retrieve, methods=["POST"], summary="Retrieve memories (NDJSON stream)"
    )


def retrieve(
    body: RetrieveRequest, tenant: TenantDep, service: ServiceDep, request: Request
) -> StreamingResponse:
    outbound = outbound_policy(request)  # registered endpoints are the tenant's choice: policed
    size = body.requested_size or DEFAULT_SIZE
    if size < 0:
        raise InvalidInput("requestedSize must not be negative")
    size = min(size, service.limits.max_search_limit)
    llm = _check_post_processor(service, tenant.id, body, outbound)
    plans = [_plan(service, tenant.id, key) for key in body.space_keys]
    query = "\n".join([body.message, *(c.text for c in body.context if c.text)])
    hits = _search(service, tenant.id, query, plans, size)
    stream = _Stream(body.fetch_memory, body.fetch_memory_content)
    last_set = _emit_result_set(service, tenant.id, stream, hits, STAGE_VECTOR)
    config = body.post_processor.config if body.post_processor else {}
    if config.get("reranker_id") is not None:
        reranker_id = str(uuid.UUID(str(config["reranker_id"])))
        reranker = registered_reranker(service, tenant.id, reranker_id, outbound)
        try:
            reranked = _reranked(service, tenant.id, query, plans, size, reranker, stream)
        finally:
            reranker.close()
        hits = _post_process(hits if reranked is None else reranked, config)
        last_set = _emit_result_set(service, tenant.id, stream, hits, STAGE_RERANK)
    passages = [(h.chunk.text, h.score) for h in hits]
    return StreamingResponse(_events(stream, llm, body.message, passages, last_set), media_type=NDJSON)


def _events(
    stream: _Stream, llm: LlmStage | None, question: str, passages: list[tuple[str, float]], set_id: str
) -> Iterator[str]:
    """The result sets at once, then (with an LLM) the abstract once the model has answered."""
    yield from stream.lines
    if llm is not None:
        stream.lines = []
        stream.emit(abstract_event(llm, question, passages, set_id))
        yield from stream.lines


def _reranked(
    service: MemoryService,
    tenant_id: str,
    query: str,
    plans: list[_SpacePlan],
    size: int,
    reranker: Reranker,
    stream: _Stream,
) -> list[_Hit] | None:
    """The searches again, reranked by ``reranker``; None (and a status event) if it fails."""
    try:
        return _search(service, tenant_id, query, plans, size, reranker=reranker)
    except Unavailable as exc:
        stream.emit(failed_event(exc, tenant_id))
        return None


def _post_process(hits: list[_Hit], config: dict[str, Any]) -> list[_Hit]:
    """The ChatPostProcessor's rerank options: threshold, then the cut, then the optional re-sort."""
    threshold = _number(config, "relevance_threshold", None)
    limit = int(_number(config, "max_results", None) or DEFAULT_MAX_RESULTS)
    if threshold is not None:
        hits = [h for h in hits if h.score >= threshold]
    hits = hits[: max(limit, 0)]
    resort = config.get("chronological_resort", True)
    if not isinstance(resort, bool):
        raise InvalidInput("postProcessor.config.chronological_resort must be true or false")
    if resort:
        hits.sort(key=lambda h: h.record.created_at)
    return hits


def _number(config: dict[str, Any], key: str, default: float | None) -> float | None:
    value = config.get(key, default)
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    raise InvalidInput(f"postProcessor.config.{key} must be a number")


def _check_post_processor(
    service: MemoryService, tenant_id: str, body: RetrieveRequest, outbound: OutboundPolicy
) -> LlmStage | None:
    """Unknown post-processor names are a 400, unknown reranker/LLM ids a 404; the LLM stage's plan."""
    processor = body.post_processor
    if processor is None:
        return None
    if processor.name != CHAT_POST_PROCESSOR:
        raise InvalidInput(f"unknown postProcessor {processor.name!r}; memhub offers {CHAT_POST_PROCESSOR}")
    config = processor.config
    for key, collection in (("reranker_id", RERANKERS.collection), ("llm_id", LLMS.collection)):
        value = config.get(key)
        if value is None:
            continue
        try:
            record_id = str(uuid.UUID(str(value)))
        except ValueError:
            raise InvalidInput(f"postProcessor.config.{key} must be a UUID") from None
        service.get_record(tenant_id, collection, record_id)
    if config.get("llm_id") is None:
        return None
    budget = (body.output_budget or {}).get("tokens")
    tokens = budget if isinstance(budget, int) and not isinstance(budget, bool) and budget > 0 else None
    llm_id = str(uuid.UUID(str(config["llm_id"])))
    return plan_llm(service, tenant_id, llm_id, config, tokens, outbound)


def _plan(service: MemoryService, tenant_id: str, key: SpaceKey) -> _SpacePlan:
    space = space_of(service, tenant_id, key.space_id)
    filters = to_json(parse_expression(key.filter)) if key.filter else None
    if key.embedder_weights:
        weight = sum(w.weight for w in key.embedder_weights)
    else:
        embedders = (space.metadata.get("goodmem") or {}).get("spaceEmbedders", [])
        weight = sum(float(e.get("defaultRetrievalWeight", 1.0)) for e in embedders) if embedders else 1.0
    return _SpacePlan(space.id, filters, weight)


def _search(
    service: MemoryService,
    tenant_id: str,
    query: str,
    plans: list[_SpacePlan],
    size: int,
    *,
    reranker: Reranker | None = None,
) -> list[_Hit]:
    """Hits of every space key, best first as the service merges them (the weighted similarity, or with
    ``reranker`` its relevance score), cut at ``size`` once results with no GoodMem memory are dropped."""
    weighted = [
        (
            SearchRequest(
                query=query,
                spaces=[plan.space_id],
                limit=size,
                filters=plan.filters,
                kinds=[MemoryKind.DOCUMENT],
                rerank=reranker is not None,
            ),
            plan.weight,
        )
        for plan in plans
        if plan.weight != 0  # every embedder weighted out: the space contributes nothing
    ]
    hits = [
        hit
        for result, score in service.search_merged(tenant_id, weighted, reranker=reranker)
        if (hit := _hit(service, tenant_id, result, score)) is not None
    ]
    return hits[:size]


def _hit(service: MemoryService, tenant_id: str, result: SearchResult, score: float) -> _Hit | None:
    """The GoodMem memory behind a memhub hit (its document id); None for an orphan or a non-chunk."""
    goodmem_id = next((s.external_id for s in result.memory.sources if s.external_id), None)
    if goodmem_id is None or result.chunk is None:
        return None
    try:
        record = service.get_record(tenant_id, MEMORIES, goodmem_id)
    except NotFound:
        return None
    return _Hit(record, result, result.chunk, score)


def _emit_result_set(
    service: MemoryService, tenant_id: str, stream: _Stream, hits: list[_Hit], stage: str
) -> str:
    set_id = str(uuid.uuid4())
    begin = {"resultSetId": set_id, "kind": "BEGIN", "stageName": stage, "expectedItems": len(hits)}
    stream.emit({"resultSetBoundary": begin})
    for hit in hits:
        index = _define(service, tenant_id, stream, hit.record)
        reference = {
            "resultSetId": set_id,
            "chunk": _chunk_json(hit),
            "memoryIndex": index,
            "relevanceScore": hit.score,
        }
        stream.emit({"retrievedItem": {"chunk": reference}})
    stream.emit({"resultSetBoundary": {"resultSetId": set_id, "kind": "END", "stageName": stage}})
    return set_id


def _define(service: MemoryService, tenant_id: str, stream: _Stream, record: Record) -> int:
    """The memory's stream-global index, announcing the memory first if this is its first hit."""
    if record.id in stream.indices:
        return stream.indices[record.id]
    stream.indices[record.id] = len(stream.indices)
    if stream.fetch_memory:
        content = original_content(service, tenant_id, record) if stream.fetch_content else None
        memory = memory_json(record, job_of(service, tenant_id, record), content=content)
        stream.emit({"memoryDefinition": memory})
    return stream.indices[record.id]


def _chunk_json(hit: _Hit) -> dict[str, Any]:
    memory = hit.result.memory
    owner = hit.record.data["ownerId"]
    out: dict[str, Any] = {
        "chunkId": hit.chunk.id,
        "memoryId": hit.record.id,
        "chunkSequenceNumber": hit.chunk.ordinal,
        "chunkText": hit.chunk.text,
        "vectorStatus": "COMPLETED",
        "createdAt": millis(memory.created_at),
        "updatedAt": millis(memory.updated_at),
        "createdById": owner,
        "updatedById": owner,
    }
    if hit.chunk.start is not None and hit.chunk.end is not None:
        out["startOffset"], out["endOffset"] = hit.chunk.start, hit.chunk.end
    return out
