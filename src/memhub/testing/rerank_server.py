"""``POST /v1/rerank`` for the fake OpenAI server: a rerank endpoint whose scores the test dictates.

A :class:`RerankRoute` installed on a :class:`~.openai_server.FakeOpenAIServer` scores each document
by the first of the test's ``keywords`` it contains (``default`` when none), the way a test wants the
order to come out, and answers in the shape of the request it got:

* ``{model, query, documents, top_n}`` (Cohere, Jina, vLLM, Infinity, llama.cpp) →
  ``{"results": [{"index", "relevance_score"}]}``, best first as real servers answer;
* ``{query, texts}`` (Hugging Face TEI) → ``[{"index", "score"}]``.

So a reranker built with ``base_url=fake.base_url`` (ending in ``/v1``) is exercised over real HTTP::

    with start_fake_openai_server() as fake:
        rerank = RerankRoute(fake, {"Paris": 0.9, "Berlin": 0.2})
        ...
        rerank.calls      # (query, documents) of every request

The fake server's own steering applies too: ``fake.fail_next(2, 503)``, ``fake.delay = 3.0``,
``api_key=`` on the server. Scores are sent as given, so a test can send logits (outside [0, 1]).
"""

from __future__ import annotations

import threading
from typing import Any

from memhub.testing.openai_server import FakeOpenAIServer, RecordedRequest, Reply, error_reply


class RerankRoute:
    """``/v1/rerank`` on ``fake``, scoring documents by the keywords they contain."""

    def __init__(self, fake: FakeOpenAIServer, keywords: dict[str, float], default: float = 0.0) -> None:
        self.keywords = keywords
        self.default = default
        self.calls: list[tuple[str, list[str]]] = []
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        fake.route("/v1/rerank", self._handle)

    def score(self, document: str) -> float:
        return next((s for word, s in self.keywords.items() if word in document), self.default)

    def _handle(self, server: FakeOpenAIServer, request: RecordedRequest) -> Reply:
        body = request.body
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return error_reply(400, "'query' is required")
        tei = "texts" in body
        documents = body.get("texts" if tei else "documents")
        if not isinstance(documents, list) or not all(isinstance(d, str) for d in documents):
            return error_reply(400, "'documents' must be a list of strings")
        if not tei and not body.get("model"):
            return error_reply(400, "'model' is required")
        with self._lock:
            self.calls.append((body["query"], documents))
            self.bodies.append(body)
        ranked = sorted(range(len(documents)), key=lambda i: -self.score(documents[i]))
        if tei:
            return Reply(200, [{"index": i, "score": self.score(documents[i])} for i in ranked])
        results = [{"index": i, "relevance_score": self.score(documents[i])} for i in ranked]
        return Reply(200, {"id": "rerank-fake", "results": results, "meta": {"billed_units": {}}})
