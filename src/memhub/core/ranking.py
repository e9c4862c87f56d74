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
from collections.abc import Iterable
from datetime import date, datetime, timedelta

_WORD = re.compile(r"\w+", re.UNICODE)


def terms(text: str) -> list[str]:
    """Lowercase word tokens (Unicode ``\\w+``, as the keyword index splits words)."""
    return [w.lower() for w in _WORD.findall(text)]


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


def recency_bonus(occurred_at: datetime, now: datetime, half_life_days: float = 30.0) -> float:
    """1.0 for just now, 0.5 one half-life ago, towards 0 for the distant past."""
    age_days = max(0.0, (now - occurred_at).total_seconds() / 86400.0)
    return float(0.5 ** (age_days / half_life_days))
