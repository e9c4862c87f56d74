"""The process that reads and renders one PDF: ``python -m memhub.pipeline.pdf_child OP LIMITS``.

The server never opens a PDF itself (``pdf_sandbox.py`` starts this process, as a script in isolated
mode: this file imports only the standard library and PDFium, so the child starts without memhub's
imports and none of the server's environment). A PDF's size says little
about what reading it costs: a 1 MB file can hold a content stream that inflates to 1 GB, and PDFium
inflates a content stream whole. So before importing PDFium this process limits itself — address space
(``RLIMIT_AS``), CPU seconds (``RLIMIT_CPU``), no core files — and counts what the document's Flate
streams inflate to, without keeping the output, refusing it over ``max_inflated_bytes``. Whatever slips
past the count (another filter, an image) meets the address-space limit, which ends this process and
not the server.

The PDF arrives on stdin; the answer goes to stdout as frames ``kind (1 byte) | length (4 bytes, big
endian) | payload``:

* ``I`` ``{"pages": n, "pixels": p}`` — page count and pixels of every page at the requested dpi;
* ``T`` the text of one page (UTF-8), in page order (``text`` only);
* ``P`` a page image: its index (4 bytes) then the PNG (``render`` only);
* ``E`` ``{"kind": "limit" | "invalid", "message": …}`` — the document was refused; nothing follows.
"""

from __future__ import annotations

import importlib
import json
import re
import resource
import struct
import sys
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

CHUNK = 1 << 20
MAX_DPI = 600
MAX_PAGE_PIXELS = 25_000_000  # 100 MB of RGBA; A0 at 150 dpi is 35 Mpx and renders at ~125 dpi
_STREAM = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
_FLATE = re.compile(rb"/(?:FlateDecode|Fl)\b")


class Refused(Exception):
    """The document is refused: ``kind`` is ``limit`` (413), ``invalid`` (422) or ``unsupported`` (501)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def main(argv: list[str]) -> int:
    op, limits = argv[0], json.loads(argv[1])
    _limit_self(int(limits["memory_bytes"]), int(limits["cpu_seconds"]))
    data = sys.stdin.buffer.read()
    out = sys.stdout.buffer
    try:
        _run(op, data, limits, out)
    except Refused as exc:
        _frame(out, b"E", json.dumps({"kind": exc.kind, "message": str(exc)}).encode())
    except MemoryError:
        _frame(out, b"E", json.dumps({"kind": "limit", "message": _memory_message(limits)}).encode())
    out.flush()
    return 0


def _limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def _memory_message(limits: dict[str, Any]) -> str:
    mb = int(limits["memory_bytes"]) >> 20
    return f"reading the PDF needs more than {mb} MB of memory (MEMHUB_PDF_MEMORY_MB)"


def _run(op: str, data: bytes, limits: dict[str, Any], out: BinaryIO) -> None:
    check_inflated(data, int(limits["max_inflated_bytes"]))
    dpi = int(limits["dpi"])
    document = open_document(data, int(limits["max_pages"]))
    try:
        pixels = 0
        for page in document:
            width, height = page.get_size()
            pixels += page_pixels(width, height, dpi)
        _frame(out, b"I", json.dumps({"pages": len(document), "pixels": pixels}).encode())
        if dpi and pixels > int(limits["max_pixels"]):
            return  # the parent refuses it, naming the figure; rendering it would be the drain
        if op == "text":
            for text in page_texts(document):
                _frame(out, b"T", text.encode("utf-8", errors="replace"))
        elif op == "render":
            for index, image in page_images(document, dpi):
                _frame(out, b"P", struct.pack(">I", index) + image)
        else:
            raise Refused("invalid", f"unknown operation {op!r}")
    finally:
        document.close()


def check_inflated(data: bytes, budget: int) -> int:
    """What the document's Flate streams inflate to, in total; :class:`LimitExceeded` over ``budget``.

    Each stream is inflated through as many Flate stages as its dictionary names, in 1 MB steps, and the
    output is only counted: the count costs the CPU of inflating at most ``budget`` bytes, no memory.
    """
    total = 0
    for match in _STREAM.finditer(data):
        head = data[max(0, match.start() - 1024) : match.start()]
        stages = len(_FLATE.findall(head[head.rfind(b"obj") + 1 :]))
        if stages:
            total += _inflated_size(data, match.end(), stages, budget - total)
        if total > budget:
            raise Refused(
                "limit",
                f"the PDF's streams inflate to more than {budget} bytes"
                " (MEMHUB_MAX_PDF_INFLATED_BYTES): a compression bomb, or a document to split",
            )
    return total


def _inflated_size(data: bytes, start: int, stages: int, budget: int) -> int:
    decoders = [zlib.decompressobj() for _ in range(stages)]
    total = 0
    position = start
    try:
        while position < len(data) and not decoders[0].eof and total <= budget:
            total += _push(decoders, 0, data[position : position + CHUNK], budget - total)
            position += CHUNK
    except zlib.error:
        pass  # not (or no longer) Flate data: PDFium will judge the stream itself
    return total


def _push(decoders: list[Any], stage: int, chunk: bytes, budget: int) -> int:
    decoder = decoders[stage]
    counted = 0
    while chunk and not decoder.eof and counted <= budget:
        output = decoder.decompress(chunk, CHUNK)
        chunk = decoder.unconsumed_tail
        if stage + 1 < len(decoders):
            counted += _push(decoders, stage + 1, output, budget - counted)
        else:
            counted += len(output)
        if not output:
            break
    return counted


def open_document(data: bytes, max_pages: int) -> Any:
    """PDFium's document of ``data``; :class:`Refused` if it is unreadable or has too many pages."""
    try:
        pdfium = importlib.import_module("pypdfium2")
    except ImportError:  # the server found it on its own path; this isolated interpreter does not
        raise Refused("unsupported", "PDFium (pypdfium2) is not installed for this Python") from None
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise Refused("invalid", f"the content is not a readable PDF ({exc})") from None
    if len(document) > max_pages:
        pages = len(document)
        document.close()
        raise Refused(
            "limit",
            f"the PDF has {pages} pages; this server accepts at most {max_pages}"
            " (MEMHUB_MAX_PDF_PAGES): split the document",
        )
    return document


def page_texts(document: Any) -> Iterator[str]:
    """The text of each page (an empty string for a page without a text layer)."""
    for page in document:
        textpage = page.get_textpage()
        yield textpage.get_text_range().replace("\r\n", "\n").strip()
        textpage.close()
        page.close()


def page_images(document: Any, dpi: int) -> Iterator[tuple[int, bytes]]:
    """``(index, PNG)`` of every page rendered at ``dpi`` (72 = the PDF's own size).

    A page that would exceed :data:`MAX_PAGE_PIXELS` at ``dpi`` is rendered smaller, to fit it.
    """
    if not 1 <= dpi <= MAX_DPI:
        raise Refused("invalid", f"dpi must be between 1 and {MAX_DPI}")
    for index, page in enumerate(document):
        width, height = page.get_size()  # in points (1/72 inch)
        bitmap = page.render(scale=page_scale(width, height, dpi), rev_byteorder=True)  # RGB(A) order
        channels, stride = bitmap.n_channels, bitmap.stride
        raw = bytes(bitmap.buffer)
        row = bitmap.width * channels
        pixels = (
            raw
            if stride == row
            else b"".join(raw[y * stride : y * stride + row] for y in range(bitmap.height))
        )
        yield index, png(pixels, bitmap.width, bitmap.height, channels)
        bitmap.close()
        page.close()


def page_scale(width: float, height: float, dpi: int) -> float:
    """Pixels per point to render a ``width`` × ``height`` point page at ``dpi``, within the pixel bound."""
    scale = dpi / 72
    pixels = width * scale * height * scale
    if pixels > MAX_PAGE_PIXELS:
        scale *= (MAX_PAGE_PIXELS / pixels) ** 0.5 * 0.999  # the margin absorbs PDFium's rounding up
    return scale


def page_pixels(width: float, height: float, dpi: int) -> int:
    """Pixels a ``width`` × ``height`` point page is rendered to at ``dpi`` (0 for dpi 0)."""
    if not dpi:
        return 0
    scale = page_scale(width, height, dpi)
    return int(width * scale) * int(height * scale)


def png(pixels: bytes, width: int, height: int, channels: int) -> bytes:
    """An 8-bit RGB (3 channels) or RGBA (4) PNG of row-major pixels, unfiltered and deflated."""
    color_type = {3: 2, 4: 6}[channels]
    stride = width * channels
    rows = b"".join(b"\x00" + pixels[y * stride : (y + 1) * stride] for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 6))
        + chunk(b"IEND", b"")
    )


def _frame(out: BinaryIO, kind: bytes, payload: bytes) -> None:
    out.write(kind + struct.pack(">I", len(payload)) + payload)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
