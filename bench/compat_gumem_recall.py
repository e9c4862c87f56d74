"""How often a new GUMem session of a user recalls what an earlier session was told.

    PYTHONPATH=src python bench/compat_gumem_recall.py                # this checkout
    PYTHONPATH=/path/to/other/src python bench/compat_gumem_recall.py # another one, to compare

Starts a real ``memhub serve`` (temporary data folder, default local model), tells one user's 30-turn
conversation (``tests/support/life_conversation.py``) in one session through the real GUMem SDK, waits
until every message is processed, then asks its 12 questions with ``get_memory`` from a *new* session
of the same user and counts the questions whose answering turn is among the top 5 / first
``observations``, and among the top 5 observations or top 5 propositions.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from gum import GumClient

from support.life_conversation import QUESTIONS, TURNS
from support.polling import poll_until
from support.server import launch_server


def _hit(answer: str, items: list[dict[str, Any]]) -> bool:
    return any(answer.lower() in item["content"].lower() for item in items)


def main() -> None:
    handle = launch_server(Path(tempfile.mkdtemp(prefix="memhub-gumem-recall-")))
    try:
        client = GumClient(api_key=handle.api_key, host=handle.base_url + "/gumem")
        user = f"dana_{uuid.uuid4().hex[:6]}"
        told = client.sessions.create({"user_id": user})
        for i in range(0, len(TURNS), 2):
            told.add_messages([{"role": role, "content": text} for role, text in TURNS[i : i + 2]])

        def processed() -> bool:
            config = {"details": True, "recall_config": {"MessageRecentLimit": 200}}
            messages = told.get_memory(config)["data"]["messages"]
            return len(messages) == len(TURNS) and all(m["status"] == "processed" for m in messages)

        poll_until(processed, timeout=300, interval=0.2, message="conversation not processed")
        later = client.sessions.create({"user_id": user})
        top5 = first = either = 0
        for question in QUESTIONS:
            data = later.get_memory({"query": question.text})["data"]
            top5 += _hit(question.answer, data["observations"][:5])
            first += _hit(question.answer, data["observations"][:1])
            either += _hit(question.answer, data["observations"][:5] + data["propositions"][:5])
        print(
            f"questions={len(QUESTIONS)} observations_top5={top5} observations_first={first} "
            f"observations_or_propositions_top5={either}"
        )
    finally:
        handle.stop()


if __name__ == "__main__":
    main()
