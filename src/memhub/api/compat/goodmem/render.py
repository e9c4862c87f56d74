"""GoodMem page images, rendered after the create call has answered.

Rendering a page costs about a second of CPU, so a create call that rendered its pages could hold the
server for minutes. The create call stores the PDF and answers with ``pageImageStatus: PENDING``; one
background thread per server process renders the queued memories one at a time, each in a limited child
process (``pipeline/pdf_sandbox.py``, which also waits for the tenant's PDF slot), storing page after
page as blobs of the memory. A render that hits a limit ends ``FAILED`` with the reason in
``pageImageError``, and leaves no page blobs.

A render queued when its server stopped is queued again by the next ``get`` of its memory, once that
has been ``PENDING``/``PROCESSING`` untouched for twice a render's wall-time limit: by then no render
of it can still be running anywhere.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

from memhub.core.errors import MemhubError, NotFound
from memhub.core.models import Blob, Record
from memhub.core.service import MemoryService

from .pdf import ORIGINAL, PAGE_DPI, PAGE_PREFIX, PAGE_TYPE, sandbox
from .resources import MEMORIES

log = logging.getLogger("memhub.goodmem")


@dataclass(frozen=True)
class _Task:
    service: MemoryService
    tenant_id: str
    memory_id: str


class _Renderer:
    """One queue and one daemon thread, started on the first task."""

    def __init__(self) -> None:
        self._queue: queue.Queue[_Task] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._queued: set[tuple[str, str]] = set()  # (tenant, memory) queued or rendering here

    def submit(self, task: _Task) -> None:
        with self._lock:
            if (task.tenant_id, task.memory_id) in self._queued:
                return
            self._queued.add((task.tenant_id, task.memory_id))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="memhub-pdf-pages", daemon=True)
                self._thread.start()
        self._queue.put(task)

    def _loop(self) -> None:
        while True:
            task = self._queue.get()
            try:
                render(task.service, task.tenant_id, task.memory_id)
            except Exception:  # the thread must outlive one memory's failure; logged with trace
                log.exception("rendering the pages of a PDF memory failed")
            finally:
                with self._lock:
                    self._queued.discard((task.tenant_id, task.memory_id))


_RENDERER = _Renderer()


def schedule(service: MemoryService, tenant_id: str, memory_id: str) -> None:
    """Queue the rendering of a created PDF memory's pages."""
    _RENDERER.submit(_Task(service, tenant_id, memory_id))


def resume_if_stalled(service: MemoryService, record: Record) -> None:
    """Queue a render again whose server stopped (see the module docstring)."""
    status = (record.data.get("pageImages") or {}).get("status")
    if status not in ("PENDING", "PROCESSING"):
        return
    quiet = (service.now() - record.updated_at).total_seconds()
    if quiet > 2 * sandbox(service).limits.wall_seconds:
        schedule(service, record.tenant_id, record.id)


def render(service: MemoryService, tenant_id: str, memory_id: str) -> None:
    """Render every page of the memory's kept PDF into page blobs, and record the outcome."""
    try:
        original = service.get_blob(tenant_id, memory_id, ORIGINAL)
        _set_status(service, tenant_id, memory_id, {"status": "PROCESSING", "count": 0, "dpi": PAGE_DPI})
    except NotFound:
        return  # deleted before its turn came
    try:
        count = 0
        for image in sandbox(service).render(tenant_id, original.data, PAGE_DPI):
            service.get_record(tenant_id, MEMORIES, memory_id)  # deleted meanwhile: stop (NotFound)
            name = f"{PAGE_PREFIX}{image.index:05d}"
            service.put_blob(tenant_id, memory_id, name, PAGE_TYPE, image.png)
            count += 1
        _set_status(service, tenant_id, memory_id, {"status": "COMPLETED", "count": count, "dpi": PAGE_DPI})
    except NotFound:
        service.delete_blobs(tenant_id, memory_id)  # the memory was deleted while its pages rendered
    except MemhubError as exc:
        failed = {"status": "FAILED", "count": 0, "dpi": PAGE_DPI}
        try:
            _drop_pages(service, tenant_id, memory_id, original)
            _set_status(service, tenant_id, memory_id, failed, error=exc.message)
        except NotFound:
            service.delete_blobs(tenant_id, memory_id)


def _set_status(
    service: MemoryService, tenant_id: str, memory_id: str, pages: dict[str, Any], error: str | None = None
) -> None:
    data = dict(service.get_record(tenant_id, MEMORIES, memory_id).data)
    data["pageImages"] = pages
    if error is not None:
        data["pageImageError"] = error
    service.update_record(tenant_id, MEMORIES, memory_id, data)


def _drop_pages(service: MemoryService, tenant_id: str, memory_id: str, original: Blob) -> None:
    """Only the original stays (blobs are deleted per owner, so it is put back)."""
    if any(blob.name.startswith(PAGE_PREFIX) for blob in service.list_blobs(tenant_id, memory_id)):
        service.delete_blobs(tenant_id, memory_id)
        service.put_blob(tenant_id, memory_id, ORIGINAL, original.content_type, original.data)
