"""Reading and rendering PDFs in a child process with limits, so one upload cannot drain the server.

Every PDF the server reads goes through :class:`PdfSandbox`: a fresh ``python -I pdf_child.py`` per
call (``pdf_child`` imports only the standard library and PDFium), which limits its own address space
and CPU seconds before it imports PDFium, and refuses a document whose Flate streams inflate past
``max_inflated_bytes``. The parent holds the PDF, one page's text or one page's PNG at a time, and kills
the child at the wall-time limit. So the server's own memory does not grow with what a PDF inflates to,
and a child that hits a limit dies alone: the request is answered 413 (a limit, naming its setting) or
422 (not a readable PDF).

Concurrency is bounded twice: each tenant may have ``tenant_concurrency`` PDF children at once (more
is a 429 with ``Retry-After``), and the whole process at most ``process_concurrency`` (others wait up to
the wall time for a slot, then 503), so the children's memory is bounded by
``process_concurrency × memory_bytes``.
"""

from __future__ import annotations

import json
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import IO

from memhub.core.errors import InvalidInput, LimitExceeded, RateLimited, Unavailable
from memhub.core.service_base import Limits

from . import pdf, pdf_child


@dataclass(frozen=True)
class PdfLimits:
    """What reading one PDF may cost; each field is a setting (``settings.py``)."""

    max_pages: int = 1000
    max_inflated_bytes: int = 256_000_000
    max_pixels: int = 500_000_000  # pixels of every page at the rendering dpi, summed
    memory_bytes: int = 1 << 30  # RLIMIT_AS of the child
    cpu_seconds: int = 60  # RLIMIT_CPU of the child
    tenant_concurrency: int = 1
    process_concurrency: int = 2

    @property
    def wall_seconds(self) -> float:
        """The child is killed after this long: twice its CPU allowance, for a machine under load."""
        return 2.0 * self.cpu_seconds + 5.0


@dataclass(frozen=True)
class PdfText:
    pages: list[str]
    pixels: int  # of every page at the dpi asked for (0 without one)


class _Slots:
    """Per-tenant counters and a process-wide semaphore of PDF children."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_tenant: dict[str, int] = {}
        self._process: threading.BoundedSemaphore | None = None
        self._process_size = 0

    @contextmanager
    def hold(self, tenant_id: str, limits: PdfLimits, *, wait: bool) -> Iterator[None]:
        with self._lock:
            if self._process is None or self._process_size != limits.process_concurrency:
                self._process = threading.BoundedSemaphore(limits.process_concurrency)
                self._process_size = limits.process_concurrency
            process = self._process
            busy = self._by_tenant.get(tenant_id, 0)
            if busy >= limits.tenant_concurrency and not wait:
                raise RateLimited(
                    f"this tenant already has {busy} PDF(s) being read; send the next one when it is done",
                    retry_after=5,
                )
            self._by_tenant[tenant_id] = busy + 1
        try:
            if not process.acquire(timeout=limits.wall_seconds):
                raise Unavailable("the server is busy reading other PDFs; retry shortly")
            try:
                yield
            finally:
                process.release()
        finally:
            with self._lock:
                left = self._by_tenant[tenant_id] - 1
                if left:
                    self._by_tenant[tenant_id] = left
                else:
                    del self._by_tenant[tenant_id]


_SLOTS = _Slots()


class PdfSandbox:
    """Reads (``text``) and renders (``render``) PDFs in limited child processes."""

    def __init__(self, limits: PdfLimits) -> None:
        self.limits = limits

    def text(self, tenant_id: str, data: bytes, dpi: int = 0) -> PdfText:
        """Each page's text, and the pixels the pages would render to at ``dpi``.

        With a ``dpi`` (the caller will want page images) a document over ``max_pixels`` is a 413 here,
        before anything is stored. Over the tenant's concurrency: 429.
        """
        pdf.require()
        pages: list[str] = []
        pixels = 0
        budget = 4 * 5_000_000 * 4  # bytes of text the parent accepts: far above any document limit
        with _SLOTS.hold(tenant_id, self.limits, wait=False):
            for kind, payload in self._run("text", data, dpi):
                if kind == b"I":
                    pixels = int(json.loads(payload)["pixels"])
                    self._check_pixels(pixels, dpi)
                elif kind == b"T":
                    budget -= len(payload)
                    if budget < 0:
                        raise LimitExceeded("the PDF's text is larger than any document this server accepts")
                    pages.append(payload.decode("utf-8").replace("\x00", ""))  # no store holds NUL
        return PdfText(pages, pixels)

    def render(self, tenant_id: str, data: bytes, dpi: int) -> Iterator[pdf.PageImage]:
        """Every page as a PNG, one at a time (waits for the tenant's slot: this runs in the background)."""
        with _SLOTS.hold(tenant_id, self.limits, wait=True):
            for kind, payload in self._run("render", data, dpi):
                if kind == b"I":
                    self._check_pixels(int(json.loads(payload)["pixels"]), dpi)
                elif kind == b"P":
                    yield pdf.PageImage(struct.unpack(">I", payload[:4])[0], payload[4:])

    def _check_pixels(self, pixels: int, dpi: int) -> None:
        if dpi and pixels > self.limits.max_pixels:
            raise LimitExceeded(
                f"the PDF's pages render to {pixels} pixels at {dpi} dpi; this server renders at most"
                f" {self.limits.max_pixels} per document (MEMHUB_MAX_PDF_PIXELS): split the document"
            )

    def _run(self, op: str, data: bytes, dpi: int) -> Iterator[tuple[bytes, bytes]]:
        config = {**asdict(self.limits), "dpi": dpi}
        child = subprocess.Popen(  # -I: isolated mode, no PYTHON* variables, no user site
            [sys.executable, "-I", pdf_child.__file__, op, json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_CHILD_ENV,
            close_fds=True,
        )
        timer = threading.Timer(self.limits.wall_seconds, child.kill)
        timer.daemon = True
        timer.start()
        try:
            assert child.stdin is not None and child.stdout is not None
            try:
                child.stdin.write(data)
                child.stdin.close()
            except BrokenPipeError:
                pass  # it died early; its exit status says why
            yield from self._frames(child.stdout)
            child.wait()
            self._check_exit(child.returncode, timer)
        finally:
            timer.cancel()
            if child.poll() is None:
                child.kill()
                child.wait()
            if child.stdout is not None:
                child.stdout.close()

    def _frames(self, stream: IO[bytes]) -> Iterator[tuple[bytes, bytes]]:
        largest = 4 * pdf.MAX_PAGE_PIXELS + (1 << 20)  # an incompressible page PNG and its header
        while True:
            header = stream.read(5)
            if len(header) < 5:
                return
            kind, size = header[:1], struct.unpack(">I", header[1:])[0]
            if size > largest:
                raise InvalidInput("the PDF reader answered nonsense")
            payload = stream.read(size)
            if kind == b"E":
                error = json.loads(payload)
                raise pdf.refusal(error["kind"], error["message"])
            yield kind, payload

    def _check_exit(self, code: int, timer: threading.Timer) -> None:
        if code == 0:
            return
        if not timer.is_alive() and code == -signal.SIGKILL:
            raise LimitExceeded(
                f"reading the PDF took longer than {self.limits.wall_seconds:.0f} s"
                " (MEMHUB_PDF_CPU_SECONDS): split the document"
            )
        if code in (-signal.SIGXCPU, -signal.SIGKILL):
            raise LimitExceeded(
                f"reading the PDF needs more than {self.limits.cpu_seconds} s of CPU"
                " (MEMHUB_PDF_CPU_SECONDS): split the document"
            )
        raise LimitExceeded(
            f"reading the PDF needs more than {self.limits.memory_bytes >> 20} MB of memory"
            " (MEMHUB_PDF_MEMORY_MB), or the PDF is damaged"
        )


_CHILD_ENV = {"LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}
"""The child's whole environment: it needs none of the server's settings, keys included."""


def sandbox_for(limits: Limits) -> PdfSandbox:
    """The sandbox configured by the server's settings."""
    return PdfSandbox(
        PdfLimits(
            max_pages=limits.max_pdf_pages,
            max_inflated_bytes=limits.max_pdf_inflated_bytes,
            max_pixels=limits.max_pdf_pixels,
            memory_bytes=limits.pdf_memory_mb << 20,
            cpu_seconds=limits.pdf_cpu_seconds,
            tenant_concurrency=limits.pdf_tenant_concurrency,
            process_concurrency=limits.pdf_processes,
        )
    )
