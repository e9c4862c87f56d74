"""The rerank stage of GoodMem's ChatPostProcessor: the registered reranker, called for real.

``postProcessor.config.reranker_id`` names a reranker registered through ``rerankers.create``
(``providerType``, ``endpointUrl``, optional ``apiPath``, ``modelIdentifier``, optional ``credentials``).
This module only translates that record into the arguments of
:func:`memhub.runtime.registered_reranker`, which builds the HTTP reranker; the service runs the
search with it (``MemoryService.search(..., reranker=...)``), so ranking stays out of the adapter.

* **Checked before the first byte**: an unknown id is a 404, a provider memhub cannot call a 501, an
  unusable endpoint a 400 — all before the stream starts, so the SDK can raise them.
* **The endpoint is the tenant's choice**, so it is called through the outbound policy
  (``pipeline/outbound.py``): no loopback, private or link-local address unless the operator allowed it.
* **A failing reranker does not fail the retrieval** (spec §6.4 rule 6): the stream gets a ``status``
  event ``RERANKING_FAILED`` with a generic reason (never the remote body or a socket error, which would
  make the server a port scanner; the operator's log has the details), and the rerank set falls back to
  the vector results (with ``relevance_threshold`` / ``max_results`` still applied), so clients that read the
  ``rerank`` set still get an answer — and are told it is not reranked.
* **The SDK gives up after 30 s of silence**, and the searches run before the first byte, so one rerank
  attempt gets :data:`RERANK_TIMEOUT` seconds and is retried once.
"""

from __future__ import annotations

import logging
from typing import Any

from memhub.core.errors import Unavailable
from memhub.core.service import MemoryService
from memhub.pipeline.outbound import OutboundPolicy, operator_reason, public_reason
from memhub.runtime import ClosableReranker
from memhub.runtime import registered_reranker as build_reranker

from .llm import api_key_of

RERANKER_COLLECTION = "goodmem.reranker"
RERANK_TIMEOUT = 8.0

log = logging.getLogger("memhub.api.goodmem")


def registered_reranker(
    service: MemoryService, tenant_id: str, reranker_id: str, outbound: OutboundPolicy
) -> ClosableReranker:
    """The reranker the tenant registered as ``reranker_id`` (``NotFound`` if none); close it after use."""
    data = service.get_record(tenant_id, RERANKER_COLLECTION, reranker_id).data
    return build_reranker(
        str(data.get("providerType", "")),
        str(data.get("endpointUrl", "")),
        str(data.get("modelIdentifier", "")),
        api_path=data.get("apiPath") or None,
        api_key=api_key_of(data.get("credentials")),
        timeout=RERANK_TIMEOUT,
        max_retries=1,
        outbound=outbound,
    )


def failed_event(exc: Unavailable, tenant_id: str) -> dict[str, Any]:
    """The ``status`` event telling the client the rerank set is the vector order, and why (generically)."""
    log.warning("registered reranker of tenant %s failed: %s", tenant_id, operator_reason(exc))
    message = (
        f"the reranker failed: {public_reason(exc)}; the rerank set holds the vector search results instead"
    )
    return {"status": {"code": "RERANKING_FAILED", "message": message}}
