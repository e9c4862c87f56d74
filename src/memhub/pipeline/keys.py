"""Index keys for conversational memories: what gets embedded and keyword-indexed for a turn.

The returned *value* of an episode is always the verbatim turn. Its *keys* carry what questions about it
mention but the turn itself often doesn't. Numbers below are LoCoMo evidence recall@10 (categories 1-4,
``memhub bench locomo``; the key variants were compared in an offline replica of the retriever, since
each needs a full re-index):

* **Dense key**: ``[date] speaker: text``, then the turn just before it in the same session. Questions
  name people and dates that a turn like "I went yesterday!" never says: speaker and date in the key
  lift dense-only recall from 30 to 48. A reply often makes sense only after the turn it answers
  ("Which one?" / "The red one"): the previous turn adds 1.8 points to hybrid recall (two previous turns:
  0.3 more, not kept). The next turn would add 0.6 more but is left out on purpose: it does not exist
  yet when a live chat is indexed message by message, and with only earlier turns a turn's key is the
  same however the conversation was batched. The turn itself comes first, so truncation by the model
  cuts context, not the turn. The context is also the model's main cost: keys average ~72 tokens
  against ~40 without it, and ingestion time is nearly all model time. Keeping only the last 20 words
  of the previous turn saves just 11% of the tokens and cost 1.9 points of hybrid R@5 on LoCoMo
  conversations 0-1 (73.7 -> 71.8, R@10 78.8 -> 78.1): the whole previous turn stays.
* **Keyword key** (``window_key``): the turn with two neighbours on each side within the submission, the
  centre repeated to keep it dominant, speakers' names and the date included: keyword-only recall goes
  from 47 (the bare turn) to 71. One neighbour each side: -4; three: -0.4; without the speakers'
  names: -0.8.
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
