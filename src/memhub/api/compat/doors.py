"""The doors the app mounts, in this order: one line per protocol (see ``adapter.py`` to add one)."""

from __future__ import annotations

from memhub.api.compat import gomemory, goodmem, gumem, memsy
from memhub.api.compat.adapter import ProtocolAdapter

ADAPTERS: tuple[ProtocolAdapter, ...] = (
    gumem.ADAPTER,
    goodmem.ADAPTER,
    memsy.ADAPTER,
    gomemory.ADAPTER,
)
