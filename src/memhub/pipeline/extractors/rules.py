"""The default extractor: no LLM, deterministic, fast.

* Every message and action becomes an ``episode`` memory: the verbatim text, with speaker, session and
  timestamp, keyed for retrieval by ``pipeline/keys.py``.
* First-person statements of stable facts about the speaker (name, family, home, work, age, preferences,
  plans, standing instructions) also become ``fact`` memories marked ``core``, rewritten in the third
  person ("My son's name is Todd" → "User's son's name is Todd") and linked to their source message.
  A fact with the same *slot* as an existing one ("lives in", "son's name") supersedes it, keeping history.
* Documents become one ``document`` memory with overlapping chunks (``pipeline/chunking.py``).

Only messages from the human side (any role but assistant/system/tool) yield facts: what an assistant says
about itself is not a fact about the user.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from memhub.core.models import ChunkDraft, Event, EventKind, Memory, MemoryDraft, MemoryKind
from memhub.core.ports import ExtractionContext

from .. import keys
from ..chunking import chunk_text

NON_USER_ROLES = frozenset({"assistant", "model", "system", "tool", "function", "ai", "bot"})


@dataclass(frozen=True)
class FactPattern:
    """A first-person statement shape, the slot it fills and how to phrase it in the third person."""

    regex: re.Pattern[str]
    slot: str  # a template over the regex groups; same slot = same fact about the user
    phrase: str  # template producing the third-person fact, ``{who}`` = the subject


def _p(pattern: str, slot: str, phrase: str) -> FactPattern:
    return FactPattern(re.compile(pattern, re.IGNORECASE), slot, phrase)


_VALUE = r"(?P<value>[^.!?;\n]{1,80})"
_REL = r"(?P<rel>(?:[a-z]+ ){0,2}[a-z]+?)"

PATTERNS: tuple[FactPattern, ...] = (
    _p(r"\bmy name is " + _VALUE, "name", "{who}'s name is {value}"),
    _p(r"\bcall me " + _VALUE, "name", "{who} wants to be called {value}"),
    _p(r"\bmy " + _REL + r"'s name is " + _VALUE, "{rel} name", "{who}'s {rel}'s name is {value}"),
    _p(r"\bmy " + _REL + r" is (?:called|named) " + _VALUE, "{rel} name", "{who}'s {rel} is called {value}"),
    _p(r"\bi(?: am|'m) (?P<value>\d{1,3}) years? old\b", "age", "{who} is {value} years old"),
    _p(r"\bi (?:live|reside) in " + _VALUE, "home", "{who} lives in {value}"),
    _p(r"\bi(?: am|'m) from " + _VALUE, "origin", "{who} is from {value}"),
    _p(r"\bi (?:just )?moved to " + _VALUE, "home", "{who} moved to {value}"),
    _p(r"\bi work (?:as|at|for|in) " + _VALUE, "work", "{who} works {verb} {value}"),
    _p(
        r"\bi(?: am|'m) an? (?P<value>[a-z][a-z -]{2,40}?(?:er|or|ist|ian|ant|ent|eer|ect|ef|nurse|doctor|"
        r"lawyer|teacher|student|developer|designer|manager|consultant))\b",
        "work",
        "{who} is a {value}",
    ),
    _p(r"\bmy (?:job|profession|occupation) is " + _VALUE, "work", "{who}'s job is {value}"),
    _p(r"\bi(?: am|'m) allergic to " + _VALUE, "allergy {value}", "{who} is allergic to {value}"),
    _p(r"\bi(?: am|'m) (?:a )?(?P<value>vegetarian|vegan|pescatarian)\b", "diet", "{who} is {value}"),
    _p(
        r"\bmy favou?rite (?P<rel>[a-z ]{2,30}?) is " + _VALUE,
        "favourite {rel}",
        "{who}'s favourite {rel} is {value}",
    ),
    _p(
        r"\bi (?:really )?(?P<verb>prefer|love|like|enjoy|hate|dislike|can't stand) " + _VALUE,
        "{verb} {value}",
        "{who} {verb3} {value}",
    ),
    _p(r"\bi(?: am|'m) (?:planning|going|hoping) to " + _VALUE, "plan {value}", "{who} plans to {value}"),
    _p(r"\bi (?:plan|want|intend) to " + _VALUE, "plan {value}", "{who} plans to {value}"),
    _p(
        r"\b(?:always |please )?use (?P<value>[^.!?;\n]{1,60} "
        r"when i (?:mention|say|ask about) [^.!?;\n]{1,60})",
        "instruction {value}",
        "{who} asked: use {value}",
    ),
    _p(
        r"\bi have (?P<value>(?:a|an|two|three|four|\d+) (?:[a-z]+ ){0,2}(?:sons?|daughters?|kids?|children|"
        r"brothers?|sisters?|dogs?|cats?|pets?))\b",
        "has {value}",
        "{who} has {value}",
    ),
    _p(
        r"\bi(?: am|'m) (?P<value>married|single|divorced|engaged|pregnant|retired)\b",
        "status",
        "{who} is {value}",
    ),
)

_THIRD_PERSON = {
    "prefer": "prefers",
    "love": "loves",
    "like": "likes",
    "enjoy": "enjoys",
    "hate": "hates",
    "dislike": "dislikes",
    "can't stand": "can't stand",
}
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


class RuleExtractor:
    """Episodes for every turn, core facts for first-person statements, chunks for documents."""

    def extract(self, events: Sequence[Event], context: ExtractionContext) -> list[MemoryDraft]:
        if events and events[0].kind is EventKind.DOCUMENT:
            return [_document_draft(e, i) for i, e in enumerate(events)]
        turns = [*context.previous_events, *events]
        offset = len(context.previous_events)
        drafts: list[MemoryDraft] = []
        facts_by_slot = {str(m.metadata.get("slot")): m for m in context.existing_facts if m.valid_to is None}
        for position, event in enumerate(events):
            drafts.append(_episode_draft(turns, offset + position, position))
            if event.kind is EventKind.MESSAGE and (event.role or "").lower() not in NON_USER_ROLES:
                drafts.extend(_fact_drafts(event, position, facts_by_slot))
        return drafts


def _episode_draft(turns: Sequence[Event], index: int, position: int) -> MemoryDraft:
    event = turns[index]
    chunk = ChunkDraft(
        text=event.content,
        dense_key=keys.dense_key(event, turns[:index]),
        sparse_key=keys.window_key(turns, index),
    )
    return MemoryDraft(
        kind=MemoryKind.EPISODE,
        text=event.content,
        chunks=[chunk],
        source_positions=[position],
        metadata={"role": event.role, **({"speaker": event.name} if event.name else {})},
    )


def _fact_drafts(event: Event, position: int, existing: dict[str, Memory]) -> list[MemoryDraft]:
    who = event.name or "User"
    drafts: list[MemoryDraft] = []
    seen_slots: set[str] = set()
    for sentence in _SENTENCE.findall(event.content):
        for pattern in PATTERNS:
            match = pattern.regex.search(sentence)
            if match is None:
                continue
            slot, text = _render(pattern, match, who)
            if slot in seen_slots:
                continue
            seen_slots.add(slot)
            previous = existing.get(slot)
            if previous is not None and previous.text == text:
                continue  # already known, nothing new
            drafts.append(_fact_draft(event, position, slot, text, sentence.strip(), previous))
    return drafts


def _render(pattern: FactPattern, match: re.Match[str], who: str) -> tuple[str, str]:
    groups = {k: (v or "").strip().rstrip(",") for k, v in match.groupdict().items()}
    value = groups.get("value", "")
    verb = groups.get("verb", "")
    fields = {
        "who": who,
        "value": value,
        "rel": groups.get("rel", ""),
        "verb": _work_preposition(match.group(0)) if pattern.slot == "work" else verb.lower(),
        "verb3": _THIRD_PERSON.get(verb.lower(), verb.lower()),
    }
    slot = pattern.slot.format(**{k: v.lower() for k, v in fields.items()})
    return slot, pattern.phrase.format(**fields)


def _work_preposition(matched: str) -> str:
    for word in ("as", "at", "for", "in"):
        if re.search(rf"\bwork {word}\b", matched, re.IGNORECASE):
            return word
    return "as"


def _fact_draft(
    event: Event, position: int, slot: str, text: str, sentence: str, previous: Memory | None
) -> MemoryDraft:
    date = keys.date_label(event.occurred_at)
    return MemoryDraft(
        kind=MemoryKind.FACT,
        core=True,
        text=text,
        chunks=[ChunkDraft(text=text, dense_key=f"[{date}] {text}", sparse_key=f"{text}\n{sentence}")],
        source_positions=[position],
        metadata={"slot": slot},
        supersedes=previous.id if previous is not None else None,
    )


def _document_draft(event: Event, position: int) -> MemoryDraft:
    size = int(event.metadata.get("chunk_size", 1000))
    overlap = int(event.metadata.get("chunk_overlap", 100))
    title = event.name or ""
    chunks = [
        ChunkDraft(
            text=piece.text,
            dense_key=f"{title}\n{piece.text}" if title else piece.text,
            sparse_key=f"{title}\n{piece.text}" if title else piece.text,
            start=piece.start,
            end=piece.end,
        )
        for piece in chunk_text(event.content, size, overlap)
    ]
    return MemoryDraft(
        kind=MemoryKind.DOCUMENT, text=event.content, chunks=chunks, source_positions=[position]
    )
