"""Reading and rendering PDFs (``pipeline/pdf.py``): the bounds that keep one upload's cost in check."""

from __future__ import annotations

import struct

import pytest

from memhub.core.errors import LimitExceeded
from memhub.pipeline import pdf
from support.pdfs import make_pdf

pytest.importorskip("pypdfium2")


def _png_size(image: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", image[16:24])  # IHDR comes first, right after the signature
    return width, height


def test_a_pdf_with_more_pages_than_allowed_is_refused_naming_the_setting() -> None:
    data = make_pdf(["one", "two", "three"])
    assert pdf.extract_text(data, max_pages=3) == ["one", "two", "three"]
    with pytest.raises(
        LimitExceeded, match=r"3 pages; this server accepts at most 2 \(MEMHUB_MAX_PDF_PAGES\)"
    ):
        pdf.extract_text(data, max_pages=2)
    with pytest.raises(LimitExceeded):
        pdf.render_pages(data, 150, max_pages=2)


def test_pages_render_at_the_requested_dpi() -> None:
    (image,) = pdf.render_pages(make_pdf(["A4"], size=(595, 842)), 150, max_pages=1)
    width, height = _png_size(image.png)
    assert abs(width - 595 * 150 / 72) <= 1 and abs(height - 842 * 150 / 72) <= 1


def test_a_page_too_large_to_render_at_the_dpi_is_rendered_smaller_within_the_pixel_bound() -> None:
    # 200 × 200 inches, the largest page PDF allows: 30,000 × 30,000 pixels (3.6 GB) at 150 dpi.
    (image,) = pdf.render_pages(make_pdf(["huge"], size=(14400, 14400)), 150, max_pages=1)
    width, height = _png_size(image.png)
    assert width * height <= pdf.MAX_PAGE_PIXELS
    assert width == height and width > 0.99 * pdf.MAX_PAGE_PIXELS**0.5  # as large as the bound allows
