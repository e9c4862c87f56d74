"""The LLM extractor: facts extracted and reconciled by a chat model, episodes kept verbatim.

Enabled by ``--llm-base-url`` (any OpenAI-compatible chat endpoint). For a conversation job:

1. The rule extractor runs first (no model, milliseconds): its episodes are always part of the result,
   so the turns themselves are stored and searchable whatever the model does.
2. The model is asked for the facts of the user's new turns (``llm_facts.py``) in JSON; a reply that is
   not usable JSON is repaired, else asked again once with a correction (``llm.structured``).
3. Each fact is reconciled with the user's existing facts (``reconcile.py``): added, or superseding an
   old one (which keeps its text, sources and gets ``valid_to``), or dropped as already known.
4. If the endpoint is down, times out, or answers unusably twice, the job gets the rule extractor's
   facts instead: a job is never failed (nor its input lost) because of the model.

Documents, verbatim submissions (``context.derive_facts`` False: mem0's ``infer: false``) and jobs
without a user turn never reach the model: the rule extractor handles them.
Drafts made here say so in ``metadata["extractor"] = "llm"``; ``metadata["change"]`` says how a fact was
reconciled (``add``, ``update``, ``supersede``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from memhub.core.errors import Unavailable
from memhub.core.models import ChunkDraft, Event, EventKind, MemoryDraft, MemoryKind
from memhub.core.ports import ExtractionContext, Extractor

from .. import keys
from ..llm import ChatClient, StructuredReplyError, ask_json
from .llm_facts import FACTS_SHAPE, ExtractedFact, FactsValidator, extraction_messages, is_user_turn
from .reconcile import Action, Decision, Reconciler
from .rules import RuleExtractor

log = logging.getLogger(__name__)


class LLMExtractor:
    """Implements :class:`~memhub.core.ports.Extractor` with a chat model, falling back to ``fallback``.

    ``reconcile_with_llm=False`` keeps the model for extraction only and reconciles by slot equality.
    """

    def __init__(
        self,
        chat: ChatClient,
        *,
        fallback: Extractor | None = None,
        reconcile_with_llm: bool = True,
        timeout: float | None = None,
    ) -> None:
        self._chat = chat
        self._fallback = fallback or RuleExtractor()
        self._timeout = timeout
        self._reconciler = Reconciler(chat if reconcile_with_llm else None, timeout=timeout)

    def __repr__(self) -> str:
        return f"LLMExtractor(chat={self._chat!r})"

    def close(self) -> None:
        """Close the chat client's connections (the runtime calls this when it closes)."""
        self._chat.close()

    def extract(self, events: Sequence[Event], context: ExtractionContext) -> list[MemoryDraft]:
        base = self._fallback.extract(events, context)
        if not context.derive_facts or not events or events[0].kind is EventKind.DOCUMENT:
            return base
        if not any(map(is_user_turn, events)):
            return base
        try:
            facts = ask_json(
                self._chat,
                extraction_messages(events, context),
                FactsValidator(events),
                shape=FACTS_SHAPE,
                timeout=self._timeout,
            )
        except (Unavailable, StructuredReplyError) as exc:
            log.warning("LLM extraction failed, using the rule extractor's facts: %s", exc)
            return base
        episodes = [draft for draft in base if draft.kind is not MemoryKind.FACT]
        decisions = self._reconciler.decide(facts, context) if facts else []
        return episodes + [_draft(d, events) for d in decisions if d.action is not Action.NOOP]


def _draft(decision: Decision, events: Sequence[Event]) -> MemoryDraft:
    fact: ExtractedFact = decision.fact
    event = events[fact.position]
    text = decision.final_text
    date = keys.date_label(event.occurred_at)
    metadata: dict[str, object] = {"extractor": "llm", "change": decision.action.value}
    if fact.slot:
        metadata["slot"] = fact.slot
    if fact.category:
        metadata["category"] = fact.category
    replaced = decision.target if decision.action in (Action.UPDATE, Action.SUPERSEDE) else None
    return MemoryDraft(
        kind=MemoryKind.FACT,
        core=fact.core,
        text=text,
        chunks=[ChunkDraft(text=text, dense_key=f"[{date}] {text}", sparse_key=f"{text}\n{event.content}")],
        source_positions=[fact.position],
        metadata=metadata,
        supersedes=replaced.id if replaced is not None else None,
    )
