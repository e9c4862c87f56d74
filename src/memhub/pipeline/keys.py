"""Index keys for conversational memories: what gets embedded and keyword-indexed for a turn.

The returned *value* of an episode is always the verbatim turn. Its *keys* carry what questions about it
mention but the turn itself often doesn't: who said it and when (dense key), and the neighbouring turns of
the same session (keyword key). A measured probe on LoCoMo (shared/RETRIEVAL-NOTES.md) found the speaker
and date in the dense key roughly doubled dense recall, and neighbour windows added ~10 points to keyword
recall; ``bench/locomo.py`` re-measures both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from memhub.core.models import Event

WINDOW = 2  # neighbouring turns on each side in the keyword key


def speaker(event: Event) -> str:
    """The speaker's name where the caller gave one, else the role."""
    return (event.name or event.role or "user").strip()


def date_label(when: datetime) -> str:
    """A human date as people write it in questions ("7 May 2023")."""
    return f"{when.day} {when.strftime('%B %Y')}"


def dense_key(event: Event) -> str:
    """``[7 May 2023] Alice: <text>``: speaker and date make "what did Alice say in May" findable."""
    return f"[{date_label(event.occurred_at)}] {speaker(event)}: {event.content}"


def window_key(turns: Sequence[Event], index: int, window: int = WINDOW) -> str:
    """The turn with its neighbours (same session), the centre turn repeated to keep it dominant."""
    centre = turns[index]
    lo, hi = max(0, index - window), min(len(turns), index + window + 1)
    parts = [f"{speaker(t)}: {t.content}" for t in turns[lo:hi] if t.session_id == centre.session_id]
    parts.append(f"{speaker(centre)}: {centre.content}")
    parts.append(date_label(centre.occurred_at))
    return "\n".join(parts)
