"""memhub's HTTP server: the native API (``/v1``), the mount point for protocol adapters, errors, auth.

``create_app(settings)`` builds the FastAPI application that ``memhub serve`` runs under uvicorn.
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
