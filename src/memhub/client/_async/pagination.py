"""Cursor pages that can be walked item by item across every page.

A listing call fetches its first page at once (so a bad argument or a missing key fails where the call
is, not later inside a loop) and returns it. Iterating the page — ``async for item in page`` here,
``for item in page`` in the generated sync twin — yields its items and then those of every following
page, fetching each only when the previous one is used up. ``iter_pages()`` walks whole pages instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar

from .. import _protocol as protocol
from .requester import AsyncRequester

T = TypeVar("T")


class AsyncCursorPage(Generic[T]):
    """One page of a listing: ``items`` and the opaque ``next_cursor`` (None on the last page)."""

    def __init__(
        self,
        items: list[T],
        next_cursor: str | None,
        *,
        requester: AsyncRequester,
        spec: protocol.RequestSpec,
        item: type[T],
    ) -> None:
        self.items = items
        self.next_cursor = next_cursor
        self._requester = requester
        self._spec = spec
        self._item = item

    def has_next_page(self) -> bool:
        return self.next_cursor is not None

    async def next_page(self) -> AsyncCursorPage[T]:
        """Fetch the page after this one. Raises ``LookupError`` on the last page."""
        if self.next_cursor is None:
            raise LookupError("this is the last page")
        spec = self._spec.with_params(cursor=self.next_cursor)
        return await fetch_page(self._requester, spec, self._item)

    async def iter_pages(self) -> AsyncIterator[AsyncCursorPage[T]]:
        """This page, then every following page."""
        page = self
        yield page
        while page.has_next_page():
            page = await page.next_page()
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.items:
                yield item

    def __repr__(self) -> str:
        return f"<{type(self).__name__} items={len(self.items)} next_cursor={self.next_cursor!r}>"


async def fetch_page(
    requester: AsyncRequester, spec: protocol.RequestSpec, item: type[T]
) -> AsyncCursorPage[T]:
    """GET one page of ``spec`` and wrap it so it can fetch the next ones itself."""
    response = await requester.send(spec)
    data: Any = protocol.decode(response)
    items = protocol.parse_list(item, protocol.field_of(data, "items", response), response)
    cursor = data.get("next_cursor")
    return AsyncCursorPage(
        items,
        cursor if isinstance(cursor, str) and cursor else None,
        requester=requester,
        spec=spec,
        item=item,
    )
