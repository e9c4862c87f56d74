"""The fact-extraction prompt of the LLM extractor, and the check of what the model answers.

The model sees what the rule extractor sees: the new turns (numbered, with speaker and date), the two
earlier turns of the session as context, and the user's known live facts (so it does not repeat them).
It answers ``{"facts": [{"text", "core", "slot", "category", "turn"}]}``. The answer is checked item by
item: an item without a usable ``text`` is dropped, a bad ``turn`` points at the first user turn, and
only a reply with no usable shape at all counts as a failure (and is asked again, see ``llm.structured``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memhub.core.models import Event, EventKind
from memhub.core.ports import ExtractionContext

from .. import keys
from ..llm import Message, system, user
from .rules import NON_USER_ROLES

MAX_FACTS = 20  # per job: a model that lists fifty "facts" for one message is not extracting
MAX_FACT_CHARS = 500
MAX_KNOWN_FACTS = 30  # known facts shown to the model (newest first)

FACTS_SHAPE = (
    '{"facts": [{"text": "User lives in Lisbon", "core": true, "slot": "home", '
    '"category": "personal", "turn": 0}]}'
)

SYSTEM_PROMPT = f"""You extract facts worth remembering about the user from a conversation, for a \
long-term memory. Reply with one JSON object and nothing else, of this form:
{FACTS_SHAPE}

For each fact:
- "text": one short self-contained sentence in the third person. Call the user by the speaker name \
shown for their turn, or "User" if none is shown. Keep names, places, dates and numbers exact.
- "core": true for stable profile facts (name, age, family, home, origin, work, health, diet, lasting \
preferences, standing instructions); false for passing or situational ones (today's mood, one-off events).
- "slot": a short lowercase name of the attribute the fact fills, so that a later fact about the same \
attribute replaces it: "name", "age", "home", "origin", "work", "diet", "status", "<relative> name" \
(e.g. "son name"), "favourite <thing>". null when the fact can hold alongside others of its kind.
- "category": one of personal, family, work, preference, health, plan, instruction, other.
- "turn": the number of the new turn the fact comes from.

Only take facts from the user's own new turns; the assistant's turns and the earlier turns are context. \
Do not repeat a known fact unless it changed. If there is nothing worth remembering, reply {{"facts": []}}."""


@dataclass(frozen=True)
class ExtractedFact:
    """A fact as the model stated it, checked; ``position`` indexes the job's events."""

    text: str
    core: bool
    slot: str | None
    category: str | None
    position: int


def is_user_turn(event: Event) -> bool:
    return event.kind is EventKind.MESSAGE and (event.role or "").lower() not in NON_USER_ROLES


def extraction_messages(events: Sequence[Event], context: ExtractionContext) -> list[Message]:
    parts: list[str] = []
    known = [m.text for m in context.existing_facts if m.superseded_by is None][:MAX_KNOWN_FACTS]
    if known:
        parts.append("Known facts about the user:\n" + "\n".join(f"- {text}" for text in known))
    if context.previous_events:
        earlier = "\n".join(_turn(event) for event in context.previous_events)
        parts.append("Earlier turns (context only):\n" + earlier)
    new = "\n".join(f"[{i}] {_turn(event)}" for i, event in enumerate(events))
    parts.append("New turns:\n" + new)
    return [system(SYSTEM_PROMPT), user("\n\n".join(parts))]


def _turn(event: Event) -> str:
    speaker = event.role or "user"
    if event.name:
        speaker += f" ({event.name})"
    return f"{speaker}, {keys.date_label(event.occurred_at)}: {event.content}"


class FactsValidator:
    """The model's parsed JSON as :class:`ExtractedFact` s; ``ValueError`` if it has no usable shape."""

    def __init__(self, events: Sequence[Event]) -> None:
        self._user_turns = [i for i, event in enumerate(events) if is_user_turn(event)]

    def __call__(self, value: Any) -> list[ExtractedFact]:
        items = value.get("facts") if isinstance(value, dict) else value
        if not isinstance(items, list):
            raise ValueError('expected an object with a "facts" list')
        facts = [fact for fact in map(self._fact, items) if fact is not None]
        if items and not facts:
            raise ValueError('no item of "facts" had a "text" string')
        return facts[:MAX_FACTS]

    def _fact(self, item: Any) -> ExtractedFact | None:
        if not isinstance(item, dict):
            return None
        text = item.get("text", item.get("fact"))
        if not isinstance(text, str) or not text.strip():
            return None
        return ExtractedFact(
            text=" ".join(text.split())[:MAX_FACT_CHARS],
            core=_flag(item.get("core")),
            slot=_label(item.get("slot"), 60),
            category=_label(item.get("category"), 30),
            position=self._position(item.get("turn")),
        )

    def _position(self, turn: Any) -> int:
        if isinstance(turn, str) and turn.strip().isdigit():
            turn = int(turn)
        if isinstance(turn, int) and turn in self._user_turns:
            return turn
        return self._user_turns[0] if self._user_turns else 0


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return value is True


def _label(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    label = " ".join(value.lower().replace("_", " ").split())[:limit]
    return label if label and label not in ("null", "none") else None
