"""A reranker for a provider named the way model registries name them (GoodMem's ``rerankers.create``).

A registry entry says *who* serves the model (``COHERE``, ``JINA``, ``VOYAGE``, ``TEI``, ``VLLM``,
``LLAMA_CPP``, ``DASHSCOPE``), *where* (an endpoint root) and optionally *at which path*. This module
turns that into an :class:`HttpReranker` speaking the provider's dialect at the provider's default path,
so protocol adapters only translate their record into these arguments and construct nothing themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from memhub.core.errors import InvalidInput, NotSupported

from .http import Dialect, HttpReranker


@dataclass(frozen=True)
class Provider:
    dialect: Dialect
    path: str


PROVIDERS: dict[str, Provider] = {
    "COHERE": Provider("cohere", "/v2/rerank"),
    "JINA": Provider("cohere", "/v1/rerank"),
    "VOYAGE": Provider("voyage", "/rerank"),
    "VLLM": Provider("cohere", "/rerank"),
    "LLAMA_CPP": Provider("cohere", "/rerank"),
    "TEI": Provider("tei", "/rerank"),
}
"""Dialect and default path per provider (GoodMem's defaults: Cohere /v2/rerank, Jina /v1/rerank)."""


def reranker_for(
    provider: str,
    endpoint_url: str,
    model: str,
    *,
    api_path: str | None = None,
    api_key: str | None = None,
    timeout: float = 10.0,
    max_retries: int = 1,
    transport: httpx.BaseTransport | None = None,
) -> HttpReranker:
    """The reranker of ``provider`` at ``endpoint_url`` + (``api_path`` or the provider's default path).

    Raises :class:`NotSupported` for a provider memhub cannot call and :class:`InvalidInput` for an
    endpoint that is not an http(s) URL. ``transport`` is for an endpoint a tenant chose: the outbound
    policy's (``pipeline/outbound.py``).
    """
    known = PROVIDERS.get(provider.upper())
    if known is None:
        offered = ", ".join(PROVIDERS)
        raise NotSupported(f"memhub cannot call {provider!r} rerankers; it calls {offered}")
    try:
        return HttpReranker(
            endpoint_url,
            model,
            api_key,
            path=api_path or known.path,
            dialect=known.dialect,
            timeout=timeout,
            max_retries=max_retries,
            transport=transport,
        )
    except ValueError as exc:
        raise InvalidInput(f"this reranker cannot be called: {exc}") from None
