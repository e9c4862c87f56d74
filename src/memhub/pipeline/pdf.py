"""PDF documents: their text layer (to chunk and embed) and their pages as PNG images.

PDFium (``pypdfium2``, the optional extra ``pdf``) does the reading and rendering. It is optional
because the default server indexes text and a 10 MB native library is a cost only PDF users should
pay; without it, :func:`require` raises :class:`NotSupported` saying what to install, which every door
answers with a 501 instead of storing a document it cannot read.

Pages become PNG with :func:`png` (a dozen lines over ``zlib``), so no imaging library is needed.
Text is taken page by page and joined with a blank line, so chunk offsets point into that text.

Two bounds keep one upload from taking the server down, since a PDF's size says little about its cost:
a PDF of more than ``max_pages`` pages is refused (a 10 MB file can declare 100,000 empty pages), and a
page is never rendered to more than :data:`MAX_PAGE_PIXELS` (a page may declare itself 200 inches wide:
~3.6 GB of pixels at 150 dpi). Such a page is rendered at the largest scale within the bound instead.
"""

from __future__ import annotations

import importlib
import struct
import zlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from memhub.core.errors import InvalidInput, LimitExceeded, NotSupported

PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
INSTALL_HINT = "PDF memories need PDFium: pip install 'memhub[pdf]' (or pip install pypdfium2)"
MAX_DPI = 600
MAX_PAGE_PIXELS = 25_000_000  # 100 MB of RGBA; A0 at 150 dpi is 35 Mpx and renders at ~125 dpi


@dataclass(frozen=True)
class PageImage:
    index: int
    png: bytes


def is_pdf(content_type: str, data: bytes) -> bool:
    """By declared type, or by the ``%PDF-`` signature when the type says nothing useful."""
    declared = content_type.split(";", maxsplit=1)[0].strip().lower()
    return declared in PDF_TYPES or (declared == "application/octet-stream" and data.startswith(b"%PDF-"))


def require() -> ModuleType:
    """The ``pypdfium2`` module, or :class:`NotSupported` (501) naming the extra to install."""
    try:
        return importlib.import_module("pypdfium2")
    except ImportError:
        raise NotSupported(INSTALL_HINT) from None


def _open(data: bytes, max_pages: int) -> Any:
    pdfium = require()
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise InvalidInput(f"the content is not a readable PDF ({exc})") from None
    if len(document) > max_pages:
        pages = len(document)
        document.close()
        raise LimitExceeded(
            f"the PDF has {pages} pages; this server accepts at most {max_pages}"
            " (MEMHUB_MAX_PDF_PAGES): split the document"
        )
    return document


def extract_text(data: bytes, max_pages: int) -> list[str]:
    """The text of each page (an empty string for a page without a text layer)."""
    document = _open(data, max_pages)
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range().replace("\r\n", "\n").strip())
            textpage.close()
            page.close()
        return pages
    finally:
        document.close()


def render_pages(data: bytes, dpi: int, max_pages: int) -> list[PageImage]:
    """Every page rendered at ``dpi`` (72 = the PDF's own size) as a PNG image.

    A page that would exceed :data:`MAX_PAGE_PIXELS` at ``dpi`` is rendered smaller, to fit it.
    """
    if not 1 <= dpi <= MAX_DPI:
        raise InvalidInput(f"dpi must be between 1 and {MAX_DPI}")
    document = _open(data, max_pages)
    try:
        images = []
        for index, page in enumerate(document):
            width, height = page.get_size()  # in points (1/72 inch)
            bitmap = page.render(scale=page_scale(width, height, dpi), rev_byteorder=True)  # RGB(A) order
            pixels = bitmap.to_numpy()
            images.append(
                PageImage(index, png(pixels.tobytes(), pixels.shape[1], pixels.shape[0], pixels.shape[2]))
            )
            bitmap.close()
            page.close()
        return images
    finally:
        document.close()


def page_scale(width: float, height: float, dpi: int) -> float:
    """Pixels per point to render a ``width`` × ``height`` point page at ``dpi``, within the pixel bound."""
    scale = dpi / 72
    pixels = width * scale * height * scale
    if pixels > MAX_PAGE_PIXELS:
        scale *= (MAX_PAGE_PIXELS / pixels) ** 0.5 * 0.999  # the margin absorbs PDFium's rounding up
    return scale


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
