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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

from memhub.core.errors import InvalidInput, LimitExceeded, MemhubError, NotSupported

from . import pdf_child
from .pdf_child import MAX_DPI, MAX_PAGE_PIXELS, page_scale, png

PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
INSTALL_HINT = "PDF memories need PDFium: pip install 'memhub[pdf]' (or pip install pypdfium2)"
__all__ = ["MAX_DPI", "MAX_PAGE_PIXELS", "PageImage", "is_pdf", "page_scale", "png", "require"]


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


def extract_text(data: bytes, max_pages: int) -> list[str]:
    """The text of each page, read in this process (the server reads PDFs through ``pdf_sandbox``)."""
    require()
    with _refusals():
        document = pdf_child.open_document(data, max_pages)
        try:
            return list(pdf_child.page_texts(document))
        finally:
            document.close()


def render_pages(data: bytes, dpi: int, max_pages: int) -> list[PageImage]:
    """Every page as a PNG, rendered in this process (the server renders through ``pdf_sandbox``)."""
    require()
    with _refusals():
        document = pdf_child.open_document(data, max_pages)
        try:
            return [PageImage(index, image) for index, image in pdf_child.page_images(document, dpi)]
        finally:
            document.close()


def refusal(kind: str, message: str) -> MemhubError:
    """The core error of a refusal by :mod:`pdf_child`: a limit (413), not a PDF (422), no PDFium (501)."""
    if kind == "unsupported":
        return NotSupported(f"{message}: {INSTALL_HINT}")
    return LimitExceeded(message) if kind == "limit" else InvalidInput(message)


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except pdf_child.Refused as exc:
        raise refusal(exc.kind, str(exc)) from None
