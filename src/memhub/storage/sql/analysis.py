"""The keyword analyser: what both stores index for a chunk, and what they look up for a query.

A chunk's keyword text (its ``sparse_key``) and a query's words go through the same steps, in Python, so
SQLite and PostgreSQL index and match exactly the same tokens:

1. :func:`~memhub.storage.sql.words.fold` (lower case, diacritics off);
2. cut into tokens of letters and digits (``[^\\W_]+``: what FTS5's ``unicode61`` tokenizer keeps);
3. each token stemmed, so "camped", "camping" and "camps" are one term, and "books" finds "book"
   (Snowball's English stemmer through PyStemmer, a C extension: ~1.4 µs per new word, cached after).

The result is the tokens joined by single spaces: FTS5 and PostgreSQL's ``simple`` parser both cut that
text back into exactly these tokens, which is what lets the two stores rank alike (before, PostgreSQL's
parser saw raw text and split "e-mail" or "3.5" its own way).

Text in other languages is not broken, only stemmed by English rules or not at all: German and CJK
text stays as it is, French loses some endings ("pommes" → "pomm") on both sides alike, so a word
still finds itself. ``MEMHUB_KEYWORD_STEMMER=none`` turns stemming off. The analyser a store's chunks
were indexed with is recorded in the store; opening it with another one re-analyses every chunk
(docs/decisions/keyword-stemming.md).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from .words import fold, query_terms

STEMMERS = ("english", "none")
"""The analysers a store can use: Snowball English stemming, or none (tokens as folded)."""

TOKEN = re.compile(r"[^\W_]+")
"""FTS5's ``unicode61`` token: letters and digits (the underscore separates, as it does there). The
analyser cuts text with it, and SQLite's BM25 counts a chunk's terms with it."""


class KeywordAnalyser:
    """Folds, tokenises and (optionally) stems keyword text; one per store, shared by its threads."""

    def __init__(self, stemmer: str = "english") -> None:
        if stemmer not in STEMMERS:
            raise ValueError(f"unknown keyword stemmer {stemmer!r}: expected one of {', '.join(STEMMERS)}")
        self.name = stemmer
        self._stem_words = _stem_words(stemmer)

    def text(self, text: str) -> str:
        """What the keyword index holds for ``text``: its stemmed tokens, separated by single spaces."""
        return " ".join(self._stem_words(TOKEN.findall(fold(text))))

    def terms(self, text: str) -> list[str]:
        """The distinct analysed words a search for ``text`` looks up (common words dropped first, by
        :func:`~memhub.storage.sql.words.query_terms`). A word the tokenizer splits (``a_b``) is one
        term of several tokens separated by spaces, matched as a phrase on SQLite."""
        terms: dict[str, None] = {}
        for word in query_terms(fold(text)):
            term = self.text(word)
            if term:
                terms.setdefault(term, None)
        return list(terms)


CACHE_SIZE = 100_000
"""Stems remembered per analyser (a word is a few dozen bytes): a vocabulary, not a corpus."""


def _stem_words(stemmer: str) -> Callable[[list[str]], list[str]]:
    if stemmer == "none":
        return lambda tokens: tokens
    import Stemmer  # PyStemmer: Snowball's stemmers in C

    snowball = Stemmer.Stemmer(stemmer, 0)  # its own cache off: ours is shared by threads
    lock = threading.Lock()  # a Stemmer object is not thread-safe
    cache: dict[str, str] = {}

    def stem(word: str) -> str:
        with lock:
            if len(cache) >= CACHE_SIZE:
                cache.clear()
            found = cache[word] = snowball.stemWord(word)
        return str(found)

    def stem_words(tokens: list[str]) -> list[str]:
        get = cache.get
        return [get(token) or stem(token) for token in tokens]

    return stem_words
