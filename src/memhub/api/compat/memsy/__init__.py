"""The Memsy protocol (``memsy`` 0.3.5 SDK, unmodified), served at ``settings.memsy_prefix``.

``routes`` holds ingest/search/status, health and the legacy ``clear`` (and the error shape);
``console`` the console memories and actors, ``hierarchy`` orgs/roles/teams, ``listing`` their pages,
``translate`` how memhub's nouns read in Memsy's words, ``wire`` the request bodies.
"""

from __future__ import annotations

from memhub.api.compat.adapter import ProtocolAdapter

from .routes import create_router, render_error

ADAPTER = ProtocolAdapter(
    name="memsy", prefix_setting="memsy_prefix", create_router=create_router, render_error=render_error
)
