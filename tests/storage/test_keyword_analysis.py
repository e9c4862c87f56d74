"""The keyword analyser both stores index and search with: fold, tokens, stems."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from memhub.storage.sql import analysis
from memhub.storage.sql.analysis import KeywordAnalyser
from memhub.storage.sql.words import fold

ENGLISH = KeywordAnalyser("english")
NONE = KeywordAnalyser("none")


def test_text_is_folded_cut_into_tokens_and_stemmed() -> None:
    assert ENGLISH.text("Caroline went CAMPING; the café's books!") == "carolin went camp the cafe s book"
    assert NONE.text("Caroline went CAMPING; the café's books!") == "caroline went camping the cafe s books"
    assert ENGLISH.text("snake_case e-mail 3.5pm") == "snake case e mail 3 5pm"  # FTS5's token rule
    assert ENGLISH.text(" ... ") == ""


def test_forms_of_a_word_become_one_term() -> None:
    assert ENGLISH.terms("camped camping camps") == ["camp"]
    assert ENGLISH.terms("book books") == ["book"]
    assert NONE.terms("camped camping") == ["camped", "camping"]


def test_query_terms_drop_common_words_before_stemming_and_keep_split_words_as_phrases() -> None:
    assert ENGLISH.terms("When did Caroline go to the lake?") == ["carolin", "go", "lake"]
    assert ENGLISH.terms("Who are you?") == ["who", "are", "you"]  # only common words: kept
    assert ENGLISH.terms("x_y") == ["x y"]
    assert ENGLISH.terms("!!") == []


def test_other_languages_are_left_whole_or_stemmed_alike_on_both_sides() -> None:
    assert ENGLISH.text("Die Kinder spielten im Garten") == "die kinder spielten im garten"
    assert ENGLISH.text("東京タワー 서울에서") == fold("東京タワー 서울에서")  # (Hangul folds to its jamo)
    assert len(ENGLISH.terms("東京タワー 서울에서")) == 2
    # French loses some endings by English rules, but singular and plural still meet.
    assert ENGLISH.terms("pomme") == ENGLISH.terms("pommes") == [ENGLISH.text("pommes")]


def test_an_unknown_stemmer_is_refused() -> None:
    with pytest.raises(ValueError, match="english, none"):
        KeywordAnalyser("klingon")


def test_threads_share_one_analyser_and_its_bounded_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analysis, "CACHE_SIZE", 50)
    shared = KeywordAnalyser("english")
    texts = [" ".join(f"walking{i} talked{j} houses" for j in range(20)) for i in range(40)]
    expected = [KeywordAnalyser("english").text(text) for text in texts]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            assert list(pool.map(shared.text, texts)) == expected
