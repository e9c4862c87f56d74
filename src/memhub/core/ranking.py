"""Query-side helpers of retrieval, and the recency bonus.

:func:`names_in` tells which candidate names a query mentions, and :func:`date_range` finds an absolute
date ("on 13 October 2023", "in May 2023") a query is about; both feed the relevance model
(``relevance.py``), which is what scores and orders results. Month names are English; a query in another
language simply gets no help from the date signal.

Z-score fusion and reciprocal rank fusion used to live here; the relevance model replaced them, and
``docs/decisions/relevance-score.md`` has the numbers of all three.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta

_WORD = re.compile(r"\w+", re.UNICODE)

STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves s t d ll m re ve
    """.split()  # noqa: SIM905 -- a word list reads better as text
)
"""Very common English words: keyword queries drop them (``storage/sql/words.py``), and so does
:func:`content_words`."""


def terms(text: str) -> list[str]:
    """Lowercase word tokens (Unicode ``\\w+``, as the keyword index splits words)."""
    return [w.lower() for w in _WORD.findall(text)]


def content_words(query: str, leave_out: Iterable[str] = ()) -> list[str]:
    """The query's distinct words that say what it is about: no stop words, none of ``leave_out``.

    ``leave_out`` is the names the query mentions: whose turn it is is the speaker signal's business,
    and a name is rarely in the turn's own text.
    """
    dropped = STOP_WORDS | {w for name in leave_out for w in terms(name)}
    return [w for w in dict.fromkeys(terms(query)) if w not in dropped]


def word_stem(word: str) -> str:
    """A crude stem that lets "painting" find "painted" and "activities" "activity": a word of six
    letters or more loses its last three (keeping at least five); shorter words stay whole.

    Used as a prefix of the text's words (:func:`share_found`), so "paint" also finds "painting". No
    dictionary and no language rules beyond that, so it is cheap and never wrong by much.
    """
    return word[: max(5, len(word) - 3)] if len(word) >= 6 else word


def share_found(words: Sequence[str], stem: bool) -> Callable[[str], float]:
    """A function giving the share of ``words`` present in a text: as a word beginning with its
    :func:`word_stem` when ``stem`` (words of three letters or fewer must match whole), else as the
    whole word.

    One regular expression per query, compiled here and run over each text: the scan is a single pass
    in C, where splitting every text into words cost several times more.
    """
    if not words:
        return lambda text: 0.0
    keys = [word_stem(w) if stem and len(w) > 3 else w for w in words]
    prefix = {k: stem and len(w) > 3 for k, w in zip(keys, words, strict=True)}
    starts = "|".join(re.escape(k) + ("" if prefix[k] else r"\b") for k in sorted(set(keys)))
    pattern = re.compile(rf"\b(?:{starts})\w*", re.IGNORECASE)  # whole words that start like a key

    def share(text: str) -> float:
        found = {m.lower() for m in pattern.findall(text)}
        hits = sum(any(t.startswith(k) for t in found) if prefix[k] else k in found for k in keys)
        return hits / len(keys)

    if stem or not all(k.isascii() for k in keys):
        return share

    def share_whole(text: str) -> float:
        """``share`` for whole words in ASCII text (a keyword key: ~600 characters), ~5x cheaper: a
        substring search per word instead of the pattern tried at every position of the text."""
        if not text.isascii():
            return share(text)
        lower = text.lower()
        return sum(_has_whole_word(lower, k) for k in keys) / len(keys)

    return share_whole


def _has_whole_word(text: str, word: str) -> bool:
    """Whether ``word`` is in ASCII ``text`` neither preceded nor followed by a word character (as
    ``\\b`` sees them: letters, digits, ``_``)."""
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        if (start == 0 or not _is_word_char(text[start - 1])) and (
            end == len(text) or not _is_word_char(text[end])
        ):
            return True
        start = text.find(word, start + 1)
    return False


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def word_count(text: str) -> int:
    """The number of words in ``text`` (as :func:`terms` splits them)."""
    return len(_WORD.findall(text))


def names_in(query: str, names: Iterable[str]) -> set[str]:
    """The ``names`` the query mentions: every word of the name appears as a word of the query.

    Word-level and case-insensitive, so "Alice's trip" names "Alice" and "Ali" does not.
    """
    words = set(terms(query))
    return {name for name in names if (parts := terms(name)) and all(p in words for p in parts)}


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DATE_PATTERNS = (  # most specific first
    re.compile(r"\b(?P<year>\d{4})-(?P<mnum>\d\d)-(?P<day>\d\d)\b"),
    re.compile(rf"\b{_DAY} (?:of )?{_MONTH},? {_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_MONTH} {_DAY},? {_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_MONTH},? {_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b(?:in|during|of|throughout) {_YEAR}\b", re.IGNORECASE),
)


def date_range(query: str) -> tuple[date, date] | None:
    """The half-open span of days an absolute date in ``query`` covers (a day, a month or a year).

    Only absolute dates: "last week" needs a reference point the query does not carry. A date that
    does not exist ("31 February 2023") counts as none.
    """
    for pattern in _DATE_PATTERNS:
        match = pattern.search(query)
        if match is None:
            continue
        parts = match.groupdict()
        year = int(parts["year"])
        month = int(parts["mnum"]) if parts.get("mnum") else _MONTHS.get((parts.get("month") or "").lower())
        try:
            if month is None:
                return date(year, 1, 1), date(year + 1, 1, 1)
            if parts.get("day") is None:
                return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)
            start = date(year, month, int(parts["day"]))
        except ValueError:
            return None
        return start, start + timedelta(days=1)
    return None


_ASKS_WHEN = re.compile(
    r"\bwhen\b|^\s*(?:what|which) (?:year|month|week|day|date|time)\b|\bhow long\b", re.IGNORECASE
)
_NUMBER = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|few|couple of|several)"
_TIME_TOLD = re.compile(
    r"\b(?:yesterday|today|tonight|tomorrow|ago|recently|weekend|(?:19|20)\d\d"
    # "last monday", "next weekend": the day or the weekend alone already matches below and above
    r"|(?:last|next|this|past|coming) (?:week|month|year|night|time|summer|winter|spring|fall"
    r"|autumn|morning|evening)"
    r"|january|february|march|april|june|july|august|september|october|november|december"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    rf"|{_NUMBER}\s+(?:days?|weeks?|months?|years?|decades?))\b",
    re.IGNORECASE,
)


def asks_when(query: str) -> bool:
    """Whether the query asks about time ("When did ...", "What year ...", "How long has ...")."""
    return _ASKS_WHEN.search(query) is not None


def tells_when(text: str) -> bool:
    """Whether the text places something in time: a year, a month or weekday, a relative time
    ("yesterday", "last week") or a span ("for three years", "2 weeks"). "May" is left out: it is more
    often the verb."""
    return _TIME_TOLD.search(text) is not None


def recency_bonus(occurred_at: datetime, now: datetime, half_life_days: float = 30.0) -> float:
    """1.0 for just now, 0.5 one half-life ago, towards 0 for the distant past."""
    age_days = max(0.0, (now - occurred_at).total_seconds() / 86400.0)
    return float(0.5 ** (age_days / half_life_days))
