"""First-person sentences rewritten as third-person statements about their speaker.

"I live in Portland with my husband Marcus" → "User lives in Portland with their husband Marcus".
The speaker is named once, as the sentence's first subject or possessor; later references become
"they"/"their"/"them", which need no verb agreement ("they love"). A verb after the named subject is
put in the third person ("I go" → "User goes"); past forms and modals stay as they are.

Sentences this cannot rewrite without guessing return None: ones addressed to the listener ("you"),
ones about a group ("we", "our"), questions. A stored fact must read correctly on its own, so a missed
fact is better than a garbled one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

# Words that end the rewrite: whose referent the statement would lose.
_LISTENER = re.compile(
    r"\b(?:you|your|yours|yourself|ya|u|we|us|our|ours|ourselves|we're|we've|we'll|we'd)\b", re.I
)
# Asides that address the listener without making the statement about them.
_FILLERS = re.compile(
    r"(?:^|,\s*)(?:you know|thank you|thanks to you|you guys)(?:,\s*|$)|^no worries,?\s*", re.I
)
_LEADING = re.compile(
    r"^(?:(?:(?:thanks|thank you)(?: so much| a lot| a ton)?|yeah|yep|yes|yup|no|nope|oh|ooh|wow|well|so|"
    r"haha|hah|lol|hey|hi|hello|aw+|um+|uh+|ok|"
    r"okay|sure|actually|honestly|totally|right|true|definitely|absolutely|omg|cool|great|nice|awesome|"
    r"(?:good|great|nice|cool) (?:idea|point|one|question|call)|"
    r"and|but|also|anyway|btw|by the way|guess what|fun fact)\b[\s,!.:-]*)+",
    re.I,
)
_ADVERBS = frozenset(
    (
        "really",
        "just",
        "also",
        "always",
        "never",
        "usually",
        "often",
        "still",
        "actually",
        "recently",
        "finally",
        "even",
        "sometimes",
        "already",
        "totally",
        "definitely",
        "only",
        "kinda",
        "mostly",
        "generally",
        "normally",
        "typically",
        "currently",
        "now",
        "rarely",
        "seriously",
        "absolutely",
        "truly",
        "mainly",
        "basically",
        "probably",
    )
)
# Verb forms that do not change after a third-person subject.
_INVARIANT = frozenset(
    (
        "can",
        "could",
        "will",
        "would",
        "shall",
        "should",
        "may",
        "might",
        "must",
        "was",
        "were",
        "did",
        "had",
        "got",
        "went",
        "made",
        "took",
        "came",
        "saw",
        "found",
        "gave",
        "told",
        "felt",
        "thought",
        "bought",
        "brought",
        "caught",
        "taught",
        "left",
        "kept",
        "met",
        "paid",
        "said",
        "sold",
        "sent",
        "spent",
        "stood",
        "understood",
        "won",
        "wrote",
        "became",
        "began",
        "broke",
        "chose",
        "drove",
        "ate",
        "fell",
        "flew",
        "forgot",
        "grew",
        "hid",
        "held",
        "hurt",
        "knew",
        "led",
        "lost",
        "put",
        "ran",
        "rode",
        "rang",
        "sang",
        "sat",
        "slept",
        "spoke",
        "swam",
        "threw",
        "woke",
        "wore",
        "read",
        "let",
        "set",
        "cut",
        "quit",
        "hit",
        "shut",
        "built",
        "lent",
        "meant",
        "heard",
        "sought",
        "dealt",
        "fought",
        "lit",
        "dug",
        "stuck",
        "struck",
        "swung",
        "hung",
        "taught",
        "overcame",
        "can't",
        "couldn't",
        "won't",
        "wouldn't",
        "shouldn't",
        "didn't",
        "wasn't",
        "weren't",
        "hadn't",
        "mustn't",
        "used",
        "need'nt",
    )
)
_IRREGULAR = {
    "have": "has",
    "do": "does",
    "don't": "doesn't",
    "am": "is",
    "go": "goes",
    "haven't": "hasn't",
    "wanna": "wants to",
    "gonna": "is going to",
    "gotta": "has to",
}
_CONTRACTED = {
    "'m": "is",
    "'ve": "has",
    "'d": "would",
    "'ll": "will",
    "\u2019m": "is",
    "\u2019ve": "has",
    "\u2019d": "would",
    "\u2019ll": "will",
}
_LATER_CONTRACTED = {"is": "are", "has": "have", "would": "would", "will": "will"}
_TOKEN = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)?|\d+(?:[.,:]\d+)*|\s+|[^\w\s]")


def strip_leading(sentence: str) -> str:
    """Interjections and a vocative name ("Yeah, Caroline.") before the statement proper."""
    text = _FILLERS.sub("", sentence).strip()
    text = _LEADING.sub("", text).strip()
    vocative = re.match(r"^([A-Z][a-z]+)[,!]\s+(?=\S)", text)
    if vocative and not _is_sentence_adverb(vocative.group(1)) and not text.startswith(("I,", "I!")):
        text = text[vocative.end() :]
    return text.strip(" ,;:-")


# Openings that make the sentence about something shown or asked, or drop its subject ("Haven't tried it").
_NOT_A_STATEMENT = re.compile(
    r"^(?:what|how|why|who|take a look|check|look|here's|here is|here are|look at|this is|these are|let me|"
    r"lemme|tell me|show me|"
    r"haven't|hasn't|don't|didn't|can't|couldn't|won't|gonna|wanna|been|got|had|just|love|loved|glad|hope|"
    r"thinking|feeling|wish|need|miss|went|made|can't wait|so|sounds|feels|seems|looks)\b",
    re.I,
)


_SENTENCE_ADVERBS = frozenset(
    (
        *("yesterday", "today", "tomorrow", "tonight", "recently", "lately", "now", "then", "sometimes"),
        *("finally", "also", "anyway", "luckily", "unfortunately", "fortunately", "sadly", "honestly"),
        *("meanwhile", "afterwards", "later", "currently", "originally", "eventually", "besides", "still"),
    )
)


def _is_sentence_adverb(word: str) -> bool:
    """ "Yesterday, I went …": an opening word that is part of the statement, not a name addressed."""
    lower = word.lower()
    return lower in _SENTENCE_ADVERBS or lower.endswith("ly")


def is_statement(sentence: str) -> bool:
    """Whether the sentence states something (not a caption of a photo, a request, a subjectless aside)."""
    return _NOT_A_STATEMENT.match(sentence) is None


def is_first_person(sentence: str) -> bool:
    return re.search(r"\b(?:I|I['\u2019](?:m|ve|d|ll)|my|me|myself|mine)\b", sentence, re.I) is not None and (
        re.search(r"\bI\b|\bI['\u2019]", sentence) is not None
        or re.match(r"\s*my\b", sentence, re.I) is not None
    )


_WE_HAVE = re.compile(r"^we (?=(?:have|adopted|got|own|live|moved|just adopted|just got|just moved)\b)", re.I)


def as_speaker(sentence: str) -> str:
    """ "We have two kids" / "We adopted a dog" → said of the speaker ("I have two kids"): the household's."""
    text = _WE_HAVE.sub("I ", sentence)
    return re.sub(r"\bour\b", "my", text, flags=re.I) if text is not sentence and text != sentence else text


def rewrite(sentence: str, who: str, named: bool = False) -> str | None:
    """The sentence in the third person about ``who``, or None if it can't be said cleanly.

    ``named``: ``who`` was already said (the sentence continues a statement about them).
    "We have/adopted/live …" at the start is the speaker's household, said of the speaker.
    """
    text = _FILLERS.sub("", sentence).strip().rstrip(" .!,;:-")
    text = as_speaker(text)
    text = re.sub(r"(?<=\w),?\s+(?:so |and )?please\b.*$", "", text, flags=re.I)  # a request tacked on
    # a closing clause about "we"/"you" goes; the statement about the speaker before it stays
    text = re.sub(r"(?<=\w),?\s+(?:and|but|so|because|since)\s+(?:we|you)\b.*$", "", text, flags=re.I)
    if not text or text.endswith("?") or _LISTENER.search(text):
        return None
    text = re.sub(r"\bmy (\w+) and I\b(?!['\u2019])", r"I and my \1", text, flags=re.I)
    pieces = _TOKEN.findall(text)
    said = _Said(who, named)
    out: list[str] = []
    i = 0
    while i < len(pieces):
        i = _rewrite_at(pieces, i, out, said)
    result = _tidy("".join(out), said)
    if not result or _FIRST_PERSON_LEFT.search(result):
        return None  # a spelling of "I" this does not know: better no fact than a half-rewritten one
    return result


@dataclass
class _Said:
    """What the rewrite has said so far about the speaker."""

    who: str
    named: bool = False
    lexical: bool = False  # the named subject's verb is a full verb: a coordinated one must agree with it


_FIRST_PERSON_LEFT = re.compile(r"\bI\b|\b(?i:me|my|mine|myself)\b")
_POSSESSIVES = {"myself": "themselves", "mine": "theirs"}
_AUXILIARIES = frozenset(
    (
        *("am", "was", "is", "will", "would", "can", "could", "should", "may", "might", "must", "shall"),
        *("had", "did", "don't", "didn't", "can't", "won't", "wouldn't", "couldn't", "haven't", "wasn't"),
        *("gonna", "wanna", "gotta"),
    )
)
_LY_VERBS = frozenset(("apply", "reply", "rely", "supply", "fly", "ally", "multiply", "comply", "bully"))
# A second verb of the named subject ("User joined a band and have been practising").
_COORDINATED = re.compile(
    r"(\band (?:also |then |now )?)(have|do|go|see|teach|take|make|get|keep|try|love|like|want|need|feel|"
    r"play|spend|help|work|practice|practise|enjoy|write|read|run|cook|watch|walk|visit)\b"
)


def _rewrite_at(pieces: list[str], i: int, out: list[str], said: _Said) -> int:
    """Rewrite ``pieces[i]`` (and, for a subject "I", its verb) into ``out``; the next index."""
    word = pieces[i]
    lower = word.lower().replace("\u2019", "'")
    if word == "I" or (lower.startswith("i'") and word[0] == "I"):
        return i + _subject(pieces, i, out, said)
    if lower == "my":
        out.append("their" if said.named else f"{said.who}'s")
        said.named = True
    elif lower == "me":
        out.append("them" if said.named else said.who)
        said.named = True
    else:
        out.append(_POSSESSIVES.get(lower, word))
    return i + 1


def _tidy(text: str, said: _Said) -> str:
    result = re.sub(r"\s+", " ", text).strip()
    result = re.sub(r",\s*(?-i:[A-Z][a-z]+)$", "", result)  # a closing vocative ("…, Jon")
    if said.lexical:
        result = _COORDINATED.sub(lambda m: m.group(1) + third_person_verb(m.group(2)), result)
    result = re.sub(r"\b(\w+) and \1\b", r"\1", result)
    return result[:1].upper() + result[1:]


def _is_adverb(word: str) -> bool:
    lower = word.lower()
    return lower in _ADVERBS or (lower.endswith("ly") and lower not in _LY_VERBS)


def _subject(pieces: list[str], i: int, out: list[str], said: _Said) -> int:
    """Rewrite the subject "I" (or "I'm" …) at ``pieces[i]`` and its verb; how many pieces it took."""
    word = pieces[i].replace("\u2019", "'")
    previous = next((p for p in reversed(out) if p.strip()), "")
    plain = not said.named and previous.lower() != "and"  # "Buddy and I have": plural, no agreement
    out.append(said.who if not said.named else "they")
    said.named = True
    if "'" in word:  # I'm, I've, I'd, I'll
        aux = _CONTRACTED.get(word[1:].lower(), "is")
        out.append(" " + (aux if plain else _LATER_CONTRACTED[aux]))
        return 1
    j = _next_word(pieces, i + 1)
    if not plain:
        # "they" takes the base form; only "am"/"was" need changing.
        if j is not None and pieces[j].lower() in ("am", "was"):
            out.extend(pieces[i + 1 : j])
            out.append("are" if pieces[j].lower() == "am" else "were")
            return j - i + 1
        return 1
    while j is not None and _is_adverb(pieces[j]):
        j = _next_word(pieces, j + 1)
    if j is None or pieces[j].lower() in ("and", "or"):
        return 1
    out.extend(pieces[i + 1 : j])
    out.append(third_person_verb(pieces[j]))
    said.lexical = pieces[j].lower().replace("\u2019", "'") not in _AUXILIARIES
    return j - i + 1


def _next_word(pieces: list[str], start: int) -> int | None:
    for k in range(start, len(pieces)):
        if pieces[k].strip():
            return k if pieces[k][0].isalpha() else None
    return None


def third_person_verb(verb: str) -> str:
    lower = verb.lower().replace("\u2019", "'")
    if lower in _IRREGULAR:
        return _IRREGULAR[lower]
    past = lower.endswith("ed") and not lower.endswith("eed") and lower not in ("shed", "embed", "wed")
    if lower in _INVARIANT or past or lower.endswith("n't") or not lower.isalpha():
        return verb
    if lower.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if len(lower) > 2 and lower.endswith("y") and lower[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


# ---------------------------------------------------------------------------------------------------
# relative dates: a fact is read later, so "next month" is said as the month it meant


def _week_of(day: datetime) -> str:
    monday = day - timedelta(days=day.weekday())
    return f"the week of {monday.day} {monday.strftime('%B %Y')}"


def _month(day: datetime, delta: int) -> str:
    index = day.year * 12 + day.month - 1 + delta
    return datetime(index // 12, index % 12 + 1, 1).strftime("%B %Y")


def _day(day: datetime) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def _weekend(day: datetime, weeks: int) -> str:
    saturday = day + timedelta(days=(5 - day.weekday()) % 7 + 7 * weeks)
    return f"the weekend of {_day(saturday)}"


_RELATIVE: tuple[tuple[str, Callable[[datetime], str]], ...] = (
    (r"\btomorrow\b", lambda d: "on " + _day(d + timedelta(days=1))),
    (r"\byesterday\b", lambda d: "on " + _day(d - timedelta(days=1))),
    (r"\btoday\b", lambda d: "on " + _day(d)),
    (r"\blast night\b", lambda d: "on the night of " + _day(d - timedelta(days=1))),
    (r"\bnext week\b", lambda d: "in " + _week_of(d + timedelta(days=7))),
    (r"\blast week\b", lambda d: "in " + _week_of(d - timedelta(days=7))),
    (r"\bthis week\b", lambda d: "in " + _week_of(d)),
    (r"\bthis weekend\b", lambda d: "on " + _weekend(d, 0)),
    (r"\bnext weekend\b", lambda d: "on " + _weekend(d, 1)),
    (r"\blast weekend\b", lambda d: "on " + _weekend(d, -1)),
    (r"\bnext month\b", lambda d: "in " + _month(d, 1)),
    (r"\blast month\b", lambda d: "in " + _month(d, -1)),
    (r"\bthis month\b", lambda d: "in " + _month(d, 0)),
    (r"\bnext year\b", lambda d: f"in {d.year + 1}"),
    (r"\blast year\b", lambda d: f"in {d.year - 1}"),
    (r"\bthis year\b", lambda d: f"in {d.year}"),
)
_RELATIVE_COMPILED = [(re.compile(p, re.I), f) for p, f in _RELATIVE]


def resolve_dates(text: str, when: datetime) -> str:
    """Relative day/week/month/year words replaced by the dates they meant, said on ``when``."""
    for pattern, render in _RELATIVE_COMPILED:
        if pattern.search(text):
            text = pattern.sub(render(when), text)
    text = re.sub(r"\b(in|on|at) (in|on) ", r"\2 ", text)
    return text[:1].upper() + text[1:]
