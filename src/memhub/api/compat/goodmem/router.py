"""The GoodMem router: every resource module's routes, in the order their paths must be matched.

This is the one module that imports the resource modules; they share only ``door.py`` (errors, key,
query strings) and the wire shapes, so the package has no import cycle.
"""

from __future__ import annotations

from fastapi import APIRouter

from memhub.settings import Settings

from . import batches, keys, memories, pdf, registry, resources, retrieve, unsupported
from .door import GoodmemRoute


def create_router(settings: Settings) -> APIRouter:
    """The GoodMem routes under ``/v1``, relative to the mount prefix."""
    api = APIRouter(route_class=GoodmemRoute, tags=["GoodMem compatibility"])
    resources.add_routes(api)
    registry.add_routes(api)
    retrieve.add_routes(api)  # before memories: ``/v1/memories:retrieve`` is a static path
    memories.add_routes(api)
    batches.add_routes(api)
    pdf.add_routes(api)
    keys.add_routes(api)  # /v1/users/me before the 501 /v1/users/{id} routes
    unsupported.add_routes(api)
    return api
