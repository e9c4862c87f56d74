"""The retrieval changes the LoCoMo benchmark justified: query helpers, query signals, context keys.

Each signal is checked in isolation (the other fusion weights at 0) over a real store and the real
model, so a test fails when the signal stops doing its job, whatever the dense and keyword scores say.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, cast

import pytest

from memhub.core.clock import SystemClock
from memhub.core.models import Event, EventKind, MessageInput, Scope, SearchMode, SearchRequest
from memhub.core.ports import Embedder, Matrix, Store, Vector
from memhub.core.ranking import asks_when, date_range, names_in, tells_when
from memhub.core.relevance import RelevanceModel
from memhub.core.retrieval import Retriever
from memhub.pipeline import keys
from memhub.runtime import Runtime, build_embedder
from memhub.settings import Settings

MAY_8 = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)
OCT_13 = datetime(2023, 10, 13, 9, 0, tzinfo=timezone.utc)


def test_names_in_matches_whole_words_of_every_part_of_the_name() -> None:
    names = {"Alice", "Ali", "Mary Ann", "Bob"}
    assert names_in("What did alice's friend Mary Ann say?", names) == {"Alice", "Mary Ann"}
    assert names_in("Where did Mary go?", names) == set()
    assert names_in("nothing here", {""}) == set()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("What did she show on October 13, 2023?", (date(2023, 10, 13), date(2023, 10, 14))),
        ("What did Gina find on 1 February, 2023?", (date(2023, 2, 1), date(2023, 2, 2))),
        ("plans for the 3rd of May 2023", (date(2023, 5, 3), date(2023, 5, 4))),
        ("Oct. 2nd 2023", (date(2023, 10, 2), date(2023, 10, 3))),
        ("the 2023-05-07 meeting", (date(2023, 5, 7), date(2023, 5, 8))),
        ("What class did she start in December 2023?", (date(2023, 12, 1), date(2024, 1, 1))),
        ("trips in 2022", (date(2022, 1, 1), date(2023, 1, 1))),
        ("what happened last week?", None),
        ("what did I do in May?", None),
        ("on 31 February 2023", None),
        ("I have 2023 reasons", None),
    ],
)
def test_date_range(query: str, expected: tuple[date, date] | None) -> None:
    assert date_range(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("When did Alice adopt the dog?", True),
        ("what year did they move?", True),
        ("Which month was Bob in Italy?", True),
        ("How long ago was the wedding?", True),
        ("How long has she had her turtles?", True),
        ("What did Alice adopt?", False),
        ("Which dog did they adopt?", False),
    ],
)
def test_asks_when(query: str, expected: bool) -> None:
    assert asks_when(query) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We adopted her last week!", True),
        ("I moved here two years ago.", True),
        ("Back in 2019 I had three turtles.", True),
        ("See you on Saturday", True),
        ("I'll come over tomorrow.", True),
        ("I've had them for 3 years now", True),
        ("It took a couple of weeks", True),
        ("We adopted a dog.", False),
        ("You may like it.", False),
    ],
)
def test_tells_when(text: str, expected: bool) -> None:
    assert tells_when(text) is expected


def _event(content: str, position: int, name: str, when: datetime = MAY_8, session: str = "s1") -> Event:
    return Event(
        id=f"e{position}",
        tenant_id="t",
        space_id="sp",
        session_id=session,
        kind=EventKind.MESSAGE,
        role="user",
        name=name,
        content=content,
        occurred_at=when,
        created_at=when,
        job_id="j",
        position=position,
    )


def test_dense_key_is_speaker_date_turn_then_the_previous_turn_of_the_same_session() -> None:
    earlier = [_event("old", 0, "Bob", session="s0"), _event("Which one?", 1, "Bob")]
    turn = _event("The red one", 2, "Alice")
    assert keys.dense_key(turn) == "[8 May 2023] Alice: The red one"
    assert keys.dense_key(turn, earlier) == "[8 May 2023] Alice: The red one\nBob: Which one?"
    assert keys.dense_key(turn, earlier[:1]) == "[8 May 2023] Alice: The red one"  # other session


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return build_embedder(Settings())


@pytest.fixture
def runtime(tmp_path: Path, embedder: Embedder) -> Iterator[Runtime]:
    rt = Runtime.open(Settings(data=tmp_path), embedder=embedder)
    yield rt
    rt.close()


def _ingest(runtime: Runtime, sessions: list[tuple[datetime, list[tuple[str, str]]]]) -> str:
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    for number, (when, turns) in enumerate(sessions):
        messages = [
            MessageInput(role="user", name=name, content=text, id=f"D{number}:{i}", timestamp=when)
            for i, (name, text) in enumerate(turns)
        ]
        service.add_messages(tenant.id, messages, user_id="u", session_id=f"s{number}")
    runtime.worker.run_until_idle()
    return tenant.id


def _only(signal: str) -> dict[SearchMode, RelevanceModel]:
    """A hybrid relevance model that hears one signal and nothing else."""
    return {SearchMode.HYBRID: RelevanceModel(intercept=0.0, weights={signal: 1.0})}


def _top(
    runtime: Runtime, tenant_id: str, query: str, models: dict[SearchMode, RelevanceModel] | None = None
) -> list[str]:
    retriever = Retriever(runtime.store, runtime.embedder, SystemClock(), models=models)
    space = runtime.service.resolve_space(tenant_id, None)
    scope = Scope(tenant_id=tenant_id, space_ids=[space.id], user_id="u")
    results = retriever.search(scope, None, SearchRequest(query=query, user_id="u", limit=3))
    return [r.sources[0] for r in results]


def test_a_query_naming_a_speaker_lifts_that_speakers_turns(runtime: Runtime) -> None:
    tenant_id = _ingest(
        runtime,
        [(MAY_8, [("Alice", "I went hiking yesterday."), ("Bob", "I went hiking yesterday.")])],
    )
    only_speaker = _only("speaker")
    assert _top(runtime, tenant_id, "Where did Bob go hiking?", only_speaker)[0] == "D0:1"
    assert _top(runtime, tenant_id, "Where did alice go hiking?", only_speaker)[0] == "D0:0"


def test_a_query_naming_a_speaker_is_compared_by_its_topic_not_by_the_name(runtime: Runtime) -> None:
    # each turn in its own session, so no dense key holds another turn
    tenant_id = _ingest(
        runtime,
        [
            (MAY_8, [("Alice", "Hey, it's Alice! Long time no see.")]),
            (MAY_8, [("Alice", "I have been painting landscapes every weekend.")]),
        ],
    )
    query = "What does Alice enjoy doing?"
    # the raw cosine (dense-only search keeps its order) prefers the turn full of names ...
    retriever = Retriever(runtime.store, runtime.embedder, SystemClock())
    space = runtime.service.resolve_space(tenant_id, None)
    scope = Scope(tenant_id=tenant_id, space_ids=[space.id], user_id="u")
    dense = retriever.search(scope, None, SearchRequest(query=query, user_id="u", mode=SearchMode.DENSE))
    assert dense[0].sources == ["D0:0"]
    # ... the query's topic (its vector without the direction of "Alice") finds the activity, and the
    # result still reports the raw cosine
    hybrid = retriever.search(scope, None, SearchRequest(query=query, user_id="u"))
    cosine_and_speaker = {
        SearchMode.HYBRID: RelevanceModel(intercept=0.0, weights={"cosine": 1.0, "speaker": 1.0})
    }
    assert _top(runtime, tenant_id, query, cosine_and_speaker)[0] == "D1:0"
    raw = {r.memory.id: r.similarity for r in dense}
    assert all(r.similarity == pytest.approx(raw[r.memory.id]) for r in hybrid)


class _CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.texts: list[str] = []

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def dim(self) -> int:
        return self._inner.dim

    def embed(self, texts: Sequence[str]) -> Matrix:
        self.texts.extend(texts)
        return self._inner.embed(texts)


def test_a_speakers_name_is_embedded_once_for_every_query_naming_them(runtime: Runtime) -> None:
    tenant_id = _ingest(runtime, [(MAY_8, [("Alice", "I have been painting landscapes every weekend.")])])
    counting = _CountingEmbedder(runtime.embedder)
    retriever = Retriever(runtime.store, counting, SystemClock())
    space = runtime.service.resolve_space(tenant_id, None)
    scope = Scope(tenant_id=tenant_id, space_ids=[space.id], user_id="u")
    for query in ("What does Alice enjoy doing?", "What does Alice paint?", "Where does Alice live?"):
        assert retriever.search(scope, None, SearchRequest(query=query, user_id="u"))
    assert counting.texts.count("Alice") == 1
    assert len(counting.texts) == 4  # the three queries and the name


class _VectorReads:
    """The runtime's store, recording which chunks' vectors a search reads with ``chunk_vectors``."""

    def __init__(self, inner: Store) -> None:
        self._inner = inner
        self.read: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def chunk_vectors(
        self, model_id: str, chunk_ids: Sequence[str], tenant_id: str | None = None
    ) -> dict[str, Vector]:
        self.read.extend(chunk_ids)
        return self._inner.chunk_vectors(model_id, chunk_ids, tenant_id)


def test_the_topic_cosine_takes_dense_hits_vectors_from_the_dense_search(runtime: Runtime) -> None:
    tenant_id = _ingest(
        runtime,
        [(MAY_8, [("Alice", f"I have been painting {thing} every weekend.")]) for thing in ("lakes", "hills")]
        + [(MAY_8, [("Bob", "The weather was cold.")])],
    )
    reads = _VectorReads(runtime.store)
    retriever = Retriever(cast(Store, reads), runtime.embedder, SystemClock())
    space = runtime.service.resolve_space(tenant_id, None)
    scope = Scope(tenant_id=tenant_id, space_ids=[space.id], user_id="u")
    request = SearchRequest(query="What does Alice paint?", user_id="u", limit=3)
    candidates, _ = retriever.score_candidates(scope, None, request)
    keyword = {h.chunk_id for h in runtime.store.keyword_search(scope, None, request.query, 50)}
    assert all(c.topic_cosine is not None for c in candidates.values())  # the topic cosine ran
    assert set(candidates) - keyword  # dense-only hits, whose vectors were not read again
    assert set(reads.read) == keyword


def test_a_query_naming_a_date_lifts_what_happened_then(runtime: Runtime) -> None:
    tenant_id = _ingest(
        runtime,
        [
            (MAY_8, [("Alice", "We painted the fence.")]),
            (OCT_13, [("Alice", "We painted the fence.")]),
        ],
    )
    only_date = _only("date")
    assert _top(runtime, tenant_id, "What did they paint on October 12, 2023?", only_date)[0] == "D1:0"
    assert _top(runtime, tenant_id, "What did they paint in May 2023?", only_date)[0] == "D0:0"


def test_a_when_question_lifts_the_turn_that_says_when(runtime: Runtime) -> None:
    tenant_id = _ingest(
        runtime,
        [(MAY_8, [("Alice", "We adopted a puppy."), ("Alice", "We adopted a puppy last week.")])],
    )
    only_when = _only("when")
    assert _top(runtime, tenant_id, "When did Alice adopt a puppy?", only_when)[0] == "D0:1"
    retriever = Retriever(runtime.store, runtime.embedder, SystemClock(), models=only_when)
    space = runtime.service.resolve_space(tenant_id, None)
    scope = Scope(tenant_id=tenant_id, space_ids=[space.id], user_id="u")
    request = SearchRequest(query="Which pet did Alice adopt?", user_id="u", limit=3)
    candidates, _ = retriever.score_candidates(scope, None, request)
    assert candidates and all(c.features.get("when", 0.0) == 0.0 for c in candidates.values())


def test_the_query_words_in_a_turns_own_text_lift_it_over_neighbours_sharing_its_window(
    runtime: Runtime,
) -> None:
    tenant_id = _ingest(
        runtime,
        [(MAY_8, [("Alice", "That sounds fun!"), ("Bob", "I started pottery classes."), ("Alice", "Nice!")])],
    )
    # every turn's keyword key (a window of five turns) holds "pottery": only its own text tells them apart
    assert _top(runtime, tenant_id, "Who takes a pottery class?", _only("text_words"))[0] == "D0:1"


def test_the_share_of_query_words_in_the_keyword_key_lifts_the_fuller_match(runtime: Runtime) -> None:
    tenant_id = _ingest(
        runtime,
        [
            (MAY_8, [("Alice", "The garden needs water.")]),
            (OCT_13, [("Alice", "I planted roses in the garden.")]),
        ],
    )
    assert _top(runtime, tenant_id, "Which roses are in the garden?", _only("key_words"))[0] == "D1:0"


def test_the_length_signal_prefers_the_turn_that_says_more(runtime: Runtime) -> None:
    tenant_id = _ingest(
        runtime,
        [
            (
                MAY_8,
                [("Alice", "Yes!"), ("Bob", "We drove up the coast for three days and camped by the sea.")],
            )
        ],
    )
    assert _top(runtime, tenant_id, "yes", _only("length"))[0] == "D0:1"


def test_default_hybrid_still_ranks_by_content_when_the_query_names_no_one(runtime: Runtime) -> None:
    tenant_id = _ingest(
        runtime,
        [(MAY_8, [("Alice", "My sister plays the cello."), ("Bob", "I adopted a greyhound named Rex.")])],
    )
    assert _top(runtime, tenant_id, "Which dog was adopted?")[0] == "D0:1"


def test_a_turn_is_found_once_with_its_raw_cosine_as_similarity(runtime: Runtime) -> None:
    long_turn = (
        "Hey Evan, long time no talk! The weather has been lovely and the garden is blooming. "
        "Last weekend I ended up in the ER with a severe stomachache."
    )
    tenant_id = _ingest(
        runtime, [(MAY_8, [("Sam", long_turn), ("Evan", "I repainted my kitchen a pale yellow.")])]
    )
    query = "What digestive problem did Sam have?"
    retriever = Retriever(runtime.store, runtime.embedder, SystemClock())
    space = runtime.service.resolve_space(tenant_id, None)
    scope = Scope(tenant_id=tenant_id, space_ids=[space.id], user_id="u")
    results = retriever.search(scope, None, SearchRequest(query=query, user_id="u", limit=5))
    assert results[0].sources == ["D0:0"]
    assert len({r.memory.id for r in results}) == len(results)
    chunks = runtime.store.memory_chunks(tenant_id, results[0].memory.id)
    vectors = runtime.embedder.embed([c.dense_key for c in chunks])
    cosines = vectors @ runtime.embedder.embed([query])[0]
    assert results[0].similarity == pytest.approx(float(cosines.max()), abs=1e-4)
