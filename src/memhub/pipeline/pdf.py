"""PDF documents: their text layer (to chunk and embed) and their pages as PNG images.

PDFium (``pypdfium2``, the optional extra ``pdf``) does the reading and rendering. It is optional
because the default server indexes text and a 10 MB native library is a cost only PDF users should
pay; without it, :func:`require` raises :class:`NotSupported` saying what to install, which every door
answers with a 501 instead of storing a document it cannot read.

Pages become PNG with :func:`png` (a dozen lines over ``zlib``), so no imaging library is needed.
Text is taken page by page and joined with a blank line, so chunk offsets point into that text.
"""

from __future__ import annotations

import importlib
import struct
import zlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from memhub.core.errors import InvalidInput, NotSupported

PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
INSTALL_HINT = "PDF memories need PDFium: pip install 'memhub[pdf]' (or pip install pypdfium2)"
MAX_DPI = 600


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


def _open(data: bytes) -> Any:
    pdfium = require()
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise InvalidInput(f"the content is not a readable PDF ({exc})") from None


def extract_text(data: bytes) -> list[str]:
    """The text of each page (an empty string for a page without a text layer)."""
    document = _open(data)
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


def render_pages(data: bytes, dpi: int) -> list[PageImage]:
    """Every page rendered at ``dpi`` (72 = the PDF's own size) as a PNG image."""
    if not 1 <= dpi <= MAX_DPI:
        raise InvalidInput(f"dpi must be between 1 and {MAX_DPI}")
    document = _open(data)
    try:
        images = []
        for index, page in enumerate(document):
            bitmap = page.render(scale=dpi / 72, rev_byteorder=True)  # RGB(A) byte order
            pixels = bitmap.to_numpy()
            images.append(
                PageImage(index, png(pixels.tobytes(), pixels.shape[1], pixels.shape[0], pixels.shape[2]))
            )
            bitmap.close()
            page.close()
        return images
    finally:
        document.close()


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
