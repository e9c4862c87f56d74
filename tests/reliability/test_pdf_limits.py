"""PDF bombs and render drain against a real ``memhub serve``, through the real GoodMem SDK.

A 1 MB PDF whose content stream inflates to 1 GB once took the server to 2.2 GB of RSS, and a PDF of
large pages had the create call render them for minutes. Now PDFs are read in a limited child process:
the bomb is a 413 naming the limit it hit, the server's peak RSS (``VmHWM``) barely moves, nothing else
stored is affected, pages are rendered after the create call answers, and one tenant's PDF work does
not block another tenant's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from goodmem import APIError, Goodmem

from support.goodmem import base_url, make_space, temporary_space, wait_completed, wait_pages
from support.pdfs import make_flate_bomb, make_large_pages_pdf, make_pdf
from support.polling import poll_until
from support.server import ServerHandle, StartServer

pytest.importorskip("pypdfium2")

GIB = 1 << 30
RSS_GROWTH_BOUND_KB = 150_000  # the bound the README states for one PDF, whatever it inflates to


def peak_rss_kb(server: ServerHandle) -> int:
    """The server process's peak resident memory so far (Linux ``VmHWM``)."""
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1])


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.pdf"
    path.write_bytes(make_flate_bomb(GIB))
    return path


@pytest.fixture
def gm(start_server: StartServer) -> Iterator[tuple[ServerHandle, Any]]:
    server = start_server(pdf_memory_mb=512)
    with Goodmem(base_url=base_url(server), api_key=server.api_key) as client:
        yield server, client


def create_refused(client: Any, space_id: str, path: Path, **kwargs: Any) -> APIError:
    with pytest.raises(APIError) as refused:
        client.memories.create(space_id=space_id, file_path=str(path), **kwargs)
    return refused.value


def create_when_free(client: Any, space_id: str, path: Path) -> Any:
    """Create, retrying while the tenant's PDF slot is still taken (429), for up to 60 s."""

    def created() -> Any:
        try:
            return client.memories.create(space_id=space_id, file_path=str(path))
        except APIError as exc:
            if exc.status_code != 429:
                raise
            return None

    return poll_until(created, timeout=60, interval=0.2, message="the tenant's PDF slot stayed taken")


def test_a_pdf_bomb_is_a_413_and_the_server_stays_small(
    gm: tuple[ServerHandle, Any], bomb: Path, tmp_path: Path
) -> None:
    server, client = gm
    assert bomb.stat().st_size < 2_000_000  # well under the 10 MB body limit
    normal = tmp_path / "normal.pdf"
    normal.write_bytes(make_pdf(["Zebras have black and white stripes."]))
    with temporary_space(client, "bomb") as space:
        kept = client.memories.create(space_id=space.space_id, file_path=str(normal))
        assert wait_completed(client, kept.memory_id).processing_status == "COMPLETED"
        before = peak_rss_kb(server)
        refused = create_refused(client, space.space_id, bomb)
        assert refused.status_code == 413
        assert "MEMHUB_MAX_PDF_INFLATED_BYTES" in str(refused)
        growth = peak_rss_kb(server) - before
        assert growth < RSS_GROWTH_BOUND_KB, f"server peak RSS grew by {growth} kB"
        listed = [m.memory_id for m in client.memories.list(space_id=space.space_id)]
        assert listed == [kept.memory_id]  # nothing half-stored, nothing else touched
        assert client.memories.content(id=kept.memory_id) == normal.read_bytes()


def test_what_the_inflation_count_misses_meets_the_address_space_limit(
    start_server: StartServer, bomb: Path
) -> None:
    server = start_server(pdf_memory_mb=512, max_pdf_inflated_bytes=4 * GIB)  # the count let it through
    with (
        Goodmem(base_url=base_url(server), api_key=server.api_key) as client,
        temporary_space(client, "bomb") as space,
    ):
        before = peak_rss_kb(server)
        refused = create_refused(client, space.space_id, bomb)
        assert refused.status_code == 413 and "MEMHUB_PDF_MEMORY_MB" in str(refused)
        assert peak_rss_kb(server) - before < RSS_GROWTH_BOUND_KB
        assert list(client.memories.list(space_id=space.space_id)) == []


def test_pages_that_render_to_too_many_pixels_are_refused_before_rendering(
    gm: tuple[ServerHandle, Any], tmp_path: Path
) -> None:
    _, client = gm
    drain = tmp_path / "drain.pdf"
    drain.write_bytes(make_large_pages_pdf(40))  # 40 pages of 17 Mpx at 150 dpi: 690 Mpx
    with temporary_space(client, "drain") as space:
        refused = create_refused(client, space.space_id, drain, extract_page_images=True)
        assert refused.status_code == 413 and "MEMHUB_MAX_PDF_PIXELS" in str(refused)
        assert list(client.memories.list(space_id=space.space_id)) == []
        text_only = client.memories.create(space_id=space.space_id, file_path=str(drain))
        assert wait_completed(client, text_only.memory_id).processing_status == "COMPLETED"


def test_pages_render_after_the_answer_and_one_tenants_pdfs_do_not_block_another(
    gm: tuple[ServerHandle, Any], tmp_path: Path
) -> None:
    server, client = gm
    heavy = tmp_path / "heavy.pdf"
    heavy.write_bytes(make_large_pages_pdf(25))  # ~25 s of rendering on one core
    small = tmp_path / "small.pdf"
    small.write_bytes(make_pdf(["Giraffes eat acacia leaves."]))
    other_key = server.create_key("other-tenant")
    with (
        temporary_space(client, "heavy") as space,
        Goodmem(base_url=base_url(server), api_key=other_key) as other,
        temporary_space(other, "other") as other_space,
    ):
        created = client.memories.create(
            space_id=space.space_id, file_path=str(heavy), extract_page_images=True
        )
        assert created.page_image_status == "PENDING"

        def rendering() -> bool:  # a page is stored: the render holds the tenant's PDF slot
            assert client.memories.get(id=created.memory_id).page_image_status != "FAILED"
            return bool(list(client.memories.pages(id=created.memory_id)))

        poll_until(rendering, timeout=120, interval=0.2, message="no page rendered")
        busy = create_refused(client, space.space_id, small)  # the tenant's one PDF slot is taken
        assert busy.status_code == 429
        theirs = other.memories.create(space_id=other_space.space_id, file_path=str(small))
        assert wait_completed(other, theirs.memory_id).processing_status == "COMPLETED"
        client.memories.delete(id=created.memory_id)  # stops the render at its next page
        retried = create_when_free(client, space.space_id, small)
        assert wait_completed(client, retried.memory_id).processing_status == "COMPLETED"


def test_a_render_over_the_cpu_limit_ends_failed_with_its_reason(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server(pdf_cpu_seconds=1)
    heavy = tmp_path / "heavy.pdf"
    heavy.write_bytes(make_large_pages_pdf(10))
    with (
        Goodmem(base_url=base_url(server), api_key=server.api_key) as client,
        temporary_space(client, "cpu") as space,
    ):
        created = client.memories.create(
            space_id=space.space_id, file_path=str(heavy), extract_page_images=True
        )
        rendered = wait_pages(client, created.memory_id)
        assert rendered.page_image_status == "FAILED"
        assert list(client.memories.pages(id=created.memory_id)) == []
        assert client.memories.content(id=created.memory_id) == heavy.read_bytes()
        assert wait_completed(client, created.memory_id).processing_status == "COMPLETED"


def test_a_render_cut_off_by_a_crash_is_resumed_after_restart(
    start_server: StartServer, tmp_path: Path
) -> None:
    first = start_server(pdf_cpu_seconds=5)  # wall limit 15 s: a stalled render is resumed after 30 s
    heavy = tmp_path / "heavy.pdf"
    heavy.write_bytes(make_large_pages_pdf(10))
    with Goodmem(base_url=base_url(first), api_key=first.api_key) as client:
        space, _ = make_space(client, "crash")
        created = client.memories.create(
            space_id=space.space_id, file_path=str(heavy), extract_page_images=True
        )
    first.process.kill()  # no graceful stop: the queued render is lost with the process
    first.process.wait()
    second = start_server(first.data_dir, pdf_cpu_seconds=5)
    with Goodmem(base_url=base_url(second), api_key=second.api_key) as client:
        assert client.memories.get(id=created.memory_id).page_image_status in ("PENDING", "PROCESSING")
        ended = wait_pages(client, created.memory_id, timeout=200)
        assert ended.page_image_status in ("COMPLETED", "FAILED")  # rendered again (or its limit named)
