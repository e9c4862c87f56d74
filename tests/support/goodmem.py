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
    return _wait_ended(c, memory_id, "processing_status", timeout)


def wait_pages(c: Any, memory_id: str, timeout: float = 120) -> Any:
    """The memory once its page images are rendered (``COMPLETED``) or failed (``FAILED``)."""
    return _wait_ended(c, memory_id, "page_image_status", timeout)


def _wait_ended(c: Any, memory_id: str, field: str, timeout: float) -> Any:
    def ended() -> Any:
        m = c.memories.get(id=memory_id)
        return m if getattr(m, field) in ("COMPLETED", "FAILED") else None

    return poll_until(ended, timeout=timeout, interval=0.2, message=f"memory {memory_id}: {field} not ended")


def make_space(client: Any, prefix: str) -> tuple[Any, Any]:
    """A fresh space and its embedder (``(space, embedder)``), kept until deleted."""
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
    return space, emb


@contextmanager
def temporary_space(client: Any, prefix: str) -> Iterator[Any]:
    """A fresh space (and its embedder), deleted afterwards."""
    space, emb = make_space(client, prefix)
    try:
        yield space
    finally:
        client.spaces.delete(id=space.space_id)
        client.embedders.delete(id=emb.embedder_id)
