"""`memhub reindex`: re-embedding a store with another model while it keeps serving the old one.

The store's side (vectors side by side, the atomic switch, refusing a retired model's writes) is in the
contract suite (``tests/storage/contract.py``), run on both stores. Here: the command with the two bundled
models, resuming after a kill, and ingestion going on during a reindex on both stores.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import memhub
from memhub.cli import main
from memhub.core.clock import SystemClock
from memhub.core.errors import Conflict, InvalidInput, ModelRetired
from memhub.core.models import Event, JobStatus, MemoryDraft, MessageInput, SearchRequest
from memhub.core.ports import ExtractionContext
from memhub.core.reindex import NothingToReindex, Reindexer
from memhub.jobs import Worker
from memhub.pipeline.extractors import RuleExtractor
from memhub.runtime import Runtime, open_store
from memhub.settings import Settings
from support.embedders import HashEmbedder
from support.polling import poll_until
from support.server import ServerHandle, hermetic_env, start_worker

L6 = "all-MiniLM-L6-v2"
L3 = "paraphrase-MiniLM-L3-v2"

FACTS = [
    "I live in Lisbon with my two cats.",
    "My sister Ana is a pediatric nurse in Porto.",
    "I am allergic to peanuts and shellfish.",
    "I drive a blue Volvo station wagon.",
    "On weekends I play the cello in a community orchestra.",
    "My manager at the bank is called Ricardo.",
    "I am training for the Berlin marathon in September.",
    "I prefer green tea to coffee in the morning.",
    "We adopted a rescue greyhound called Bolt last spring.",
    "I am learning Japanese with an app every evening.",
]
QUERIES = [
    "Where does the user live?",
    "What food allergies?",
    "Which musical instrument?",
    "What car does the user have?",
    "Who is the user's boss?",
    "Which race is the user preparing for?",
]


def _build(data: Path, model: str, facts: list[str] = FACTS) -> None:
    settings = Settings(data=data, database_url=None, embed_model=model)
    with memhub.Client(path=str(data), settings=settings) as client:
        for i, fact in enumerate(facts):
            client.memories.add(
                [{"role": "user", "content": fact}], user_id="u", session_id=f"s{i}", wait=True
            )


def _top(data: Path, model: str) -> list[list[str]]:
    settings = Settings(data=data, database_url=None, embed_model=model)
    with memhub.Client(path=str(data), settings=settings) as client:
        return [[r.memory.text for r in client.memories.search(q, user_id="u", limit=3)] for q in QUERIES]


def _reindex(data: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["reindex", "--data", str(data), *args], env=_env())


def _env() -> dict[str, str | None]:
    import os

    return {k: None for k in os.environ if k.startswith("MEMHUB_")}


def test_reindex_help_says_what_it_does_and_how_to_resume() -> None:
    result = CliRunner().invoke(main, ["reindex", "--help"])
    assert result.exit_code == 0
    assert "--embed-model" in result.output and "--batches" in result.output
    assert "continues where it left off" in result.output


def test_a_store_reindexed_from_l6_to_l3_answers_like_one_built_with_l3(tmp_path: Path) -> None:
    old, fresh = tmp_path / "l6", tmp_path / "l3"
    _build(old, L6)
    _build(fresh, L3)
    refused = _reindex(old)
    assert refused.exit_code == 1 and f"the store already uses {L6}" in refused.output
    # a first run stopped after two batches: searches still use L6, a server on L3 is refused
    partial = _reindex(old, "--embed-model", L3, "--batch-size", "3", "--batches", "2")
    assert partial.exit_code == 0, partial.output
    assert (
        "stopped after 2 batches: 6 of" in partial.output and "Run `memhub reindex` again" in partial.output
    )
    Runtime.open(Settings(data=old, database_url=None, embed_model=L6)).close()
    with pytest.raises(InvalidInput, match=f"reindex` to {L3} is under way"):
        Runtime.open(Settings(data=old, database_url=None, embed_model=L3))
    # the second run continues with what is left, then switches
    done = _reindex(old, "--embed-model", L3, "--batch-size", "3")
    assert done.exit_code == 0, done.output
    assert "6 already done by an earlier run" in done.output
    assert f"the store now uses {L3}" in done.output
    store = open_store(Settings(data=old, database_url=None).store_url())
    try:
        assert store.vector_models() == [L3]
        chunks = store.reindex_progress(L3)
        assert chunks[0] == chunks[1] > 6
        assert f"for {chunks[1] - 6:,} chunks" in done.output  # the first run's 6 were not redone
    finally:
        store.close()
    with pytest.raises(InvalidInput, match=f"--embed-model {L3}"):
        Runtime.open(Settings(data=old, database_url=None, embed_model=L6))
    assert _top(old, L3) == _top(fresh, L3)
    again = _reindex(old, "--embed-model", L3)
    assert again.exit_code == 1 and f"the store already uses {L3}" in again.output


def test_an_unknown_model_is_refused_naming_the_choices(tmp_path: Path) -> None:
    _build(tmp_path, L6, FACTS[:1])
    result = _reindex(tmp_path, "--embed-model", "no-such-model")
    assert result.exit_code == 1 and f"choose one of: {L6}, {L3}" in result.output


@pytest.mark.e2e
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_reindex_continues_where_it_stopped(tmp_path: Path) -> None:
    texts = [
        f"note {i}: the parcel {i * 7919 % 1000} left depot {i % 13} on route {i % 37}" for i in range(600)
    ]
    with memhub.Client(path=str(tmp_path), embedder=HashEmbedder(64)) as client:
        for start in range(0, len(texts), 100):
            messages = [{"role": "user", "content": text} for text in texts[start : start + 100]]
            client.memories.add(messages, user_id="u", wait=True, timeout=300)
    store = open_store(Settings(data=tmp_path, database_url=None).store_url())
    try:
        total = store.reindex_progress(L3)[1]
        command = [sys.executable, "-m", "memhub", "reindex", "--data", str(tmp_path), "--embed-model", L3]
        command += ["--batch-size", "4", "--embed-threads", "1"]
        # Ctrl-C: it stops, says how to go on
        interrupted = subprocess.Popen(
            command, env=hermetic_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        try:
            poll_until(lambda: store.reindex_progress(L3)[0] > 0, message="the reindex made progress")
        finally:
            interrupted.send_signal(signal.SIGINT)
            output, _ = interrupted.communicate(timeout=120)
        assert interrupted.returncode == 130
        assert b"interrupted: searches still use the old model; run `memhub reindex` again" in output
        first = store.reindex_progress(L3)[0]
        # killed outright: a batch is all or nothing, the next run finds what is missing
        killed = subprocess.Popen(
            command, env=hermetic_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            poll_until(lambda: store.reindex_progress(L3)[0] > first, message="the second run made progress")
        finally:
            killed.send_signal(signal.SIGKILL)
            killed.wait()
        before = store.reindex_progress(L3)[0]
        assert 0 < before < total, "the reindex finished before it could be killed"
        assert store.vector_models() == sorted(["test-hash-64", L3])  # both, the old ones still serving
        resumed = _reindex(tmp_path, "--embed-model", L3, "--batch-size", "64")
        assert resumed.exit_code == 0, resumed.output
        assert f"re-embedding {total - before:,} of {total:,} chunks" in resumed.output
        assert f"for {total - before:,} chunks" in resumed.output
        assert store.reindex_progress(L3) == (total, total)
        assert store.vector_models() == [L3]
    finally:
        store.close()


# --- ingestion during a reindex, on both stores -------------------------------------------------------


def _add(runtime: Runtime, tenant_id: str, text: str) -> str:
    submitted = runtime.service.add_messages(
        tenant_id, [MessageInput(role="user", content=text)], user_id="u"
    )
    return submitted.job.id


def _ingest_during_reindex(settings: Settings) -> None:
    """A worker on the old model ingests while the reindex runs: no chunk is left without a new vector,
    and once the store switched, that worker is refused and its jobs wait for one on the new model."""
    old = Runtime.open(settings, embedder=HashEmbedder(64))
    tenant = old.store.ensure_tenant("t", datetime.now(timezone.utc)).id
    for i in range(30):
        _add(old, tenant, f"before the reindex, fact number {i}")
    old.worker.run_until_idle()
    old.start_worker()
    store = open_store(settings.store_url())
    stop = threading.Event()
    added: list[str] = []

    def keep_adding() -> None:
        while not stop.is_set():
            added.append(_add(old, tenant, f"during the reindex, message {len(added)}"))
            poll_until(
                lambda: old.store.get_job(tenant, added[-1]).status is not JobStatus.PENDING or stop.is_set()
            )

    adder = threading.Thread(target=keep_adding)
    try:
        adder.start()
        poll_until(lambda: len(added) >= 3, message="ingestion under way")
        waits = [len(added) + 2 * n for n in range(1, 4)]

        def meanwhile(chunks: int) -> None:  # the first batches wait for messages ingested meanwhile
            if waits:
                wanted = waits.pop(0)
                poll_until(lambda: len(added) > wanted, message="messages added during the reindex")

        result = Reindexer(store, HashEmbedder(32), batch_size=4).run(meanwhile)
        assert result.switched
        stop.set()
        adder.join()
        done, total = store.reindex_progress("test-hash-32")
        assert done == total and total > 36  # chunks written during the reindex got a new vector too
        assert store.vector_models() == ["test-hash-32"]
        late = _add(old, tenant, "I live in Lisbon since the switch.")
        poll_until(lambda: not old.worker.alive, message="the old worker stops")
        assert old.store.get_job(tenant, late).status is JobStatus.PENDING
        assert old.store.get_job(tenant, late).attempts == 0
    finally:
        stop.set()
        adder.join()
        store.close()
        old.close()
    with pytest.raises(InvalidInput, match="--embed-model test-hash-32"):
        Runtime.open(settings, embedder=HashEmbedder(64))
    new = Runtime.open(settings, embedder=HashEmbedder(32))
    try:
        new.worker.run_until_idle()
        assert new.store.get_job(tenant, late).status is JobStatus.SUCCEEDED
        assert new.store.reindex_progress("test-hash-32")[0] == new.store.reindex_progress("test-hash-32")[1]
        hits = new.service.search(
            tenant, SearchRequest(query="Where does the user live, Lisbon?", user_id="u", limit=1)
        )
        assert hits and "Lisbon" in hits[0].memory.text
    finally:
        new.close()


def test_ingestion_during_a_reindex_on_sqlite(tmp_path: Path) -> None:
    _ingest_during_reindex(Settings(data=tmp_path, database_url=None))


def test_ingestion_during_a_reindex_on_postgres(pg_url: str, tmp_path: Path) -> None:
    _ingest_during_reindex(Settings(data=tmp_path, database_url=pg_url))


def test_a_running_server_answers_with_the_old_model_until_the_switch(
    start_server: Callable[..., ServerHandle], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server = start_server(data, args=["--no-worker"])  # the default model, L6, and a worker of its own
    worker_log = tmp_path / "worker.log"
    worker = start_worker(data, worker_log)
    try:
        with memhub.Client(server.base_url, server.api_key) as client:
            for i, fact in enumerate(FACTS):
                client.memories.add(
                    [{"role": "user", "content": fact}], user_id="u", session_id=f"s{i}", wait=True
                )

            def top() -> list[list[str]]:
                return [
                    [r.memory.text for r in client.memories.search(q, user_id="u", limit=3)] for q in QUERIES
                ]

            before = top()
            partial = _reindex(data, "--embed-model", L3, "--batch-size", "3", "--batches", "2")
            assert partial.exit_code == 0, partial.output
            assert top() == before  # the server still ranks the old model's vectors
            client.memories.add(
                [{"role": "user", "content": "I moved to Madrid last month."}], user_id="u", wait=True
            )
            finished = _reindex(data, "--embed-model", L3)
            assert f"the store now uses {L3}" in finished.output, finished.output
            store = open_store(Settings(data=data, database_url=None).store_url())
            try:
                done, total = store.reindex_progress(L3)
                assert done == total  # the message the server added during the reindex included
            finally:
                store.close()
            with server.client() as http:  # its searches now say what to do, not rank by keywords alone
                refused = http.post(
                    "/v1/memories/search", json={"query": "Where does the user live?", "user_id": "u"}
                )
            assert refused.status_code == 503 and f"restart it with --embed-model {L3}" in refused.text
            late = client.memories.add(
                [{"role": "user", "content": "My favourite colour is teal."}], user_id="u"
            )
            assert worker.wait(timeout=120) == 1  # the old worker ends, saying why
            assert f"restart it with --embed-model {L3}" in worker_log.read_text(encoding="utf-8")
            assert client.jobs.get(late.job_id).status == "pending"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    server.stop()
    restarted = start_server(data, embed_model=L3)
    with memhub.Client(restarted.base_url, restarted.api_key) as client:
        poll_until(lambda: client.jobs.get(late.job_id).status == "succeeded", message="the new worker")
        hits = client.memories.search("favourite colour", user_id="u", limit=1)
        assert hits and "teal" in hits[0].memory.text
        assert (
            "Madrid"
            in client.memories.search("Where did the user move?", user_id="u", limit=1)[0].memory.text
        )


class _FactChecker(RuleExtractor):
    """The rule extractor, asking the store for similar facts first as the LLM extractor does."""

    def extract(self, events: Sequence[Event], context: ExtractionContext) -> list[MemoryDraft]:
        if context.similar_facts is not None:
            context.similar_facts([e.content for e in events], 3)
        return super().extract(events, context)


def test_a_worker_whose_fact_search_meets_a_retired_model_gives_its_jobs_back_unharmed(
    tmp_path: Path,
) -> None:
    settings = Settings(data=tmp_path, database_url=None)
    old = Runtime.open(settings, embedder=HashEmbedder(64))
    try:
        tenant = old.store.ensure_tenant("t", datetime.now(timezone.utc)).id
        _add(old, tenant, "I live in Porto.")
        old.worker.run_until_idle()
        assert Reindexer(old.store, HashEmbedder(32)).run().switched
        job_id = _add(old, tenant, "I live in Lisbon now.")
        worker = Worker(old.store, HashEmbedder(64), _FactChecker(), SystemClock())
        with pytest.raises(ModelRetired, match="restart it with --embed-model test-hash-32"):
            worker.run_until_idle()
        job = old.store.get_job(tenant, job_id)
        assert job.status is JobStatus.PENDING and job.attempts == 0 and job.last_error is None
    finally:
        old.close()


def test_a_reindex_to_a_third_model_waits_for_the_one_under_way(tmp_path: Path) -> None:
    settings = Settings(data=tmp_path, database_url=None)
    with memhub.Client(path=str(tmp_path), embedder=HashEmbedder(64)) as client:
        client.memories.add([{"role": "user", "content": "I live in Lisbon."}], user_id="u", wait=True)
    store = open_store(settings.store_url())
    try:
        assert not Reindexer(store, HashEmbedder(32), batch_size=1).run(max_batches=1).switched
        with pytest.raises(
            Conflict, match=r"a reindex to test-hash-32 is under way .*--embed-model test-hash-32"
        ):
            Reindexer(store, HashEmbedder(16)).run()
        assert Reindexer(store, HashEmbedder(32)).run().switched
        with pytest.raises(NothingToReindex, match="the store already uses test-hash-32"):
            Reindexer(store, HashEmbedder(32)).run()
    finally:
        store.close()
