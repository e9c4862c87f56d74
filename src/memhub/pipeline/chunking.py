"""Splitting documents into overlapping chunks that end at natural boundaries.

A chunk is at most ``size`` characters. It ends at the last paragraph break, else sentence end, else
whitespace inside the window (so words are never cut unless a "word" is longer than the window), and the
next chunk starts ``overlap`` characters before that end, so a fact straddling a boundary is whole in at
least one chunk. Offsets are kept so callers can point back into the source.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_BOUNDARIES = (re.compile(r"\n\s*\n"), re.compile(r"[.!?][)\"']?\s"), re.compile(r"\s"))


@dataclass(frozen=True)
class Piece:
    text: str
    start: int
    end: int


def chunk_text(text: str, size: int = 1000, overlap: int = 100) -> Iterator[Piece]:
    """Yield the chunks of ``text`` (stripped of surrounding whitespace, empty ones skipped)."""
    if size <= 0 or overlap < 0 or overlap >= size:
        raise ValueError("need size > 0 and 0 <= overlap < size")
    start = 0
    while start < len(text):
        end = _cut(text, start, size)
        piece = text[start:end]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            yield Piece(stripped, start + lead, start + lead + len(stripped))
        if end >= len(text):
            return
        start = max(end - overlap, start + 1)
        start = _skip_to_word(text, start, end)


def _cut(text: str, start: int, size: int) -> int:
    hard_end = min(len(text), start + size)
    if hard_end == len(text):
        return hard_end
    window = text[start:hard_end]
    for boundary in _BOUNDARIES:
        ends = [m.end() for m in boundary.finditer(window)]
        if ends and ends[-1] > size // 3:  # a boundary too early would make tiny chunks
            return start + ends[-1]
    return hard_end


def _skip_to_word(text: str, start: int, limit: int) -> int:
    """Move an overlap start forward to the next word start, so chunks don't begin mid-word."""
    if start == 0 or text[start - 1].isspace():
        return start
    match = re.compile(r"\s").search(text, start, limit)
    return match.end() if match else start
