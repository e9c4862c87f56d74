"""Document chunking: bounded size, overlap, natural boundaries, offsets that point into the source."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memhub.pipeline.chunking import chunk_text


def test_short_text_is_one_chunk() -> None:
    assert [p.text for p in chunk_text("Hello world.", 100, 10)] == ["Hello world."]


def test_chunks_end_at_sentence_boundaries_and_overlap() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    pieces = list(chunk_text(text, 200, 50))
    assert len(pieces) > 3
    assert all(len(p.text) <= 200 for p in pieces)
    assert all(p.text.endswith(".") for p in pieces[:-1])
    assert all(pieces[i + 1].start < pieces[i].end for i in range(len(pieces) - 1))


def test_bad_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="overlap"):
        list(chunk_text("x", 10, 10))


@given(st.text(min_size=1, max_size=3000), st.integers(50, 400), st.integers(0, 49))
def test_offsets_point_into_the_source_and_cover_it(text: str, size: int, overlap: int) -> None:
    pieces = list(chunk_text(text, size, overlap))
    for piece in pieces:
        assert text[piece.start : piece.end] == piece.text
        assert len(piece.text) <= size
    covered = set()
    for piece in pieces:
        covered.update(range(piece.start, piece.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
