"""FTS query building and opaque cursors."""

from __future__ import annotations

import sqlite3

import pytest

from memhub.core.errors import InvalidInput
from memhub.storage.sql.analysis import KeywordAnalyser
from memhub.storage.sql.cursors import decode_cursor, encode_cursor
from memhub.storage.sql.words import MAX_TERMS
from memhub.storage.sqlite import fts
from memhub.storage.sqlite.fts import scope_key, scoped_match

from .contract import HOSTILE_TEXTS

ENGLISH = KeywordAnalyser("english")


def match_expression(text: str) -> str | None:
    return fts.match_expression(text, ENGLISH)


def test_match_expression_quotes_and_ors_words() -> None:
    assert match_expression('Where\'s "Lisbon" (AND) col:x*?') == '"lisbon" OR "col" OR "x"'
    assert match_expression('What\'s "that" (AND)?') == '"what" OR "s" OR "that" OR "and"'  # all common: kept
    assert match_expression("  ...  ") is None
    assert match_expression("Ünïcödé 東京") == '"unicod" OR "東京"'
    assert match_expression(" ".join(f"w{i}" for i in range(500))).count(" OR ") == MAX_TERMS - 1  # type: ignore[union-attr]


def test_common_words_are_dropped_from_queries_unless_nothing_else_is_left() -> None:
    assert match_expression("what did Caroline do in the summer?") == '"carolin" OR "summer"'
    assert match_expression("Who are you?") == '"who" OR "are" OR "you"'


def test_every_hostile_text_is_valid_fts5_also_with_hostile_scope_ids() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE t USING fts5(keyword_text, scope_key, tokenize='unicode61 remove_diacritics 2')"
    )
    conn.execute("INSERT INTO t VALUES ('some text', ?)", (scope_key('a"b', "s:1", "u*", None),))
    for text in HOSTILE_TEXTS:
        words = match_expression(text)
        if words is not None:
            expression = scoped_match(words, 'a"b', None, text or "x", None)
            conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


def test_scope_tokens_select_exactly_their_scope_and_never_match_words() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(keyword_text, scope_key)")
    rows = [
        (1, "paris trip", scope_key("t1", "s1", "alice", "e1")),
        (2, "paris food", scope_key("t1", "s1", "bob", None)),
        (3, "paris", scope_key("t1", "s2", None, None)),
        (4, "paris", scope_key("t2", "s3", "alice", "e1")),  # same user and session ids, other tenant
    ]
    conn.executemany("INSERT INTO t (rowid, keyword_text, scope_key) VALUES (?, ?, ?)", rows)

    def hits(**scope: object) -> list[int]:
        expression = scoped_match('"paris"', "t1", **scope)  # type: ignore[arg-type]
        return [
            r[0] for r in conn.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rowid", (expression,))
        ]

    assert hits() == [1, 2, 3]
    assert hits(user_id="alice") == [1]
    assert hits(session_id="e1") == [1]
    assert hits(space_ids=["s1"]) == [1, 2]
    assert hits(space_ids=["s1", "s2"]) == [1, 2, 3]
    token = scope_key("t1", "s1", "alice", "e1").split()[0]
    assert (
        conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (f'keyword_text : "{token}"',)).fetchall() == []
    )


def test_cursors_round_trip_and_reject_foreign_or_broken_ones() -> None:
    cursor = encode_cursor("memories-desc", ("2024-01-01T00:00:00.000000+00:00", "id-1"))
    assert decode_cursor("memories-desc", cursor, 2) == ("2024-01-01T00:00:00.000000+00:00", "id-1")
    assert decode_cursor("memories-desc", None, 2) is None
    for bad in ("!!!", "bm90IGpzb24", encode_cursor("users", ("x",)), encode_cursor("memories-desc", ("x",))):
        with pytest.raises(InvalidInput):
            decode_cursor("memories-desc", bad, 2)
