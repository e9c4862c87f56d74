"""Loading LoCoMo (Maharana et al., ACL 2024) into plain objects, with the evidence cleaned up.

The data file is never shipped with memhub (it is licensed CC BY-NC 4.0): callers pass its path.
What this module takes care of, following ``docs/benchmarks/locomo-scoring.md``:

* **Category names.** The integer ``category`` of the file is *not* in the paper's order; the mapping
  below (1 = multi-hop, 2 = temporal, 3 = open-domain, 4 = single-hop, 5 = adversarial) is the one the
  official evaluation code and the paper's counts agree on. Results are always reported by name.
* **Evidence normalisation.** A few evidence strings hold several ids (``"D8:6; D9:17"``, space
  separated lists), one has an extra colon (``"D:11:26"``) and one a leading zero (``"D30:05"``).
  They are split and repaired; ids that still name no turn are dropped, so a scorer never chases an
  evidence turn that cannot be retrieved.
* **Sessions.** One conversation carries more ``session_N_date_time`` keys than sessions, so sessions are
  found by their turn lists, never by their dates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

CATEGORIES: dict[int, str] = {
    1: "multi-hop",
    2: "temporal",
    3: "open-domain",
    4: "single-hop",
    5: "adversarial",
}
"""LoCoMo's integer categories, by the official mapping (README §1.5)."""

ANSWERABLE = (1, 2, 3, 4)
"""The headline categories; 5 (adversarial, unanswerable) is reported on its own."""

DATE_FORMAT = "%I:%M %p on %d %B, %Y"
_SESSION_KEY = re.compile(r"^session_(\d+)$")
_EVIDENCE_ID = re.compile(r"^D:?(\d+):(\d+)$")
_EVIDENCE_SPLIT = re.compile(r"[;,\s]+")


@dataclass(frozen=True)
class Turn:
    """One utterance. ``caption`` is the BLIP caption of a shared image ("" when none was shared)."""

    dia_id: str
    speaker: str
    text: str
    caption: str = ""


@dataclass(frozen=True)
class Session:
    """One session of a conversation: its number, its date and its turns in order."""

    number: int
    when: datetime
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class Question:
    """A question with its category and normalised evidence turn ids (possibly empty)."""

    question: str
    category: int
    evidence: tuple[str, ...]
    answer: str = ""

    @property
    def category_name(self) -> str:
        return CATEGORIES.get(self.category, f"category-{self.category}")


@dataclass(frozen=True)
class Conversation:
    """One LoCoMo conversation: two speakers, sessions in chronological order, and its questions."""

    sample_id: str
    speakers: tuple[str, str]
    sessions: tuple[Session, ...]
    questions: tuple[Question, ...]

    def turn_ids(self) -> set[str]:
        return {t.dia_id for s in self.sessions for t in s.turns}

    def turn_count(self) -> int:
        return sum(len(s.turns) for s in self.sessions)


def load(path: str | Path) -> list[Conversation]:
    """Read a LoCoMo JSON file (a list of conversations)."""
    with Path(path).open(encoding="utf-8") as fh:
        raw = json.load(fh)
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a JSON list of conversations")
    return [parse_conversation(item) for item in raw]


def parse_conversation(item: dict[str, Any]) -> Conversation:
    """One conversation object of the file, with evidence normalised against its own turns."""
    conv = item["conversation"]
    sessions = tuple(sorted(_sessions(conv), key=lambda s: s.number))
    known = {t.dia_id for s in sessions for t in s.turns}
    questions = tuple(_question(q, known) for q in item.get("qa", []))
    return Conversation(
        sample_id=str(item["sample_id"]),
        speakers=(str(conv["speaker_a"]), str(conv["speaker_b"])),
        sessions=sessions,
        questions=questions,
    )


def parse_date(text: str) -> datetime:
    """``"1:56 pm on 8 May, 2023"`` as a UTC datetime (the file gives no zone; UTC keeps dates stable)."""
    return datetime.strptime(text.strip(), DATE_FORMAT).replace(tzinfo=timezone.utc)


def normalise_evidence(raw: Iterable[object], known: set[str] | None = None) -> tuple[str, ...]:
    """Split, repair and de-duplicate evidence ids, keeping first-seen order.

    ``known`` (the conversation's turn ids), when given, drops ids that name no turn.
    """
    out: list[str] = []
    for item in raw:
        for piece in _EVIDENCE_SPLIT.split(str(item)):
            match = _EVIDENCE_ID.match(piece)
            if match is None:
                continue
            dia_id = f"D{int(match[1])}:{int(match[2])}"
            if (known is None or dia_id in known) and dia_id not in out:
                out.append(dia_id)
    return tuple(out)


def _sessions(conv: dict[str, Any]) -> Iterable[Session]:
    for key, value in conv.items():
        match = _SESSION_KEY.match(key)
        if match is None or not isinstance(value, list):
            continue
        number = int(match[1])
        turns = tuple(_turn(t) for t in value)
        yield Session(number=number, when=parse_date(conv[f"session_{number}_date_time"]), turns=turns)


def _turn(raw: dict[str, Any]) -> Turn:
    return Turn(
        dia_id=str(raw["dia_id"]),
        speaker=str(raw["speaker"]),
        text=str(raw["text"]),
        caption=str(raw.get("blip_caption") or ""),
    )


def _question(raw: dict[str, Any], known: set[str]) -> Question:
    answer = raw.get("answer", raw.get("adversarial_answer", ""))
    return Question(
        question=str(raw["question"]),
        category=int(raw["category"]),
        evidence=normalise_evidence(raw.get("evidence", []), known),
        answer=str(answer),
    )
