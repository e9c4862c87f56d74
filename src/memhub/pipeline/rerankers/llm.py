"""A reranker that asks an OpenAI-compatible chat model to grade passages (listwise, JSON scores).

memhub ships no cross-encoder weights, so the only rerankers it has are remote: a rerank endpoint
(``http.py``) or, for people who run a chat model but no rerank server, this one. It sends the query and
a numbered list of passages and asks for ``{"scores": [0..10, ...]}``, one grade per passage in order
(``llm/structured.ask_json`` repairs sloppy JSON and asks once more when the shape is wrong).

Why it is built this way:

* **It never fails a search.** A chat model's reply is not a protocol: small models miscount, wrap
  JSON in prose, or time out. When the grades of a call can't be had (endpoint down, two unusable
  replies) :meth:`LLMReranker.rerank` logs why and returns ``None``, which the core reads as "no
  opinion": the results keep the order fusion gave them. That is what the caller gets without a
  reranker, so nothing is lost but the rerank.
* **Grades 0-10, divided by 10**, because models grade on a familiar scale more consistently than they
  produce probabilities; the result is in [0, 1] like every reranker's.
* **Batches of ``batch_size`` passages, each cut to ``passage_chars``**, so a 50-candidate pool fits
  the context of small local models; grades are absolute, so batches can be merged. One failed batch
  drops the whole rerank (a partial one would compare graded with ungraded passages).

How good this ordering is depends entirely on the model; memhub has not measured it (no model runs here).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from memhub.core.errors import Unavailable

from ..llm import ChatClient, StructuredReplyError, ask_json, system, user

log = logging.getLogger(__name__)

MAX_GRADE = 10.0
SYSTEM_PROMPT = (
    "You grade how well passages answer a search query. Reply with only a JSON object "
    '{"scores": [g0, g1, ...]}: one grade per passage, in the order given, each a number from 0 '
    "(unrelated) to 10 (directly answers the query)."
)
SHAPE = '{"scores": [7, 0, 3]}'


class LLMReranker:
    """Implements :class:`memhub.core.ports.Reranker` with a chat model; see the module docstring."""

    def __init__(
        self,
        chat: ChatClient,
        *,
        batch_size: int = 20,
        passage_chars: int = 1000,
        timeout: float | None = None,
    ) -> None:
        if batch_size < 1 or passage_chars < 1:
            raise ValueError("batch_size and passage_chars must be >= 1")
        self._chat = chat
        self._batch_size = batch_size
        self._passage_chars = passage_chars
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"LLMReranker({self._chat!r})"

    def rerank(self, query: str, passages: Sequence[str]) -> list[float] | None:
        """A score in [0, 1] per passage, or None (logged) when the model's grades could not be had."""
        items = list(passages)
        scores: list[float] = []
        try:
            for start in range(0, len(items), self._batch_size):
                scores.extend(self._grade(query, items[start : start + self._batch_size]))
        except (Unavailable, StructuredReplyError) as exc:
            log.warning("LLM reranker %s gave no usable grades; keeping the fused order: %s", self._chat, exc)
            return None
        return scores

    def close(self) -> None:
        self._chat.close()

    def __enter__(self) -> LLMReranker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _grade(self, query: str, batch: list[str]) -> list[float]:
        numbered = "\n".join(
            f"[{i}] {' '.join(p.split())[: self._passage_chars]}" for i, p in enumerate(batch)
        )
        ask = f"Query: {query}\n\nPassages ({len(batch)}):\n{numbered}"

        def validate(value: Any) -> list[float]:
            return _grades(value, len(batch))

        return ask_json(
            self._chat, [system(SYSTEM_PROMPT), user(ask)], validate, shape=SHAPE, timeout=self._timeout
        )


def _grades(value: Any, count: int) -> list[float]:
    """``{"scores": [...]}`` with ``count`` finite numbers, clamped to 0-10 and divided by 10."""
    scores = value.get("scores") if isinstance(value, dict) else None
    if not isinstance(scores, list):
        raise ValueError('expected an object with a "scores" list')
    if len(scores) != count:
        raise ValueError(f'"scores" has {len(scores)} grades for {count} passages')
    grades = []
    for grade in scores:
        if isinstance(grade, bool) or not isinstance(grade, (int, float)) or not math.isfinite(grade):
            raise ValueError('every grade in "scores" must be a number from 0 to 10')
        grades.append(min(max(float(grade), 0.0), MAX_GRADE) / MAX_GRADE)
    return grades
