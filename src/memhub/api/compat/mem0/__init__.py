"""The mem0 Platform API (``mem0ai`` 2.x and 1.x for Python, 3.x for npm), served at ``mem0_prefix``.

The official ``MemoryClient(api_key=KEY, host="http://host:port/mem0")`` then runs against memhub: keys
are memhub keys (``Authorization: Token <key>``), so tenants and isolation are the same as at every door.
Reference: ``docs/compat/mem0.md``. Modules: ``wire`` (request bodies, the key header), ``translate``
(mem0's words ↔ memhub's: entities, filters, memory objects, history), ``actions`` (the use cases as
service calls), ``router`` (the routes), ``errors`` (mem0's error shape and the 501s for what memhub does
not have).
"""

from __future__ import annotations

from fastapi import APIRouter

from memhub.core.errors import InvalidInput
from memhub.settings import Settings

from .errors import render_error
from .router import build_router

__all__ = ["create_router", "mount_prefix", "render_error"]


def create_router(settings: Settings) -> APIRouter:
    """The routes, relative to the prefix (``settings.mem0_prefix``); no setting besides the prefix."""
    return build_router()


def mount_prefix(settings: Settings) -> str:
    """``mem0_prefix`` as ``/name``; never the root, where mem0's error shape would answer for every path."""
    prefix = "/" + settings.mem0_prefix.strip().strip("/")
    if prefix == "/":
        raise InvalidInput("mem0_prefix must name a path such as /mem0, not the root")
    return prefix
