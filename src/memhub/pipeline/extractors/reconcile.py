"""Reconciling newly extracted facts with what memhub already knows about the user (mem0-style).

For each new fact the candidates are the user's live facts with the same ``slot`` and the ones nearest in
meaning (``ExtractionContext.similar_facts``, the store's dense index, cosine >= ``min_similarity``).
Then, for each fact:

* no candidate → **ADD**; a candidate with the same text → **NOOP** (nothing new; no model call);
* otherwise the model decides, for all such facts of the job in one call: **ADD** (keep both),
  **UPDATE** (same subject, more detail: the merged text replaces the old fact), **SUPERSEDE** (the old
  fact is no longer true: a new home, a new job) or **NOOP**;
* if the model is unavailable or its answer unusable, the rule extractor's rule applies: same slot →
  SUPERSEDE, else ADD.

UPDATE and SUPERSEDE never edit the old fact: the new one supersedes it, so the old one gets ``valid_to``
and ``superseded_by`` and keeps its text and its sources (history and provenance).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from memhub.core.errors import Unavailable
from memhub.core.models import Memory
from memhub.core.ports import ExtractionContext

from .. import keys
from ..llm import ChatClient, StructuredReplyError, ask_json, system, user
from .llm_facts import ExtractedFact

log = logging.getLogger(__name__)


class Action(str, Enum):
    ADD = "add"
    UPDATE = "update"
    SUPERSEDE = "supersede"
    NOOP = "noop"


@dataclass(frozen=True)
class Decision:
    """What to do with one new fact; ``target`` is the existing fact it updates, supersedes or repeats."""

    fact: ExtractedFact
    action: Action
    target: Memory | None = None
    text: str | None = None  # the merged text of an UPDATE

    @property
    def final_text(self) -> str:
        return self.text or self.fact.text


DECISIONS_SHAPE = '{"decisions": [{"new": "N1", "action": "SUPERSEDE", "target": "E1", "text": null}]}'

SYSTEM_PROMPT = f"""You keep a user's long-term memory consistent. For each new fact, compare it with \
the existing facts listed for it and choose one action:
- ADD: it is new information; the existing facts stay true.
- UPDATE: it is about the same thing as an existing fact and adds detail; give the merged fact as "text".
- SUPERSEDE: it replaces an existing fact that is no longer true (a new home, a new job, a changed plan).
- NOOP: it is already known.
Reply with one JSON object and nothing else, one decision per new fact, of this form:
{DECISIONS_SHAPE}
"target" is the id of the existing fact for UPDATE, SUPERSEDE and NOOP, and null for ADD."""


class Reconciler:
    """Decides ADD / UPDATE / SUPERSEDE / NOOP for a job's new facts (``chat=None``: slot rule only)."""

    def __init__(
        self,
        chat: ChatClient | None,
        *,
        candidates: int = 3,
        min_similarity: float = 0.4,
        timeout: float | None = None,
    ) -> None:
        self._chat = chat
        self._limit = candidates
        self._min_similarity = min_similarity
        self._timeout = timeout

    def decide(self, facts: Sequence[ExtractedFact], context: ExtractionContext) -> list[Decision]:
        candidates = self._candidates(facts, context)
        decisions = [_obvious(fact, found) for fact, found in zip(facts, candidates, strict=True)]
        open_ = [i for i, decision in enumerate(decisions) if decision is None]
        asked = self._ask(facts, candidates, open_) if open_ and self._chat is not None else {}
        final = [
            decision or asked.get(i) or _by_slot(facts[i], candidates[i])
            for i, decision in enumerate(decisions)
        ]
        return _one_per_target(final)

    def _candidates(self, facts: Sequence[ExtractedFact], context: ExtractionContext) -> list[list[Memory]]:
        live = [m for m in context.existing_facts if m.superseded_by is None]
        similar = context.similar_facts([f.text for f in facts], self._limit) if context.similar_facts else []
        out: list[list[Memory]] = []
        for index, fact in enumerate(facts):
            found = {m.id: m for m in live if fact.slot and m.metadata.get("slot") == fact.slot}
            for hit in similar[index] if index < len(similar) else []:
                if hit.score >= self._min_similarity and hit.memory.superseded_by is None:
                    found.setdefault(hit.memory.id, hit.memory)
            out.append(list(found.values())[: self._limit + 1])
        return out

    def _ask(
        self, facts: Sequence[ExtractedFact], candidates: list[list[Memory]], open_: list[int]
    ) -> dict[int, Decision]:
        assert self._chat is not None
        prompt = _Prompt(facts, candidates, open_)
        try:
            return ask_json(
                self._chat,
                [system(SYSTEM_PROMPT), user(prompt.text())],
                prompt.validate,
                shape=DECISIONS_SHAPE,
                timeout=self._timeout,
            )
        except (Unavailable, StructuredReplyError) as exc:
            log.warning("reconciliation by the model failed (%s); using slot equality", exc)
            return {}


class _Prompt:
    """The decision prompt for some facts of a job, with short ids (N1, E1) the model can copy."""

    def __init__(self, facts: Sequence[ExtractedFact], candidates: list[list[Memory]], open_: list[int]):
        self._facts = facts
        self._candidates = candidates
        self._new = {f"N{n}": i for n, i in enumerate(open_, 1)}
        existing = {m.id: m for i in open_ for m in candidates[i]}
        self._existing = {f"E{n}": m for n, m in enumerate(existing.values(), 1)}
        self._label = {m.id: label for label, m in self._existing.items()}

    def text(self) -> str:
        existing = "\n".join(f"{label}: {_dated(m)}" for label, m in self._existing.items())
        new = "\n".join(
            f"{label}: {self._facts[i].text} (compare with "
            + ", ".join(self._label[m.id] for m in self._candidates[i])
            + ")"
            for label, i in self._new.items()
        )
        return f"Existing facts:\n{existing}\n\nNew facts:\n{new}"

    def validate(self, value: Any) -> dict[int, Decision]:
        items = value.get("decisions") if isinstance(value, dict) else value
        if not isinstance(items, list):
            raise ValueError('expected an object with a "decisions" list')
        decisions = dict(d for d in map(self._decision, items) if d is not None)
        if items and not decisions:
            raise ValueError('no item of "decisions" named a new fact ("new": "N1") and an action')
        return decisions

    def _decision(self, item: Any) -> tuple[int, Decision] | None:
        if not isinstance(item, dict) or str(item.get("new")) not in self._new:
            return None
        index = self._new[str(item["new"])]
        try:
            action = Action(str(item.get("action", "")).strip().lower())
        except ValueError:
            return None
        target = self._existing.get(str(item.get("target")))
        if action is not Action.ADD and (target is None or target not in self._candidates[index]):
            return None  # a decision about a fact it was not shown is not trusted
        text = item.get("text") if action is Action.UPDATE else None
        merged = " ".join(text.split()) if isinstance(text, str) and text.strip() else None
        return index, Decision(self._facts[index], action, None if action is Action.ADD else target, merged)


def _dated(memory: Memory) -> str:
    since = memory.valid_from or memory.occurred_at
    return f"{memory.text} (since {keys.date_label(since)})"


def _obvious(fact: ExtractedFact, candidates: list[Memory]) -> Decision | None:
    if not candidates:
        return Decision(fact, Action.ADD)
    same = _normal(fact.text)
    for memory in candidates:
        if _normal(memory.text) == same:
            return Decision(fact, Action.NOOP, memory)
    return None


def _by_slot(fact: ExtractedFact, candidates: list[Memory]) -> Decision:
    for memory in candidates:
        if fact.slot and memory.metadata.get("slot") == fact.slot:
            return Decision(fact, Action.SUPERSEDE, memory)
    return Decision(fact, Action.ADD)


def _one_per_target(decisions: list[Decision]) -> list[Decision]:
    """An old fact is replaced at most once per job: later claims on it become plain ADDs."""
    taken: set[str] = set()
    out: list[Decision] = []
    for decision in decisions:
        target = decision.target.id if decision.target is not None else None
        if target is None or decision.action not in (Action.UPDATE, Action.SUPERSEDE):
            out.append(decision)
        elif target in taken:
            out.append(Decision(decision.fact, Action.ADD))
        else:
            taken.add(target)
            out.append(decision)
    return out


def _normal(text: str) -> str:
    return " ".join(text.lower().strip().rstrip(".").split())
