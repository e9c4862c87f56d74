"""What both backends share about paging a collection of records: the cursor tag and the field check.

A records page is a keyset page over ``(created_at, id)`` like a memories page, optionally narrowed to
the records whose JSON ``data`` holds given strings at given top-level keys (GoodMem keeps a memory's
space id there). The key names are interpolated into a JSON path (SQLite) or passed as a parameter
(PostgreSQL); they are checked here so that neither can be steered by what a caller put in a name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from memhub.core.errors import InvalidInput

_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def records_listing(collection: str, newest_first: bool) -> str:
    """The cursor tag: a cursor of one collection or direction is refused by another."""
    return f"records-{collection}-{'desc' if newest_first else 'asc'}"


def checked_fields(where: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """``where`` as ``(key, value)`` pairs, once every key is a plain identifier and every value a string."""
    pairs = list((where or {}).items())
    for key, value in pairs:
        if not _FIELD.fullmatch(key):
            raise InvalidInput(f"record field {key!r} is not a plain identifier")
        if not isinstance(value, str):
            raise InvalidInput(f"record field {key!r} can only be matched against a string")
    return pairs
