"""PDF memories through the real GoodMem SDK against a real ``memhub serve``: the text layer is
chunked and retrievable, the original file is served back byte for byte, and ``extract_page_images``
renders every page as a PNG served by ``pages`` / ``pages_image`` (sync and async)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from goodmem import APIError, AsyncGoodmem, BadRequestError, Goodmem, NotFoundError

from memhub.core.errors import NotSupported
from memhub.pipeline import pdf
from support.goodmem import base_url as _base
from support.goodmem import temporary_space, wait_completed, wait_pages
from support.pdfs import make_pdf
from support.server import ServerHandle

PAGES = ["Zebras have black and white stripes.", "Giraffes eat acacia leaves in the savanna."]


@pytest.fixture(scope="module")
def client(server: ServerHandle) -> Iterator[Any]:
    with Goodmem(base_url=_base(server), api_key=server.api_key) as c:
        yield c


@pytest.fixture(scope="module")
def space_id(client: Any) -> Iterator[str]:
    with temporary_space(client, "pdf") as space:
        yield space.space_id


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "animals.pdf"
    path.write_bytes(make_pdf(PAGES))
    return path


def test_pdf_upload_is_indexed_and_kept(client: Any, space_id: str, document: Path) -> None:
    created = client.memories.create(space_id=space_id, file_path=str(document))
    assert created.content_type == "application/pdf"  # inferred by the SDK from the extension
    assert created.page_image_status in (None, "UNSPECIFIED") and created.page_image_count == 0
    assert wait_completed(client, created.memory_id).processing_status == "COMPLETED"
    assert client.memories.content(id=created.memory_id) == document.read_bytes()
    full = client.memories.get(id=created.memory_id, include_content=True)
    assert full.original_content == document.read_bytes()
    assert full.original_content_length == len(document.read_bytes())
    events = client.memories.retrieve(message="what do giraffes eat", space_ids=[space_id], stream=False)
    texts = [e.retrieved_item.chunk.chunk.chunk_text for e in events if e.retrieved_item]
    assert texts and "acacia" in " ".join(texts)
    assert list(client.memories.pages(id=created.memory_id)) == []
    client.memories.delete(id=created.memory_id)
    with pytest.raises(NotFoundError):
        client.memories.content(id=created.memory_id)


def test_extract_page_images_renders_every_page(
    server: ServerHandle, client: Any, space_id: str, document: Path
) -> None:
    created = client.memories.create(space_id=space_id, file_path=str(document), extract_page_images=True)
    assert created.page_image_status == "PENDING"  # rendered in the background, not in the request
    rendered = wait_pages(client, created.memory_id)
    assert rendered.page_image_status == "COMPLETED" and rendered.page_image_count == 2
    pages = list(client.memories.pages(id=created.memory_id))
    assert [p.page_index for p in pages] == [0, 1]
    assert all(p.content_type == "image/png" and p.dpi == 150 for p in pages)
    image = client.memories.pages_image(id=created.memory_id, page_index=1)
    assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) == pages[1].image_content_length
    assert [p.page_index for p in client.memories.pages(id=created.memory_id, start_page_index=1)] == [1]
    first = client.memories.pages(id=created.memory_id, max_results=1)
    assert len(first.data) == 1 and first.next_token
    with pytest.raises(NotFoundError):
        client.memories.pages_image(id=created.memory_id, page_index=2)
    with pytest.raises(NotFoundError):  # no rendition at another dpi
        client.memories.pages_image(id=created.memory_id, page_index=0, dpi=72)

    async def run() -> None:
        ac: Any
        async with AsyncGoodmem(base_url=_base(server), api_key=server.api_key) as ac:
            listed = [p.page_index async for p in await ac.memories.pages(id=created.memory_id)]
            assert listed == [0, 1]
            assert (await ac.memories.pages_image(id=created.memory_id, page_index=0)).startswith(b"\x89PNG")

    asyncio.run(run())
    client.memories.delete(id=created.memory_id)


def test_bad_pdfs_are_refused(client: Any, space_id: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not a pdf")
    with pytest.raises(BadRequestError):
        client.memories.create(space_id=space_id, file_path=str(broken))
    blank = tmp_path / "blank.pdf"
    blank.write_bytes(make_pdf([""]))
    with pytest.raises(BadRequestError, match="no text layer"):
        client.memories.create(space_id=space_id, file_path=str(blank))
    assert list(client.memories.list(space_id=space_id)) == []  # nothing half-created


def test_a_pdf_over_the_page_limit_is_a_413_naming_the_setting(
    client: Any, space_id: str, tmp_path: Path
) -> None:
    long = tmp_path / "long.pdf"
    long.write_bytes(make_pdf([f"page {i}" for i in range(1001)]))  # the default limit is 1000 pages
    with pytest.raises(APIError, match="MEMHUB_MAX_PDF_PAGES") as refused:
        client.memories.create(space_id=space_id, file_path=str(long), extract_page_images=True)
    assert refused.value.status_code == 413
    assert list(client.memories.list(space_id=space_id)) == []


def test_without_pypdfium2_a_pdf_is_a_501_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pypdfium2", None)  # what an environment without the extra sees
    with pytest.raises(NotSupported, match=r"memhub\[pdf\]"):
        pdf.extract_text(make_pdf(["x"]), max_pages=10)
