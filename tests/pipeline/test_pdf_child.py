"""The PDF child's inflation count (``pipeline/pdf_child.py``): what a document's Flate streams inflate to,
through every stage its dictionary names, counted without keeping the output."""

from __future__ import annotations

import zlib

import pytest

from memhub.pipeline.pdf_child import Refused, check_inflated
from support.pdfs import make_flate_bomb

MB = 1 << 20


def _twice_deflated_stream(inflated: int) -> bytes:
    once = zlib.compress(b"\0" * inflated, 9)
    twice = zlib.compress(once, 9)
    head = b"4 0 obj\n<< /Length %d /Filter [/FlateDecode /FlateDecode] >>\nstream\n" % len(twice)
    return b"%PDF-1.4\n" + head + twice + b"\nendstream\nendobj\n"


def test_a_flate_stream_is_counted_at_its_inflated_size() -> None:
    assert 20 * MB <= check_inflated(make_flate_bomb(20 * MB), 64 * MB) < 21 * MB
    with pytest.raises(Refused, match="MEMHUB_MAX_PDF_INFLATED_BYTES") as refused:
        check_inflated(make_flate_bomb(20 * MB), 10 * MB)
    assert refused.value.kind == "limit"


def test_each_flate_stage_a_stream_names_is_inflated_in_turn() -> None:
    data = _twice_deflated_stream(20 * MB)
    assert len(data) < 64_000  # 20 MB behind two stages of Flate
    assert check_inflated(data, 64 * MB) == 20 * MB
    with pytest.raises(Refused):
        check_inflated(data, 10 * MB)


def test_a_stream_that_is_not_flate_data_is_left_to_pdfium() -> None:
    data = b"%PDF-1.4\n4 0 obj\n<< /Length 9 /Filter /FlateDecode >>\nstream\nnot zlib!\nendstream\nendobj\n"
    assert check_inflated(data, MB) == 0
