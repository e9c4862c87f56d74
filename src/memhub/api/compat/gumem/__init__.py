"""The GUMem wire protocol (``steamory-agent-kit-gum`` 0.1.0 on PyPI), served at ``settings.gumem_prefix``.

``routes`` holds the routes (and why they translate as they do), ``wire`` the request bodies, the error
shape and the key header, ``recall`` the recall parts, ``translate`` the answers in GUMem's words.
"""

from __future__ import annotations

from memhub.api.compat.adapter import ProtocolAdapter

from .routes import create_router
from .wire import render_error

ADAPTER = ProtocolAdapter(
    name="gumem", prefix_setting="gumem_prefix", create_router=create_router, render_error=render_error
)
