"""GoodMem memories onto memhub ``document`` memories.

A GoodMem memory exists (with an id, a content type and a status) from the moment it is created, but
memhub's document memory only exists once the worker has chunked and embedded it. So each GoodMem
memory is two things:

* the **submission** — ``service.add_document`` stores the content durably as an event and queues the
  job that chunks and embeds it; the job's status is GoodMem's ``processingStatus``, and its event is the
  original content served back by ``include_content`` and ``/content``;
* a **record** in the tenant's ``goodmem.memory`` collection, keyed by the GoodMem memory id, holding
  what memhub has no column for (space, job id, content type, ``originalContentRef``, chunking config,
  length and SHA-256) plus the caller's metadata, so lists and filters work on pending memories too.

The document's ``id`` is the GoodMem memory id (it becomes the memhub memory's source ``external_id``),
which is how a search hit is mapped back to its GoodMem memory. A caller-supplied ``memoryId`` that a
record already holds is a 409. memhub indexes text: a PDF is indexed by its text layer and kept as a
file (``pdf``); other content that is not UTF-8 is refused with a 400.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from memhub.api import input_guard
from memhub.api.deps import ServiceDep
from memhub.core.errors import Conflict, InvalidInput, NotFound
from memhub.core.models import DocumentInput, Job, Record, Tenant
from memhub.core.service import MemoryService

from . import render as page_render
from .door import TenantDep, query, query_bool, query_int, read_json
from .listing import Item, select_page, selection
from .pdf import document_text, keep_file, kept_file
from .resources import MEMORIES, clamp_page, decode_token, encode_token, space_of
from .wire import (
    MemoryCreate,
    check_uuid,
    chunk_sizes,
    decode_b64,
    echo_chunking,
    memory_json,
)

MEMORY_PAGE = (50, 500)  # default and largest page of memories


def add_routes(api: APIRouter) -> None:
    api.add_api_route("/v1/memories", create_memory, methods=["POST"], summary="Create a memory")
    api.add_api_route("/v1/memories/{memory_id}", get_memory, methods=["GET"])
    api.add_api_route("/v1/memories/{memory_id}", delete_memory, methods=["DELETE"])
    api.add_api_route("/v1/memories/{memory_id}/content", memory_content, methods=["GET"])
    api.add_api_route("/v1/spaces/{space_id}/memories", list_memories, methods=["GET"])


# ---------------------------------------------------------------------------------------------------
# create


async def create_memory(request: Request, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    """JSON (``originalContent`` / ``originalContentB64``) or multipart (``request`` + ``file``)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        body, content = await _multipart(request)
    else:
        body = MemoryCreate.model_validate(await read_json(request))
        content = content_of(body)
    return await run_in_threadpool(create, service, tenant, body, content)


async def _multipart(request: Request) -> tuple[MemoryCreate, bytes]:
    form = await request.form()
    raw, upload = form.get("request"), form.get("file")
    if isinstance(raw, UploadFile):  # some clients send the JSON part as a file part
        raw = (await raw.read()).decode("utf-8", errors="replace")
    if not isinstance(raw, str) or not isinstance(upload, UploadFile):
        raise InvalidInput("multipart memory creation needs a 'request' JSON part and a 'file' part")
    try:
        request_part = input_guard.loads(raw)
    except ValueError:  # also NaN / Infinity
        raise InvalidInput("the 'request' part is not valid JSON") from None
    input_guard.check_value(request_part, "request")
    body = MemoryCreate.model_validate(request_part)
    if body.original_content is not None or body.original_content_b64 is not None:
        raise InvalidInput("with a file upload, the request must not carry originalContent")
    if not body.content_type:
        body.content_type = upload.content_type or "application/octet-stream"
    return body, await upload.read()


def content_of(body: MemoryCreate) -> bytes:
    """Exactly one of ``originalContent`` (text, stored as UTF-8) or ``originalContentB64``."""
    if (body.original_content is None) == (body.original_content_b64 is None):
        raise InvalidInput("give exactly one of originalContent and originalContentB64")
    if body.original_content is not None:
        return body.original_content.encode("utf-8")
    return decode_b64(body.original_content_b64 or "", "originalContentB64")


def create(service: MemoryService, tenant: Tenant, body: MemoryCreate, content: bytes) -> dict[str, Any]:
    """Claim the id (the record), queue the document, then note its job in the record.

    The record is written first so that a reused ``memoryId`` is refused atomically (409) and an
    over-large record is refused (413) before any document is queued; if queueing fails the claim
    is withdrawn, so no job ever exists for a memory id without its record.
    """
    space = space_of(service, tenant.id, body.space_id)
    memory_id = check_uuid(body.memory_id, "memoryId") if body.memory_id else str(uuid.uuid4())
    if not body.content_type.strip():
        raise InvalidInput("contentType must not be empty")
    text, as_file = document_text(
        service, tenant.id, body.content_type, content, pages=body.extract_page_images
    )
    requested = body.chunking_config
    if requested is None:
        requested = _space_chunking(space.metadata)
    size, overlap = chunk_sizes(requested)  # validates before echo_chunking reads it
    data = {
        "spaceId": space.id,
        "jobId": None,
        "contentType": body.content_type,
        "metadata": body.metadata,
        "length": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "ref": body.original_content_ref,
        "chunkingConfig": echo_chunking(requested),
        "ownerId": tenant.id,
    }
    _claim(service, tenant.id, memory_id, data)
    if as_file:
        try:
            files = keep_file(
                service, tenant.id, memory_id, body.content_type, content, body.extract_page_images
            )
        except Exception:
            _withdraw(service, tenant.id, memory_id)
            raise
        data = service.update_record(tenant.id, MEMORIES, memory_id, {**data, **files}).data
    title = body.metadata.get("title")
    document = DocumentInput(
        content=text,
        id=memory_id,
        title=title if isinstance(title, str) else None,
        timestamp=service.now(),  # a re-created id never lands on a deleted memory's old job
        metadata=body.metadata,
        chunk_size=size,
        chunk_overlap=overlap,
    )
    try:
        submitted = service.add_document(tenant.id, document, space=space.id)
    except Exception:
        _withdraw(service, tenant.id, memory_id)
        raise
    record = service.update_record(tenant.id, MEMORIES, memory_id, {**data, "jobId": submitted.job.id})
    if as_file and body.extract_page_images:
        page_render.schedule(service, tenant.id, memory_id)  # after the last write of this call
    return memory_json(record, submitted.job)


def _claim(service: MemoryService, tenant_id: str, memory_id: str, data: dict[str, Any]) -> None:
    try:
        service.add_record(tenant_id, MEMORIES, memory_id, data)
    except Conflict:
        raise Conflict(f"memory {memory_id} already exists") from None


def _withdraw(service: MemoryService, tenant_id: str, memory_id: str) -> None:
    service.delete_blobs(tenant_id, memory_id)
    service.delete_record(tenant_id, MEMORIES, memory_id)


def _space_chunking(metadata: dict[str, Any]) -> dict[str, Any]:
    extra = metadata.get("goodmem") or {}
    config = extra.get("defaultChunkingConfig")
    return config if isinstance(config, dict) else {"recursive": {"chunkSize": 512, "chunkOverlap": 64}}


# ---------------------------------------------------------------------------------------------------
# read


def load(service: MemoryService, tenant_id: str, memory_id: str) -> Record:
    """The record of a GoodMem memory (400 for a non-UUID id, 404 if absent)."""
    return service.get_record(tenant_id, MEMORIES, check_uuid(memory_id, "memory id"))


def job_of(service: MemoryService, tenant_id: str, record: Record) -> Job | None:
    if not record.data.get("jobId"):
        return None  # being created right now
    try:
        return service.get_job(tenant_id, record.data["jobId"])
    except NotFound:
        return None


def original_content(service: MemoryService, tenant_id: str, record: Record) -> bytes:
    """The bytes the caller sent: the kept file, else the document event's UTF-8 text."""
    file = kept_file(service, tenant_id, record)
    if file is not None:
        return file
    try:
        events = service.job_events(tenant_id, record.data["jobId"]) if record.data.get("jobId") else []
    except NotFound:
        events = []
    if not events:
        raise NotFound(f"memory {record.id} has no stored content")
    return events[0].content.encode("utf-8")


def render(
    service: MemoryService, tenant_id: str, record: Record, *, content: bool, history: bool
) -> dict[str, Any]:
    item = (record, job_of(service, tenant_id, record))
    return render_item(service, tenant_id, item, content=content, history=history)


def render_item(
    service: MemoryService, tenant_id: str, item: Item, *, content: bool, history: bool
) -> dict[str, Any]:
    """A memory whose job was already read (lists read the jobs of a whole page at once)."""
    record, job = item
    raw = original_content(service, tenant_id, record) if content else None
    return memory_json(record, job, content=raw, history=history)


def get_memory(memory_id: str, request: Request, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    record = load(service, tenant.id, memory_id)
    page_render.resume_if_stalled(service, record)
    content = query_bool(request, "include_content")
    history = query_bool(request, "include_processing_history")
    return render(service, tenant.id, record, content=content, history=history)


def memory_content(memory_id: str, tenant: TenantDep, service: ServiceDep) -> Response:
    record = load(service, tenant.id, memory_id)
    data = original_content(service, tenant.id, record)
    return Response(content=data, media_type=record.data["contentType"])


def list_memories(space_id: str, request: Request, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    """One space's memories, filtered, sorted (stable, id tiebreak) and paged by an offset token."""
    space = space_of(service, tenant.id, space_id)
    chosen = selection(
        space.id,
        query(request, "status_filter"),
        query(request, "filter"),
        query(request, "sort_by"),
        query(request, "sort_order"),
    )
    size = clamp_page(query_int(request, "max_results"), *MEMORY_PAGE)
    start = decode_token(query(request, "next_token"))
    content = query_bool(request, "include_content")
    history = query_bool(request, "include_processing_history")
    items, more = select_page(service, tenant.id, chosen, start, size)
    out: dict[str, Any] = {
        "memories": [
            render_item(service, tenant.id, item, content=content, history=history) for item in items
        ]
    }
    if more:
        out["nextToken"] = encode_token(start + size)
    return out


# ---------------------------------------------------------------------------------------------------
# delete


def remove(service: MemoryService, tenant_id: str, record: Record) -> None:
    """The memhub memories the document became, then the record (a pending job's output is orphaned
    and never served: search hits are mapped back through records)."""
    job = job_of(service, tenant_id, record)
    for memhub_id in job.memory_ids if job is not None else []:
        try:
            service.delete_memory(tenant_id, memhub_id)
        except NotFound:
            continue
    _withdraw(service, tenant_id, record.id)


def delete_memory(memory_id: str, tenant: TenantDep, service: ServiceDep) -> Response:
    remove(service, tenant.id, load(service, tenant.id, memory_id))
    return Response(status_code=204)
