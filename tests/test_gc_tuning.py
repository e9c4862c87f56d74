"""The garbage collector set for serving while an app runs, and given back as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import memhub
from memhub import gc_tuning
from memhub.api.app import create_app
from memhub.settings import Settings
from support.embedders import HashEmbedder

DEFAULT = (700, 10, 10)


@pytest.fixture(autouse=True)
def default_collector() -> Iterator[None]:
    """Each test starts from CPython's default thresholds, no frozen objects, and leaves it so."""
    saved = gc.get_threshold()
    gc.set_threshold(*DEFAULT)
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*saved)


def test_a_running_app_raises_the_young_threshold_and_gives_the_old_one_back() -> None:
    with gc_tuning.tuned(freeze=False):
        assert gc.get_threshold() == (gc_tuning.YOUNG_THRESHOLD, 10, 10)
    assert gc.get_threshold() == DEFAULT


def test_a_higher_threshold_or_a_disabled_collector_is_left_as_the_host_set_it() -> None:
    gc.set_threshold(50_000, 20, 20)
    with gc_tuning.tuned(freeze=False):
        assert gc.get_threshold() == (50_000, 20, 20)
    gc.set_threshold(0, 10, 10)  # 0: automatic collection off
    with gc_tuning.tuned(freeze=False):
        assert gc.get_threshold() == (0, 10, 10)
    assert gc.get_threshold() == (0, 10, 10)


def test_the_threshold_comes_back_only_when_the_last_of_several_apps_stops() -> None:
    first, second = gc_tuning.tuned(freeze=False), gc_tuning.tuned(freeze=False)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] == gc_tuning.YOUNG_THRESHOLD
    second.__exit__(None, None, None)
    assert gc.get_threshold() == DEFAULT


def test_a_threshold_someone_changed_meanwhile_is_not_overwritten() -> None:
    with gc_tuning.tuned(freeze=False):
        gc.set_threshold(3000, 5, 5)
    assert gc.get_threshold() == (3000, 5, 5)


def test_freezing_keeps_start_up_objects_out_of_collections_until_the_app_stops() -> None:
    with gc_tuning.tuned(freeze=True):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_an_app_that_owns_its_process_freezes_its_start_up_heap_while_it_runs(tmp_path: Path) -> None:
    settings = Settings(data=tmp_path, worker=False)
    app = create_app(settings, embedder=HashEmbedder(), bootstrap_key=False, owns_process=True)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_threshold()[0] == gc_tuning.YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == DEFAULT
    assert gc.get_freeze_count() == 0


def test_the_embedded_client_raises_the_threshold_but_freezes_nothing_of_its_caller(tmp_path: Path) -> None:
    with memhub.Client(path=tmp_path / "data", embedder=HashEmbedder()) as client:
        client.memories.search("anything", user_id="u")
        assert gc.get_threshold()[0] == gc_tuning.YOUNG_THRESHOLD
        assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == DEFAULT


def test_an_app_inside_another_process_raises_the_threshold_only(tmp_path: Path) -> None:
    app = create_app(Settings(data=tmp_path, worker=False), embedder=HashEmbedder(), bootstrap_key=False)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_threshold()[0] == gc_tuning.YOUNG_THRESHOLD
        assert gc.get_freeze_count() == 0


def test_gc_tuning_off_leaves_the_collector_alone(tmp_path: Path) -> None:
    settings = Settings(data=tmp_path, worker=False, gc_tuning=False)
    app = create_app(settings, embedder=HashEmbedder(), bootstrap_key=False, owns_process=True)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_threshold() == DEFAULT
        assert gc.get_freeze_count() == 0
