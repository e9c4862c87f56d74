"""FTS query building and opaque cursors."""

from __future__ import annotations

import sqlite3

import pytest

from memhub.core.errors import InvalidInput
from memhub.storage.cursors import decode_cursor, encode_cursor
from memhub.storage.fts import MAX_TERMS, match_expression

from .contract import HOSTILE_TEXTS


def test_match_expression_quotes_and_ors_words() -> None:
    assert match_expression('Where\'s "Lisbon" (AND) col:x*?') == '"lisbon" OR "col" OR "x"'
    assert match_expression('What\'s "that" (AND)?') == '"what" OR "s" OR "that" OR "and"'  # all common: kept
    assert match_expression("  ...  ") is None
    assert match_expression("Ünïcödé 東京") == '"ünïcödé" OR "東京"'
    assert match_expression(" ".join(f"w{i}" for i in range(500))).count(" OR ") == MAX_TERMS - 1  # type: ignore[union-attr]


def test_common_words_are_dropped_from_queries_unless_nothing_else_is_left() -> None:
    assert match_expression("what did Caroline do in the summer?") == '"caroline" OR "summer"'
    assert match_expression("Who are you?") == '"who" OR "are" OR "you"'


def test_every_hostile_text_is_valid_fts5() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO t VALUES ('some text')")
    for text in HOSTILE_TEXTS:
        expression = match_expression(text)
        if expression is not None:
            conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


def test_cursors_round_trip_and_reject_foreign_or_broken_ones() -> None:
    cursor = encode_cursor("memories-desc", ("2024-01-01T00:00:00.000000+00:00", "id-1"))
    assert decode_cursor("memories-desc", cursor, 2) == ("2024-01-01T00:00:00.000000+00:00", "id-1")
    assert decode_cursor("memories-desc", None, 2) is None
    for bad in ("!!!", "bm90IGpzb24", encode_cursor("users", ("x",)), encode_cursor("memories-desc", ("x",))):
        with pytest.raises(InvalidInput):
            decode_cursor("memories-desc", bad, 2)
