"""An embedder that calls an OpenAI-compatible ``POST {base_url}/embeddings`` endpoint.

Works with OpenAI itself and with the many servers that speak its protocol (Ollama, vLLM, llama.cpp,
LM Studio, TEI...). Design choices:

* **Sync httpx, one pooled client.** The embedder is called from worker threads; ``httpx.Client`` is
  safe to share between threads and reuses connections.
* **Retries only where retrying can help.** Connection errors, timeouts, 429 and 5xx are retried with
  exponential backoff (honouring a short ``Retry-After``); any other answer fails at once. Whatever
  fails ends as :class:`memhub.core.errors.Unavailable`, so a job is retried later instead of lost.
* **The API key never leaves the Authorization header.** Error messages name the endpoint (without
  any credentials in its URL) and the status, and quote the server's error text only after removing
  the key from it; for 401/403 the server's text is not quoted at all, since some servers echo the
  key they were sent.
* **Vectors are checked and normalised here.** Rows are placed by ``index`` (servers may answer out of
  order), must all have the same finite, non-zero length, and are L2-normalised so cosine is a dot
  product whatever the server does.
* **``dim`` is discovered** from the first answer unless given; asking for it before any call makes
  one small probe request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from memhub.core.errors import Unavailable
from memhub.core.ports import Matrix

from ..openai_compat import (
    Target,
    endpoint,
    post_with_retries,
    rejection,
)

log = logging.getLogger(__name__)


class OpenAIEmbedder:
    """Implements :class:`memhub.core.ports.Embedder` over an OpenAI-compatible HTTP API.

    ``base_url`` is the API root, e.g. ``https://api.openai.com/v1`` or ``http://localhost:11434/v1``.
    ``max_retries`` is the number of retries after the first attempt of each request; ``backoff`` the
    first delay in seconds (doubled after each retry). ``transport`` is for tests and proxies.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        dim: int | None = None,
        timeout: float = 30.0,
        batch_size: int = 64,
        max_retries: int = 3,
        *,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not model:
            raise ValueError("model must be a non-empty model name")
        if dim is not None and dim < 1:
            raise ValueError("dim must be >= 1")
        if batch_size < 1 or max_retries < 0 or timeout <= 0 or backoff < 0:
            raise ValueError("batch_size >= 1, max_retries >= 0, timeout > 0 and backoff >= 0 are required")
        self._url, self._where = endpoint(base_url, "/embeddings")
        self._model = model
        self._api_key = api_key or None
        self._dim = dim
        self._batch_size = batch_size
        self._target = Target(
            "embedding",
            self._where,
            self._api_key,
            max_retries,
            backoff,
            log,
            {"endpoint": self._where, "model": model},
        )
        self._dim_lock = threading.Lock()
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIEmbedder(url={self._where!r}, model={self._model!r}, dim={self._dim})"

    @property
    def model_id(self) -> str:
        return f"openai:{self._model}"

    @property
    def dim(self) -> int:
        """The vector length: as given, else learned from the first answer (probing once if needed)."""
        if self._dim is None:
            return int(self.embed(["dimension probe"]).shape[1])
        return self._dim

    def embed(self, texts: Sequence[str]) -> Matrix:
        """One L2-normalised float32 row per text, in input order; raises ``Unavailable`` on failure."""
        items = list(texts)
        if not all(isinstance(text, str) for text in items):
            raise TypeError("OpenAIEmbedder.embed takes a sequence of str")
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            self._embed_batch(items[start : start + self._batch_size])
            for start in range(0, len(items), self._batch_size)
        ]
        return np.concatenate(parts, axis=0)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIEmbedder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- one request ---------------------------------------------------------------------------------

    def _embed_batch(self, texts: list[str]) -> Matrix:
        body = self._post({"model": self._model, "input": texts})
        vectors = self._parse(body, len(texts))
        self._check_dim(vectors.shape[1])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        if not np.all(norms > 0):
            raise self._bad_answer("it returned an all-zero vector")
        result: Matrix = (vectors / norms).astype(np.float32)
        return result

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

    def _parse(self, body: Any, count: int) -> np.ndarray[Any, np.dtype[np.float64]]:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or len(data) != count:
            got = len(data) if isinstance(data, list) else "no"
            raise self._bad_answer(f"expected 'data' with {count} embeddings, got {got}")
        rows: list[Any] = [None] * count
        for position, item in enumerate(data):
            index = item.get("index", position) if isinstance(item, dict) else None
            if not isinstance(index, int) or not 0 <= index < count or rows[index] is not None:
                raise self._bad_answer("the 'index' fields are not a permutation of the inputs")
            rows[index] = item.get("embedding")
        return self._matrix(rows)

    def _matrix(self, rows: list[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
        if not all(isinstance(row, list) and row for row in rows):
            raise self._bad_answer("an 'embedding' is not a non-empty list of numbers")
        if len({len(row) for row in rows}) != 1:
            raise self._bad_answer("its embeddings have different lengths")
        try:
            matrix = np.array(rows, dtype=np.float64)
        except (TypeError, ValueError):
            raise self._bad_answer("an 'embedding' holds something other than numbers") from None
        if not np.all(np.isfinite(matrix)):
            raise self._bad_answer("an 'embedding' holds NaN or infinity")
        return matrix

    def _check_dim(self, dim: int) -> None:
        with self._dim_lock:
            if self._dim is None:
                self._dim = dim
                log.info("embedding endpoint %s: model %s gives %d dimensions", self._where, self._model, dim)
            elif dim != self._dim:
                raise self._bad_answer(f"it returned {dim}-dimensional vectors, expected {self._dim}")

    # --- errors --------------------------------------------------------------------------------------

    def _bad_answer(self, what: str) -> Unavailable:
        return Unavailable(
            f"embedding endpoint {self._where} answered badly: {what}",
            details={"endpoint": self._where, "model": self._model},
        )

    def _rejected(self, response: httpx.Response) -> Unavailable:
        status = response.status_code
        what = rejection(status, response, self._api_key)
        return Unavailable(
            f"embedding endpoint {self._where} refused the request ({what})",
            details={"endpoint": self._where, "model": self._model, "status": status},
        )
