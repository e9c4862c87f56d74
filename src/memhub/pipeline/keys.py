"""Index keys for conversational memories: what gets embedded and keyword-indexed for a turn.

The returned *value* of an episode is always the verbatim turn. Its *keys* carry what questions about it
mention but the turn itself often doesn't (the variants and their recall: ``docs/decisions/index-keys.md``):

* **Dense key**: ``[date] speaker: text``, then the turn just before it in the same session. Questions
  name people and dates that a turn like "I went yesterday!" never says; a reply often makes sense only
  after the turn it answers ("Which one?" / "The red one"). The next turn is left out on purpose: it does
  not exist yet when a live chat is indexed message by message, and with only earlier turns a turn's key
  is the same however the conversation was batched. The turn itself comes first, so truncation by the
  model cuts context, not the turn. The whole previous turn is kept: cutting it saved few tokens and cost
  recall.
* **Keyword key** (``window_key``): the turn with two neighbours on each side in the same session, the
  centre repeated to keep it dominant, speakers' names and the date included.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from memhub.core.models import Event

WINDOW = 2  # neighbouring turns on each side in the keyword key
DENSE_CONTEXT = 1  # earlier turns of the same session after the turn in the dense key


def speaker(event: Event) -> str:
    """The speaker's name where the caller gave one, else the role."""
    return (event.name or event.role or "user").strip()


def date_label(when: datetime) -> str:
    """A human date as people write it in questions ("7 May 2023")."""
    return f"{when.day} {when.strftime('%B %Y')}"


def dense_key(event: Event, earlier: Sequence[Event] = ()) -> str:
    """``[7 May 2023] Alice: <text>`` then the last ``DENSE_CONTEXT`` of ``earlier`` from the same session.

    Speaker and date make "what did Alice say in May" findable; the previous turn gives a reply its
    subject.
    """
    head = f"[{date_label(event.occurred_at)}] {speaker(event)}: {event.content}"
    same = [t for t in earlier if t.session_id == event.session_id][-DENSE_CONTEXT:] if DENSE_CONTEXT else []
    return "\n".join([head, *(f"{speaker(t)}: {t.content}" for t in same)])


def window_key(turns: Sequence[Event], index: int, window: int = WINDOW) -> str:
    """The turn with its neighbours (same session), the centre turn repeated to keep it dominant."""
    centre = turns[index]
    lo, hi = max(0, index - window), min(len(turns), index + window + 1)
    parts = [f"{speaker(t)}: {t.content}" for t in turns[lo:hi] if t.session_id == centre.session_id]
    parts.append(f"{speaker(centre)}: {centre.content}")
    parts.append(date_label(centre.occurred_at))
    return "\n".join(parts)
