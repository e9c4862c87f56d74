"""Embedded mode: the whole server inside the caller's process (``memhub.Client(path=...)``).

``engine`` runs the app's lifespan on a private loop and gives the SDK its transports; ``asgi`` carries
one httpx request to the ASGI app and back.
"""
