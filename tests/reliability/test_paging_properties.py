"""Hypothesis properties of keyset pagination (``storage/cursors.py`` and the listings built on it).

* A cursor round-trips its key, belongs to one listing only, and any string a caller sends as a cursor
  is either accepted or refused with :class:`InvalidInput` (a 422), never another exception.
* Walking a listing page by page, at any page size, returns every row exactly once, with no
  page larger than asked and ``next_cursor`` null only on the last page — on a real SQLite store.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memhub.core.errors import InvalidInput
from memhub.runtime import Runtime
from memhub.settings import Settings
from memhub.storage.sql.cursors import decode_cursor, encode_cursor
from support.embedders import HashEmbedder

KEY_PART = st.text(max_size=20) | st.integers(-(2**53), 2**53)
_tenants = itertools.count()


@settings(max_examples=300, derandomize=True)
@given(listing=st.text(min_size=1, max_size=12), key=st.lists(KEY_PART, min_size=1, max_size=3))
def test_cursors_round_trip_and_belong_to_one_listing(listing: str, key: list[str | int]) -> None:
    cursor = encode_cursor(listing, tuple(key))
    assert decode_cursor(listing, cursor, len(key)) == tuple(key)
    with pytest.raises(InvalidInput):
        decode_cursor(listing + "-other", cursor, len(key))
    with pytest.raises(InvalidInput):
        decode_cursor(listing, cursor, len(key) + 1)


@settings(max_examples=500, derandomize=True)
@given(cursor=st.text(max_size=40) | st.binary(max_size=30).map(lambda b: b.hex()))
def test_any_cursor_text_is_accepted_or_invalid_input(cursor: str) -> None:
    try:
        decode_cursor("memories-desc", cursor, 2)
    except InvalidInput as exc:
        assert "cursor" in exc.message


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    data: Path = tmp_path_factory.mktemp("paging")
    rt = Runtime.open(Settings(data=data, worker=False), embedder=HashEmbedder())
    yield rt
    rt.close()


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sessions=st.integers(0, 25), users=st.integers(1, 4), limit=st.integers(1, 8))
def test_walking_pages_returns_every_row_exactly_once(
    runtime: Runtime, sessions: int, users: int, limit: int
) -> None:
    service = runtime.service
    tenant = service.ensure_tenant(f"paging-{next(_tenants)}")
    for n in range(sessions):
        service.create_session(tenant.id, user_id=f"user-{n % users}", session_id=f"s-{n}")

    walked_sessions = _walk(
        lambda cursor: service.list_sessions(tenant.id, cursor=cursor, limit=limit), limit
    )
    assert sorted(s.id for s in walked_sessions) == sorted(f"s-{n}" for n in range(sessions))
    walked_users = _walk(lambda cursor: service.list_users(tenant.id, cursor=cursor, limit=limit), limit)
    assert sorted(u.id for u in walked_users) == sorted({f"user-{n % users}" for n in range(sessions)})


def _walk(fetch: object, limit: int) -> list[object]:
    items: list[object] = []
    cursor = None
    for _ in range(100):
        page = fetch(cursor)  # type: ignore[operator]
        assert len(page.items) <= limit
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        assert len(page.items) == limit, "only the last page may be short"
        cursor = page.next_cursor
    raise AssertionError("the listing did not end")
