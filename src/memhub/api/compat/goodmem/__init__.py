"""The GoodMem wire protocol (``goodmem`` 0.1.43 on PyPI), served at ``settings.goodmem_prefix``.

Spec: ``docs/compat/goodmem.md``. Clients use ``Goodmem(base_url="http://host:port/goodmem",
api_key=KEY)``; the SDK appends ``/v1/...``. The rooms:

* ``door`` — what every route shares: the error shape, the ``x-api-key`` check, query-string helpers;
* ``router`` — assembles the resource modules' routes (the only module importing them all);
* ``resources`` — system info, embedders, spaces; ``registry`` — rerankers and LLMs, kept as records;
* ``memories`` — memory create/get/list/delete/content; ``batches`` — the batch calls;
* ``retrieve`` — ``POST /v1/memories:retrieve``, the NDJSON stream; ``llm`` and ``rerank`` its stages;
* ``pdf`` — PDF memories: kept files, rendered pages; ``keys`` — API keys and users (the tenant);
* ``unsupported`` — the routes answered 501, with the reason;
* ``filters/`` — filter expressions → ``core.filters``; ``listing`` — list pages; ``labels``;
  ``wire`` — wire shapes.
"""

from __future__ import annotations

from memhub.api.compat.adapter import ProtocolAdapter

from .door import render_error
from .router import create_router

ADAPTER = ProtocolAdapter(
    name="goodmem", prefix_setting="goodmem_prefix", create_router=create_router, render_error=render_error
)
