"""Every setting is documented: its description is the ``--help`` text and the README table."""

from __future__ import annotations

import pytest

from memhub.settings import Settings


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_has_a_description(name: str) -> None:
    description = Settings.model_fields[name].description
    assert description and len(description.strip()) >= 10, f"Settings.{name} needs a description"


def test_environment_configures_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMHUB_PORT", "9001")
    monkeypatch.setenv("MEMHUB_RATE_LIMIT_PER_MINUTE", "30")
    monkeypatch.setenv("MEMHUB_WORKER", "false")
    settings = Settings()
    assert (settings.port, settings.rate_limit_per_minute, settings.worker) == (9001, 30, False)
    assert Settings(port=9002).port == 9002, "explicit values (CLI flags) override the environment"


def test_cors_origins_read_from_env_as_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMHUB_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]
