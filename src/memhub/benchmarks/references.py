"""Reference retrievers over LoCoMo dialog units, outside memhub: they check the harness, not memhub.

``docs/benchmarks/locomo-scoring.md`` gives recall numbers measured with a plain BM25 (rank_bm25
``BM25Okapi``, lowercase ``\\w+`` tokens) and with all-MiniLM-L6-v2 over dialog units
``{speaker} said, "{text}" and shared {caption}``, one index per conversation, ties broken by corpus
order. A harness that reproduces those within about a point scores correctly, so memhub's numbers from
the same harness can be trusted. rank_bm25 is a bench-only dependency (the ``bench`` extra).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .locomo_data import Conversation, Turn

_WORD = re.compile(r"\w+")


def dialog_unit(turn: Turn) -> str:
    """The LoCoMo paper's text for one turn, image caption included."""
    text = f'{turn.speaker} said, "{turn.text}"'
    return f"{text} and shared {turn.caption}" if turn.caption else text


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _ranked(scores: npt.NDArray[Any], ids: Sequence[str], k: int) -> list[list[str]]:
    order = np.argsort(-scores, kind="stable")[:k]  # stable: ties keep corpus order
    return [[ids[i]] for i in order]


def _turns(conv: Conversation) -> list[Turn]:
    return [t for s in conv.sessions for t in s.turns]


class BM25Reference:
    """BM25Okapi (k1 = 1.5, b = 0.75) over dialog units: the README's ``dialog / BM25`` row."""

    labels: tuple[str, ...] = ("bm25-ref",)

    def __init__(self) -> None:
        self._indexes: dict[str, tuple[list[str], Any]] = {}

    def ingest(self, conv: Conversation, advance: Callable[[int], None]) -> None:
        from rank_bm25 import BM25Okapi  # type: ignore[import-untyped]  # bench-only dependency

        turns = _turns(conv)
        bm25 = BM25Okapi([tokens(dialog_unit(t)) for t in turns], k1=1.5, b=0.75)
        self._indexes[conv.sample_id] = ([t.dia_id for t in turns], bm25)
        advance(len(turns))

    def search(self, conv: Conversation, label: str, query: str, k: int) -> list[list[str]]:
        ids, bm25 = self._indexes[conv.sample_id]
        return _ranked(bm25.get_scores(tokens(query)), ids, k)

    def server_ms(self) -> float | None:
        return None

    def close(self) -> None:
        self._indexes.clear()


class DenseReference:
    """Cosine over dialog units with any memhub embedder: the README's ``dialog / MiniLM`` row."""

    labels: tuple[str, ...] = ("dense-ref",)

    def __init__(self, embed: Callable[[Sequence[str]], npt.NDArray[np.float32]]) -> None:
        self._embed = embed
        self._indexes: dict[str, tuple[list[str], npt.NDArray[np.float32]]] = {}

    def ingest(self, conv: Conversation, advance: Callable[[int], None]) -> None:
        turns = _turns(conv)
        self._indexes[conv.sample_id] = (
            [t.dia_id for t in turns],
            self._embed([dialog_unit(t) for t in turns]),
        )
        advance(len(turns))

    def search(self, conv: Conversation, label: str, query: str, k: int) -> list[list[str]]:
        ids, matrix = self._indexes[conv.sample_id]
        return _ranked(matrix @ self._embed([query])[0], ids, k)

    def server_ms(self) -> float | None:
        return None

    def close(self) -> None:
        self._indexes.clear()
