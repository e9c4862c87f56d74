"""The mem0 Platform API (``mem0ai`` 2.x and 1.x for Python, 3.x for npm), served at ``mem0_prefix``.

The official ``MemoryClient(api_key=KEY, host="http://host:port/mem0")`` then runs against memhub: keys
are memhub keys (``Authorization: Token <key>``), so tenants and isolation are the same as at every door.
Reference: ``docs/compat/mem0.md``. Modules: ``wire`` (request bodies, the key header), ``translate``
(mem0's words ↔ memhub's: entities, filters, memory objects, history), ``actions`` (the use cases as
service calls), ``routes`` (the routes), ``errors`` (mem0's error shape and the 501s for what memhub does
not have).
"""

from __future__ import annotations

from memhub.api.compat.adapter import ProtocolAdapter

from .errors import render_error
from .routes import create_router

ADAPTER = ProtocolAdapter(
    name="mem0", prefix_setting="mem0_prefix", create_router=create_router, render_error=render_error
)
