"""A batch of claimed jobs reads each user's existing facts once; every job of the batch still sees them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from memhub.core.clock import SystemClock
from memhub.core.models import MemoryKind, MessageInput
from memhub.core.ports import Embedder, Store
from memhub.core.processing import IngestProcessor
from memhub.pipeline.extractors.rules import RuleExtractor
from memhub.runtime import Runtime
from memhub.settings import Settings


class CountingStore:
    """The real store, counting how often the existing facts are listed."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.listings = 0

    def list_memories(self, *args: Any, **kwargs: Any) -> Any:
        self.listings += 1
        return self.store.list_memories(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_jobs_of_one_user_in_one_batch_read_the_known_facts_once_and_none_repeats_them(
    tmp_path: Path, local_embedder: Embedder
) -> None:
    runtime = Runtime.open(Settings(data=tmp_path), embedder=local_embedder)
    service = runtime.service
    tenant = service.ensure_tenant("acme")
    service.add_messages(tenant.id, [MessageInput(role="user", content="I live in Paris")], user_id="u")
    runtime.worker.run_until_idle()
    for n, user in enumerate(["u", "u", "u", "v"]):
        turns = ["I live in Paris", f"I adopted a puppy called Rex number {n} last week"]
        messages = [MessageInput(role="user", content=t) for t in turns]
        service.add_messages(tenant.id, messages, user_id=user, session_id=f"s{n}")
    counting = CountingStore(runtime.store)
    processor = IngestProcessor(cast(Store, counting), local_embedder, RuleExtractor(), SystemClock())
    now = SystemClock().now()
    jobs = runtime.store.claim_jobs("test", now, now + timedelta(minutes=1), 32)

    result = processor.process(jobs, "test")

    assert len(jobs) == 4 and len(result.succeeded) == 4
    assert counting.listings == 2  # user u once for its three jobs, user v once
    facts_u = service.list_memories(tenant.id, user_id="u", kinds=[MemoryKind.FACT]).items
    assert [m.text for m in facts_u].count("User lives in Paris") == 1  # known before the batch
    facts_v = service.list_memories(tenant.id, user_id="v", kinds=[MemoryKind.FACT]).items
    assert "User lives in Paris" in [m.text for m in facts_v]  # v's facts are v's own
    runtime.close()
