"""Opaque keyset cursors for paginated listings.

A cursor names the sort key of the last row a page returned (``(created_at, id)`` for memories, say),
and the next page asks for rows strictly after it. Unlike ``OFFSET``, that never repeats or skips a row
that existed when the listing started, however many rows are inserted meanwhile, and it costs one
index seek per page. The key is wrapped as URL-safe base64 of a small JSON array tagged with the listing
it belongs to, so a cursor from one listing (or one ordering) is rejected by another instead of
silently paging through the wrong rows. Cursors are not signed: a forged one can only move within the
caller's own tenant, since every query is still scoped by tenant.
"""

from __future__ import annotations

import base64
import binascii
import json

from memhub.core.errors import InvalidInput
from memhub.core.ports import MemoryOrder

CursorKey = tuple[str | int, ...]

ORDER_COLUMNS: dict[MemoryOrder, str] = {"created_at": "created_at", "occurred_at": "occurred_at"}
"""The memories column of each listing order (a closed set: it is interpolated into SQL)."""


def memory_listing(newest_first: bool, order_by: MemoryOrder) -> str:
    """The tag of a memories listing; ``created_at`` keeps its original tags so old cursors still work."""
    direction = "desc" if newest_first else "asc"
    return f"memories-{direction}" if order_by == "created_at" else f"memories-{order_by}-{direction}"


def encode_cursor(listing: str, key: CursorKey) -> str:
    raw = json.dumps([listing, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(listing: str, cursor: str | None, arity: int) -> CursorKey | None:
    """The key a cursor carries, or None for the first page; :class:`InvalidInput` if it isn't ours."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not valid: pass back the next_cursor of a previous page") from exc
    if not _well_formed(value, listing, arity):
        raise InvalidInput("cursor does not belong to this listing: pass back its own next_cursor")
    return tuple(value[1:])


def _well_formed(value: object, listing: str, arity: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == arity + 1
        and value[0] == listing
        and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value[1:])
    )
