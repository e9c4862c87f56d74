"""Helpers shared by the GoodMem SDK tests: the door's base URL, polling, a space with an embedder."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .polling import poll_until
from .server import ServerHandle


def base_url(server: ServerHandle) -> str:
    return f"{server.base_url}/goodmem"


def wait_completed(c: Any, memory_id: str, timeout: float = 60) -> Any:
    """The memory once processing has ended (``COMPLETED`` or ``FAILED``: the caller asserts which)."""

    def ended() -> Any:
        m = c.memories.get(id=memory_id)
        return m if m.processing_status in ("COMPLETED", "FAILED") else None

    return poll_until(ended, timeout=timeout, interval=0.2, message=f"memory {memory_id} still processing")


@contextmanager
def temporary_space(client: Any, prefix: str) -> Iterator[Any]:
    """A fresh space (and its embedder), deleted afterwards."""
    emb = client.embedders.create(
        display_name=f"{prefix}-emb",
        model_identifier="local",
        provider_type="TEI",
        endpoint_url="http://localhost:1",
        dimensionality=384,
    )
    space = client.spaces.create(
        name=f"{prefix}-{uuid.uuid4()}", space_embedders=[{"embedder_id": emb.embedder_id}]
    )
    try:
        yield space
    finally:
        client.spaces.delete(id=space.space_id)
        client.embedders.delete(id=emb.embedder_id)
