"""The PostgreSQL store: the contract suite on a real server, plus what only it has to get right —
migrations shared by concurrent processes, URLs, and the job queue under concurrent claimers."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from memhub.core.errors import InvalidInput, StorageFull, Unavailable
from memhub.core.ports import Store
from memhub.storage import open_store
from memhub.storage.postgres.db import parse_postgres_url
from memhub.storage.postgres.schema import MIGRATIONS

from .contract import StoreContract, Writer, at


class TestPostgresContract(StoreContract):
    @pytest.fixture
    def store(self, pg_url: str) -> Iterator[Store]:
        store = open_store(pg_url)
        yield store
        store.close()


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    store = open_store(pg_url)
    yield store
    store.close()


def test_migrations_are_recorded_once_and_reopening_applies_none(pg_url: str) -> None:
    import psycopg

    stores = []
    threads = [threading.Thread(target=lambda: stores.append(open_store(pg_url))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stores) == 3 and all(s.backend == "postgresql" for s in stores)
    for s in stores:
        s.close()
    conninfo, _ = parse_postgres_url(pg_url)
    with psycopg.connect(conninfo) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM memhub_migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]


def test_urls() -> None:
    conninfo, options = parse_postgres_url("postgresql+psycopg://u:p@db:5433/m?sslmode=require&pool_max=4")
    assert conninfo == "postgresql://u:p@db:5433/m?sslmode=require"
    assert options["pool_max"] == 4
    for bad in ("postgresql://db/m?pool_max=0", "postgresql://db/m?pool_min=5&pool_max=2", "mysql://x"):
        with pytest.raises(InvalidInput):
            parse_postgres_url(bad)


def test_an_unreachable_server_is_unavailable_not_a_crash(tmp_path: object) -> None:
    with pytest.raises(Unavailable, match="PostgreSQL"):
        open_store(f"postgresql://memhub@/memhub?host={tmp_path}&connect_timeout=2")


def test_a_full_disk_on_the_server_is_storage_full_not_an_outage(store: Store) -> None:
    # PostgreSQL raises SQLSTATE 53100 (disk_full) when it cannot extend a file; a real full disk is
    # not something a test can make here, so the server raises that very error from a DO block
    tenant_id, _ = Writer(store).tenant("a")
    full_disk = "DO $$ BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$"

    def write_then_fail(conn: object) -> None:
        conn.execute("UPDATE tenants SET name = 'renamed' WHERE id = %s", (tenant_id,))  # type: ignore[attr-defined]
        conn.execute(full_disk)  # type: ignore[attr-defined]

    with pytest.raises(StorageFull, match="disk is full"):
        store._db.run(write_then_fail)  # type: ignore[attr-defined]
    assert store.get_tenant(tenant_id).name == "a"  # the whole call was rolled back


def test_text_with_nul_is_invalid_input(store: Store) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    with pytest.raises(InvalidInput, match="NUL"):
        w.submit(a, space, "alice", ["bad \x00 byte"])
    assert store.counts(a).events == 0


def test_concurrent_claimers_never_share_a_job(store: Store) -> None:
    w = Writer(store)
    a, space = w.tenant("a")
    submitted = {w.submit(a, space, "alice", [f"m{i}"])[0].id for i in range(60)}
    claimed: list[list[str]] = []

    def claim(owner: str) -> None:
        mine: list[str] = []
        while batch := store.claim_jobs(owner, at(100), at(10_000), 3):
            mine.extend(job.id for job in batch)
        claimed.append(mine)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [job_id for mine in claimed for job_id in mine]
    assert sorted(every) == sorted(submitted)  # each job exactly once
