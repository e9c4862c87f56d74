"""Tiny PDFs written by hand for tests: one page per string, Helvetica text, a correct xref table.

Tests make their own PDFs (no binary fixtures): this writer is the whole file format they need.
"""

from __future__ import annotations

import zlib


def make_pdf(pages: list[str], size: tuple[int, int] = (300, 200)) -> bytes:
    """A valid PDF 1.4 whose page ``i`` shows ``pages[i]`` (ASCII, no parentheses or backslashes).

    Every page is ``size`` points (1/72 inch) wide and high.
    """
    font = 3 + 2 * len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
    ]
    for i, text in enumerate(pages):
        page = f"/Parent 2 0 R /MediaBox [0 0 {size[0]} {size[1]}] /Contents {4 + 2 * i} 0 R"
        objects.append(f"<< /Type /Page {page} /Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        stream = f"BT /F1 12 Tf 20 150 Td ({text}) Tj ET".encode()
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _write(objects)


def _write(objects: list[bytes]) -> bytes:
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def make_flate_bomb(inflated_bytes: int, text: str = "Zebras have stripes.") -> bytes:
    """A one-page PDF whose content stream is ``text`` then ``inflated_bytes`` spaces, Flate-compressed.

    About 1,000 times smaller than what it inflates to (1 GB → ~1 MB): a PDF reader that inflates the
    stream whole needs that much memory, whatever the file's size.
    """
    deflate = zlib.compressobj(9)
    parts = [deflate.compress(f"BT /F1 12 Tf 20 150 Td ({text}) Tj ET\n".encode())]
    block = b" " * (1 << 20)
    for _ in range(inflated_bytes >> 20):
        parts.append(deflate.compress(block))
    parts.append(deflate.flush())
    stream = b"".join(parts)
    return _write(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def make_large_pages_pdf(pages: int, size: tuple[int, int] = (2000, 2000)) -> bytes:
    """``pages`` pages of ``size`` points each, one word of text on each: cheap to send, costly to render."""
    return make_pdf([f"page {i}" for i in range(pages)], size=size)
