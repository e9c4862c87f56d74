"""A reranker that calls a ``POST {base_url}/rerank`` endpoint: Cohere, Jina, vLLM, Infinity, llama.cpp, TEI.

Rerank servers agree on the idea (a query, a list of documents, a relevance score per document) and
nearly on the wire. Three request dialects cover the ones memhub knows:

* ``cohere`` (default) — ``{model, query, documents: [str], top_n}``, answered
  ``{results: [{index, relevance_score}]}``: Cohere, Jina, vLLM, Infinity, llama.cpp's server;
* ``tei`` — Hugging Face text-embeddings-inference: ``{query, texts, raw_scores: false}``, answered
  ``[{index, score}]`` (TEI serves one model, so no ``model`` is sent);
* ``voyage`` — ``{model, query, documents, top_k}``, answered ``{data: [{index, relevance_score}]}``.

The answer parser accepts every one of those shapes whatever was asked, since servers borrow each other's.

Design choices:

* **Errors, retries and keys as everywhere else in the pipeline** (``openai_compat``): connection
  errors, timeouts, 408/409/429 and 5xx are retried with exponential backoff (honouring a short
  ``Retry-After``), other answers fail at once, and every failure ends as
  :class:`~memhub.core.errors.Unavailable` naming the endpoint, never the key. A search that asked for
  reranking then answers 503: the caller asked for an order this server cannot give right now, and a
  silent fallback to the unreranked order would hide that.
* **Scores in [0, 1].** Servers answer either probabilities (Cohere, Jina, TEI by default) or raw
  cross-encoder logits (vLLM and llama.cpp for many models, Infinity for some). The two can't be told
  apart by the model name, but logits almost never all fall inside [0, 1] while probabilities always
  do; so **if any score of one call is outside [0, 1], every score of that call is taken as a logit and
  passed through the sigmoid**. The sigmoid is monotone, so the order the server gave is kept either
  way; only the numbers change. A misjudged call (a logit-answering server whose scores all happen to
  lie in [0, 1]) still orders correctly.
* **Every passage gets exactly one score.** ``index`` must be a permutation of the inputs (servers
  answer best-first, not in input order); anything else is a bad answer, not a guess.
* **Batches** of ``batch_size`` passages (TEI refuses more than 32 per request by default); scores
  from cross-encoders are per pair, so batches are comparable, and the logit test runs over all of them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Literal

import httpx

from memhub.core.errors import Unavailable

from ..openai_compat import (
    Target,
    endpoint,
    post_with_retries,
    rejection,
)

log = logging.getLogger(__name__)

Dialect = Literal["cohere", "tei", "voyage"]
DIALECTS: tuple[Dialect, ...] = ("cohere", "tei", "voyage")


class HttpReranker:
    """Implements :class:`memhub.core.ports.Reranker` over a rerank HTTP endpoint.

    ``base_url`` is the server root the ``path`` is appended to (``http://localhost:8000/v1`` for vLLM
    gives ``.../v1/rerank``). ``timeout`` bounds each attempt in seconds; ``max_retries`` counts retries
    after the first attempt; ``backoff`` is the first delay between attempts (doubled each time).
    """

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        *,
        path: str = "/rerank",
        dialect: Dialect = "cohere",
        timeout: float = 10.0,
        max_retries: int = 2,
        backoff: float = 0.25,
        batch_size: int = 64,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}, not {dialect!r}")
        if dialect != "tei" and not model:
            raise ValueError("model must be a non-empty model name")
        if max_retries < 0 or timeout <= 0 or backoff < 0 or batch_size < 1:
            raise ValueError("max_retries >= 0, timeout > 0, backoff >= 0 and batch_size >= 1 are required")
        self._url, self.where = endpoint(base_url, "/" + path.lstrip("/"))
        self.model = model or ""
        self._api_key = api_key or None
        self._dialect = dialect
        self._batch_size = batch_size
        self._target = Target("rerank", self.where, self._api_key, max_retries, backoff, log, self._details())
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def __repr__(self) -> str:  # never shows the key
        return f"HttpReranker(url={self.where!r}, model={self.model!r}, dialect={self._dialect!r})"

    def rerank(self, query: str, passages: Sequence[str]) -> list[float]:
        """One score in [0, 1] per passage, in input order; raises ``Unavailable`` on failure."""
        items = list(passages)
        raw: list[float] = []
        for start in range(0, len(items), self._batch_size):
            batch = items[start : start + self._batch_size]
            raw.extend(self._parse(self._post(self._payload(query, batch)), len(batch)))
        return to_unit_interval(raw)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpReranker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- one request ---------------------------------------------------------------------------------

    def _payload(self, query: str, documents: list[str]) -> dict[str, Any]:
        if self._dialect == "tei":
            return {"query": query, "texts": documents, "raw_scores": False}
        count = "top_k" if self._dialect == "voyage" else "top_n"
        return {"model": self.model, "query": query, "documents": documents, count: len(documents)}

    def _post(self, payload: dict[str, Any]) -> Any:
        response = post_with_retries(self._client, self._url, payload, self._target)
        if not response.is_success:
            raise self._rejected(response)
        return self._json(response)

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise self._bad_answer("its answer is not JSON") from None

    def _parse(self, body: Any, count: int) -> list[float]:
        """Scores in input order from any of the known answer shapes."""
        items = body if isinstance(body, list) else None
        if isinstance(body, dict):
            items = body.get("results", body.get("data"))
        if not isinstance(items, list) or len(items) != count:
            got = len(items) if isinstance(items, list) else "no"
            raise self._bad_answer(f"expected 'results' with {count} scores, got {got}")
        scores: list[float | None] = [None] * count
        for item in items:
            index, score = _index_and_score(item)
            if index is None or not 0 <= index < count or scores[index] is not None:
                raise self._bad_answer("the 'index' fields are not a permutation of the documents")
            if score is None:
                raise self._bad_answer("a result has no finite 'relevance_score' (or 'score')")
            scores[index] = score
        return [s for s in scores if s is not None]

    # --- errors --------------------------------------------------------------------------------------

    def _details(self) -> dict[str, Any]:
        return {"endpoint": self.where, "model": self.model}

    def _bad_answer(self, what: str) -> Unavailable:
        return Unavailable(f"rerank endpoint {self.where} answered badly: {what}", details=self._details())

    def _rejected(self, response: httpx.Response) -> Unavailable:
        status = response.status_code
        what = rejection(status, response, self._api_key)
        return Unavailable(
            f"rerank endpoint {self.where} refused the request ({what})",
            details={**self._details(), "status": status},
        )


def _index_and_score(item: Any) -> tuple[int | None, float | None]:
    if not isinstance(item, dict):
        return None, None
    index = item.get("index")
    score = item.get("relevance_score", item.get("score"))
    if not isinstance(index, int) or isinstance(index, bool):
        index = None
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
        score = None
    return index, None if score is None else float(score)


def to_unit_interval(scores: list[float]) -> list[float]:
    """The scores as they are if all lie in [0, 1] (probabilities), else all through the sigmoid (logits)."""
    if all(0.0 <= s <= 1.0 for s in scores):
        return scores
    return [_sigmoid(s) for s in scores]


def _sigmoid(x: float) -> float:
    if x >= 0:  # the two forms keep exp() from overflowing on either side
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
