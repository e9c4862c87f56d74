"""Rerankers (implementations of :class:`memhub.core.ports.Reranker`); all of them are remote.

* :class:`HttpReranker` — a ``/rerank`` endpoint (Cohere, Jina, Voyage, vLLM, Infinity, llama.cpp, TEI);
* :class:`LLMReranker` — an OpenAI-compatible chat model asked to grade passages;
* :func:`reranker_for` — an :class:`HttpReranker` from a registry entry (provider, endpoint, model).

There is no local reranker: memhub ships no cross-encoder weights, and re-scoring candidates with the
same embedder and keyword signals that fusion already combined would not be a reranker.
"""

from .http import HttpReranker, to_unit_interval
from .llm import LLMReranker
from .providers import PROVIDERS, reranker_for

__all__ = ["PROVIDERS", "HttpReranker", "LLMReranker", "reranker_for", "to_unit_interval"]
