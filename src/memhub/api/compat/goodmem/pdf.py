"""GoodMem PDF memories: the text layer is what memhub chunks and embeds; the file and its pages
(``extractPageImages``) are kept verbatim as blobs of the memory and served by ``/content``,
``/pages`` and ``/pages/{pageIndex}/image``.

The reading and rendering are ``memhub.pipeline.pdf``'s (PDFium, the optional ``pdf`` extra; without it
a PDF upload is a 501 that names the package to install), always in a limited child process
(``pipeline/pdf_sandbox.py``): a PDF over a limit is refused before anything is stored. The text is read
while the create call waits (it is what gets indexed); pages are rendered afterwards, in the background
(``render``): ``pageImageStatus`` is ``PENDING``, then ``PROCESSING``, then ``COMPLETED`` (or
``FAILED``). A PDF without a text layer (a scan) is refused with a 400: memhub does not OCR, and a memory
nobody can find is no use.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from memhub.api.deps import ServiceDep
from memhub.core.errors import InvalidInput, NotFound
from memhub.core.models import Blob, Record
from memhub.core.service import MemoryService
from memhub.pipeline import pdf
from memhub.pipeline.pdf_sandbox import PdfSandbox, sandbox_for

from .door import TenantDep, query, query_int
from .resources import clamp_page, decode_token, encode_token
from .wire import check_uuid, millis

ORIGINAL = "original"
PAGE_PREFIX = "page/"
PAGE_DPI = 150
PAGE_TYPE = "image/png"
PAGE_PAGE = (50, 1000)  # default and largest page of page images


def add_routes(api: APIRouter) -> None:
    api.add_api_route("/v1/memories/{memory_id}/pages", memory_pages, methods=["GET"])
    api.add_api_route("/v1/memories/{memory_id}/pages/{page_index}/image", page_image, methods=["GET"])


def sandbox(service: MemoryService) -> PdfSandbox:
    return sandbox_for(service.limits)


def document_text(
    service: MemoryService, tenant_id: str, content_type: str, content: bytes, *, pages: bool
) -> tuple[str, bool]:
    """``(text to index, kept as a file)``: a PDF's text layer, or the content itself as UTF-8.

    With ``pages`` (page images wanted) a PDF whose pages render to too many pixels is refused here.
    """
    if pdf.is_pdf(content_type, content):
        read = sandbox(service).text(tenant_id, content, PAGE_DPI if pages else 0)
        text = "\n\n".join(page for page in read.pages if page)
        if not text.strip():
            raise InvalidInput("the PDF has no text layer (a scan?); memhub indexes text and does not OCR")
        return text, True
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("memhub indexes text and PDFs: other content must be UTF-8 text") from None
    if "\x00" in text:
        raise InvalidInput("the content must not contain NUL (\\u0000) characters")
    return text, False


def keep_file(
    service: MemoryService, tenant_id: str, memory_id: str, content_type: str, content: bytes, pages: bool
) -> dict[str, Any]:
    """Store the original file; the record fields of it (pages are rendered by ``render``)."""
    service.put_blob(tenant_id, memory_id, ORIGINAL, content_type, content)
    if not pages:
        return {"file": True}
    return {"file": True, "pageImages": {"status": "PENDING", "count": 0, "dpi": PAGE_DPI}}


def kept_file(service: MemoryService, tenant_id: str, record: Record) -> bytes | None:
    """The original file of a memory created from one, else None (its content is the indexed text)."""
    if not record.data.get("file"):
        return None
    return service.get_blob(tenant_id, record.id, ORIGINAL).data


def _load(service: MemoryService, tenant_id: str, memory_id: str) -> Record:
    return service.get_record(tenant_id, "goodmem.memory", check_uuid(memory_id, "memory id"))


def _pages(service: MemoryService, record: Record, request: Request) -> list[tuple[int, Blob]]:
    """The memory's page images within ``start/end_page_index`` matching ``dpi``/``content_type``."""
    info = record.data.get("pageImages") or {}
    dpi, kind = query_int(request, "dpi"), query(request, "content_type")
    if (dpi is not None and dpi != info.get("dpi")) or (kind and kind != PAGE_TYPE):
        return []
    start = query_int(request, "start_page_index") or 0
    end = query_int(request, "end_page_index")
    found = []
    for blob in service.list_blobs(record.tenant_id, record.id):
        if blob.name.startswith(PAGE_PREFIX):
            index = int(blob.name[len(PAGE_PREFIX) :])
            if index >= start and (end is None or index <= end):
                found.append((index, blob))
    return found


def memory_pages(memory_id: str, request: Request, tenant: TenantDep, service: ServiceDep) -> dict[str, Any]:
    record = _load(service, tenant.id, memory_id)
    pages = _pages(service, record, request)
    size = clamp_page(query_int(request, "max_results"), *PAGE_PAGE)
    offset = decode_token(query(request, "next_token"))
    dpi = (record.data.get("pageImages") or {}).get("dpi", PAGE_DPI)
    owner = record.data["ownerId"]
    items = [
        {
            "memoryId": record.id,
            "pageIndex": index,
            "dpi": dpi,
            "contentType": blob.content_type,
            "imageContentLength": blob.size,
            "imageContentSha256": blob.sha256,
            "createdAt": millis(blob.created_at),
            "updatedAt": millis(blob.created_at),
            "createdById": owner,
            "updatedById": owner,
        }
        for index, blob in pages[offset : offset + size]
    ]
    out: dict[str, Any] = {"pageImages": items}
    if offset + size < len(pages):
        out["nextToken"] = encode_token(offset + size)
    return out


def page_image(
    memory_id: str, page_index: int, request: Request, tenant: TenantDep, service: ServiceDep
) -> Response:
    record = _load(service, tenant.id, memory_id)
    matching = [blob for index, blob in _pages(service, record, request) if index == page_index]
    if not matching:
        raise NotFound(f"memory {record.id} has no page image {page_index}")
    image = service.get_blob(tenant.id, record.id, matching[0].name)
    return Response(content=image.data, media_type=image.content_type)
