"""Walking cursor-paged listings: one loop for every caller that needs a whole listing (or its tail)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .models import Page


def iter_items(fetch: Callable[[str | None], Page]) -> Iterator[Any]:
    """Every item of a listing, page by page: ``fetch(cursor)`` returns the page at ``cursor``."""
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
