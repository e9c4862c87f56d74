"""The default extractor: no LLM, deterministic, fast.

* Every message and action becomes an ``episode`` memory: the verbatim text, with speaker, session and
  timestamp, keyed for retrieval by ``pipeline/keys.py``.
* Every sentence in which the speaker says something about themselves also becomes a ``fact`` memory,
  rewritten in the third person by ``third_person`` ("My son's name is Todd" → "User's son's name is
  Todd") and linked to its source message; ``fact_rules`` says what it is about and whether it is
  ``core`` (the stable profile: identity, family, home, work, diet, lasting preferences) or not (plans,
  trips, events, hobbies …). A fact with the same *slot* as an existing one ("home", "son name")
  supersedes it, keeping history.
* Documents become one ``document`` memory with overlapping chunks (``pipeline/chunking.py``).

Only messages from the human side (any role but assistant/system/tool) yield facts: what an assistant says
about itself is not a fact about the user.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from memhub.core.models import ChunkDraft, Event, EventKind, Memory, MemoryDraft, MemoryKind
from memhub.core.ports import ExtractionContext

from .. import keys
from ..chunking import chunk_text
from .fact_rules import Classified, classify
from .third_person import as_speaker, is_first_person, is_statement, resolve_dates, rewrite, strip_leading

NON_USER_ROLES = frozenset({"assistant", "model", "system", "tool", "function", "ai", "bot"})


_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")
_CONTENT_WORD = re.compile(r"[A-Za-z][a-z]{3,}")
# Sentences that say how the speaker feels about the conversation, not something about them.
_CHATTER = re.compile(
    r"^i (?:really |just |totally |so )?(?:think|guess|hope so|hope it|hope that|agree|know|see|bet|mean|"
    r"suppose|wonder|believe|feel like|"
    r"totally|can't wait|cannot wait|appreciate|understand|get it|love that|love it|love this|love how|"
    r"like that|like it|like how|miss|remember when|am (?:so )?glad|'m (?:so )?glad|'m happy|am happy|"
    r"'m sorry|am sorry|'m sure|am sure|'m good|am good|'m fine|am fine|'m doing|am doing|can imagine|"
    r"can see)\b",
    re.IGNORECASE,
)
MIN_CONTENT_WORDS = 3  # "I'm good" is not a fact; "I adopted a puppy" is
MAX_FACT_WORDS = 45
MIN_STATEMENT_WORDS = 5
MIN_WORDS = 3  # of the fact: "User is vegetarian" says something, "User will" does not


class RuleExtractor:
    """Episodes for every turn, third-person facts for first-person statements, chunks for documents."""

    def extract(self, events: Sequence[Event], context: ExtractionContext) -> list[MemoryDraft]:
        if events and events[0].kind is EventKind.DOCUMENT:
            return [_document_draft(e, i) for i, e in enumerate(events)]
        turns = [*context.previous_events, *events]
        offset = len(context.previous_events)
        drafts: list[MemoryDraft] = []
        live = [m for m in context.existing_facts if m.valid_to is None]
        facts_by_slot = {str(m.metadata["slot"]): m for m in live if m.metadata.get("slot")}
        known = {m.text.lower() for m in live}
        for position, event in enumerate(events):
            drafts.append(_episode_draft(turns, offset + position, position))
            if event.kind is EventKind.MESSAGE and (event.role or "").lower() not in NON_USER_ROLES:
                drafts.extend(_fact_drafts(event, position, facts_by_slot, known))
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


def _fact_drafts(
    event: Event, position: int, existing: dict[str, Memory], known: set[str]
) -> list[MemoryDraft]:
    who = event.name or "User"
    drafts: list[MemoryDraft] = []
    seen: set[str] = set()
    for raw in _SENTENCE.findall(event.content):
        fact = statement(raw, who, event.occurred_at)
        if fact is None:
            continue
        text, sentence, kind = fact
        key = kind.slot or text.lower()
        if key in seen or text.lower() in known:
            continue  # said twice, or already known: nothing new
        seen.add(key)
        previous = existing.get(kind.slot) if kind.slot else None
        drafts.append(_fact_draft(event, position, kind, text, sentence, previous))
    return drafts


def statement(raw: str, who: str, when: datetime) -> tuple[str, str, Classified] | None:
    """One sentence as a third-person fact about ``who``: (text, source sentence, kind), or None.

    A sentence of a known kind (family, home, work, a trip …) is kept whenever it can be rewritten; any
    other first-person statement only if it says something (enough content words, not chatter).
    """
    sentence = as_speaker(strip_leading(raw.strip()))
    if not sentence or sentence.rstrip().endswith("?"):
        return None
    kind = classify(sentence)
    if kind is not None and kind.category == "instruction":
        return _instruction(sentence, who, kind)
    words = sentence.split()
    if not is_first_person(sentence) or not is_statement(sentence) or len(words) > MAX_FACT_WORDS:
        return None
    if kind is None:
        if (
            len(words) < MIN_STATEMENT_WORDS
            or _CHATTER.match(sentence)
            or len(_CONTENT_WORD.findall(sentence)) < MIN_CONTENT_WORDS
        ):
            return None
        kind = Classified("statement", False, None)
    text = rewrite(sentence, who)
    if text is None or who not in text or len(text.split()) < MIN_WORDS:  # "A lot's happened", "Jo will"
        return None
    return resolve_dates(text, when), sentence, kind


def _instruction(sentence: str, who: str, kind: Classified) -> tuple[str, str, Classified] | None:
    """ "Please always answer in French" → "User wants the assistant to always answer in French"."""
    request = re.sub(r"^please,?\s+", "", sentence, flags=re.IGNORECASE)
    request = re.sub(r"^(?:don't|do not)(?: ever)?\s+", "never ", request, flags=re.IGNORECASE)
    text = rewrite(request, who, named=True)
    if text is None:
        return None
    return f"{who} wants the assistant to {text[:1].lower()}{text[1:]}", sentence, kind


def _fact_draft(
    event: Event, position: int, kind: Classified, text: str, sentence: str, previous: Memory | None
) -> MemoryDraft:
    date = keys.date_label(event.occurred_at)
    return MemoryDraft(
        kind=MemoryKind.FACT,
        core=kind.core,
        text=text,
        chunks=[ChunkDraft(text=text, dense_key=f"[{date}] {text}", sparse_key=f"{text}\n{sentence}")],
        source_positions=[position],
        metadata={"slot": kind.slot, "category": kind.category},
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
