"""A worker busy with a batch longer than one lease keeps its jobs: no second worker extracts them again.

Two workers share one SQLite file, as ``memhub serve`` and a ``memhub worker`` would. Extraction goes to
an LLM (a local fake server speaking OpenAI's chat protocol) that takes 0.6 s per job, so a batch of
three takes ~1.8 s against a 1 s lease. The first worker renews its leases while it works, so the idle
second worker finds nothing to take over and the LLM sees each job exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memhub.core.models import JobStatus, MessageInput
from memhub.runtime import Runtime
from memhub.settings import Settings
from memhub.testing.chat_server import ChatScript
from memhub.testing.openai_server import FakeOpenAIServer, start_fake_openai_server
from support.embedders import HashEmbedder
from support.polling import poll_until

JOBS = 3
SECONDS_PER_JOB = 0.6
LEASE_SECONDS = 1.0


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with start_fake_openai_server() as server:
        yield server


def test_a_batch_outlasting_its_lease_is_extracted_once(tmp_path: Path, fake: FakeOpenAIServer) -> None:
    script = ChatScript(fake)
    for _ in range(2 * JOBS):  # enough slow answers for a second extraction of every job, were there one
        script.slow(SECONDS_PER_JOB, '{"facts": []}')
    settings = Settings(
        data=tmp_path,
        worker=False,
        llm_base_url=fake.base_url,
        llm_model="slow-local",
        lease_seconds=LEASE_SECONDS,
        worker_batch_size=JOBS,
    )
    first = Runtime.open(settings, embedder=HashEmbedder())
    second = Runtime.open(settings, embedder=HashEmbedder())
    try:
        tenant = first.service.ensure_tenant("leases").id
        job_ids = [
            first.service.add_messages(
                tenant, [MessageInput(role="user", content=f"message of job {j}")], user_id="u"
            ).job.id
            for j in range(JOBS)
        ]

        def statuses() -> set[JobStatus]:
            return {first.service.get_job(tenant, job_id).status for job_id in job_ids}

        first.start_worker()
        poll_until(lambda: statuses() == {JobStatus.PROCESSING}, interval=0.02)  # the first worker has all
        second.start_worker()
        poll_until(lambda: statuses() == {JobStatus.SUCCEEDED}, interval=0.02)
        jobs = [first.service.get_job(tenant, job_id) for job_id in job_ids]
    finally:
        second.close()
        first.close()
    assert len(script.calls) == JOBS  # without renewal the second worker re-extracts all three: 6
    assert [job.attempts for job in jobs] == [1] * JOBS
