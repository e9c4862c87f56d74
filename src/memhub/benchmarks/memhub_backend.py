"""memhub as a LoCoMo backend, driven only through the public embedded client.

Going through ``memhub.Client`` (not the service or the retriever) is the point: the benchmark measures
what a user of memhub gets, ingestion path, job processing, extraction and all. Each conversation is
one memhub user; each session one ``memories.add`` call (so the extractor sees a whole session at once,
which is what lets neighbour-window keys form); every search mode is read off the same index, so the
keyword-only and dense-only baselines differ from hybrid in ranking alone.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .locomo_data import Conversation, Session, Turn

MODES = ("hybrid", "keyword", "dense")
ACCESS_LOG = "memhub.access"
SEARCH_PATH = "/v1/memories/search"


class ServerTimer(logging.Handler):
    """Reads the server-side duration of each search from memhub's access log.

    The embedded client runs the real HTTP app in-process, so a search's wall time includes encoding
    the request, the app's routing and validation, and serialising and parsing 20 results as JSON.
    The access log's ``duration_ms`` is the time the app spent answering: what a server operator sees.
    Both are reported. The logger is detached from its parents while timing so no line is printed.
    """

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.last: float | None = None
        self._logger = logging.getLogger(ACCESS_LOG)
        self._saved = (self._logger.level, self._logger.propagate)

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "path", None) == SEARCH_PATH:
            self.last = float(getattr(record, "duration_ms", "nan"))

    def attach(self) -> None:
        self._logger.addHandler(self)
        self._logger.setLevel(logging.INFO)
        self._logger.propagate = False

    def detach(self) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._saved[0])
        self._logger.propagate = self._saved[1]

    def take(self) -> float | None:
        value, self.last = self.last, None
        return value


def turn_content(turn: Turn) -> str:
    """The message text: the utterance, plus the caption of a shared image (some answers live there)."""
    return f"{turn.text} [shared an image: {turn.caption}]" if turn.caption else turn.text


def session_messages(session: Session) -> list[dict[str, Any]]:
    """One session as ``memories.add`` messages: speaker as name, ``dia_id`` as id, the session date."""
    when = session.when.isoformat()
    return [
        {"role": "user", "name": t.speaker, "content": turn_content(t), "id": t.dia_id, "timestamp": when}
        for t in session.turns
    ]


class MemhubBackend:
    """One embedded memhub (a temporary folder unless ``path`` is given) for the whole run."""

    def __init__(
        self,
        path: Path | None = None,
        modes: Sequence[str] = MODES,
        client_factory: Callable[[Path], Any] | None = None,
    ) -> None:
        self.labels = tuple(modes)
        self._owned = path is None
        self._path = Path(tempfile.mkdtemp(prefix="memhub-locomo-")) if path is None else path
        self._client = (client_factory or _default_client)(self._path)
        self._timer = ServerTimer()
        self._timer.attach()
        self._scores: list[float] = []

    def ingest(self, conv: Conversation, advance: Callable[[int], None]) -> None:
        for session in conv.sessions:
            self._client.memories.add(
                messages=session_messages(session),
                user_id=conv.sample_id,
                session_id=f"{conv.sample_id}-session-{session.number}",
                wait=True,
            )
            advance(len(session.turns))

    def search(self, conv: Conversation, label: str, query: str, k: int) -> list[list[str]]:
        self._timer.take()
        results = self._client.memories.search(query, user_id=conv.sample_id, limit=k, mode=label)
        self._scores = [r.score for r in results]
        return [list(r.sources) for r in results]

    def scores(self) -> list[float]:
        """The reported scores of the last search's results, in rank order (for the calibration report)."""
        return self._scores

    def server_ms(self) -> float | None:
        return self._timer.take()

    def close(self) -> None:
        self._timer.detach()
        close = getattr(self._client, "close", None)
        if callable(close):
            close()
        if self._owned:
            shutil.rmtree(self._path, ignore_errors=True)


def _default_client(path: Path) -> Any:
    import memhub

    return memhub.Client(path=str(path))
