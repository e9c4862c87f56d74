"""The GoMemory wire protocol (``gomemory`` 0.1.0 on PyPI), served at ``settings.gomemory_prefix``.

``routes`` holds the endpoints (and why they translate as they do), ``door`` the exposure check, the
bearer key and the error shape, ``wire`` the request bodies and the protocol's texts, ``translate`` jobs
and memories as the protocol's objects. The door is on only when ``gomemory_tenant`` names the one
tenant it serves: the protocol has no credentials.
"""

from __future__ import annotations

from memhub.api.compat.adapter import ProtocolAdapter
from memhub.settings import Settings

from .door import render_error
from .routes import create_router


def _has_tenant(settings: Settings) -> bool:
    return bool(settings.gomemory_tenant)


def _announce(settings: Settings) -> str:
    access = (
        "clients send 'Authorization: Bearer <MEMHUB_GOMEMORY_API_KEY>'"
        if settings.gomemory_api_key
        else f"no authentication: anyone who can reach {settings.host}:{settings.port} can use it"
    )
    return f"GoMemory API on at {settings.gomemory_prefix} for tenant {settings.gomemory_tenant!r} ({access})"


ADAPTER = ProtocolAdapter(
    name="gomemory",
    prefix_setting="gomemory_prefix",
    create_router=create_router,
    render_error=render_error,
    enabled=_has_tenant,
    announce=_announce,
    off_hint=(
        "the GoMemory API is off: start memhub serve with --gomemory-tenant NAME "
        "(MEMHUB_GOMEMORY_TENANT) to serve it for that tenant"
    ),
)
