"""Which words of a user's text a keyword search looks for: the rule both stores follow.

Very common words are dropped from the query (not from the index): every chunk containing any query word
is a candidate, so a question's "what", "did", "the" would make one query rank most of a tenant's chunks
while adding nothing to BM25's ranking, which weights such words near zero anyway
(docs/decisions/keyword-stop-words.md has the measurement). A query made only of common words keeps them.
The word pattern is Unicode ``\\w`` so accents and non-Latin scripts survive.
"""

from __future__ import annotations

import re
import unicodedata

from memhub.core.ranking import STOP_WORDS

MAX_TERMS = 64
"""Longer texts keep their first distinct words: enough for ranking, and bounded work per query."""

_WORD = re.compile(r"\w+", re.UNICODE)


def query_terms(text: str) -> list[str]:
    """The distinct lower-cased words of ``text`` a search looks for: stop words dropped unless that
    leaves nothing, at most :data:`MAX_TERMS`."""
    terms: dict[str, None] = {}
    for word in _WORD.findall(text):
        terms.setdefault(word.lower(), None)
        if len(terms) == MAX_TERMS:
            break
    return [term for term in terms if term not in STOP_WORDS] or list(terms)


def fold(text: str) -> str:
    """Lower case without diacritics (NFKD, combining marks dropped): what the keyword indexes compare.

    Only the text's distinct non-ASCII characters are looked up, and the marks found are deleted in one
    ``str.translate``: a chat turn with one curly quote used to be checked character by character in
    Python, most of a long keyword search's time (``docs/decisions/speed-targets.md``).
    """
    if text.isascii():  # nothing to decompose: the common case, ~20x faster
        return text.replace("\x00", " ").lower()
    decomposed = unicodedata.normalize("NFKD", text.replace("\x00", " "))
    marks = {ord(ch): None for ch in set(decomposed) if ch > "\x7f" and unicodedata.combining(ch)}
    return (decomposed.translate(marks) if marks else decomposed).lower()


def rarest_first(df: dict[str, int], budget: int) -> tuple[list[str], list[str]]:
    """The terms of ``df`` (term → chunks holding it) as (rare, the rest): rarest first, while the chunks
    holding the rare ones (summed) stay within ``budget``. Both stores pick keyword candidates so."""
    ordered = sorted(df, key=lambda term: (df[term], term))
    rare: list[str] = []
    total = 0
    for term in ordered:
        total += df[term]
        if total > budget:
            break
        rare.append(term)
    return rare, ordered[len(rare) :]
