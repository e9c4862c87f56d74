"""The container files say what the README says: compose.yaml's two setups and the image's safe defaults.

The images themselves are built and driven by ``scripts/container-test`` (root and podman needed, run
by ``.ci/run``); these checks need neither, so a change that breaks the files fails the suite anywhere.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from memhub.api import create_app
from memhub.api.metrics import metrics_public
from memhub.core.errors import MemhubError
from memhub.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SERVICES: dict[str, dict[str, Any]] = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]


def _profile(name: str | None) -> dict[str, dict[str, Any]]:
    return {
        key: svc
        for key, svc in SERVICES.items()
        if (name in svc.get("profiles", [])) or (name is None and "profiles" not in svc)
    }


def image_env() -> dict[str, str]:
    """The ``ENV`` of the Dockerfile's last stage (``KEY=value`` pairs, continued lines joined)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    final = text.rsplit("\nFROM ", 1)[1]
    pairs: dict[str, str] = {}
    for line in re.findall(r"^ENV (.+)$", final, flags=re.MULTILINE):
        pairs.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    return pairs


def test_compose_default_is_one_embedded_service_on_loopback() -> None:
    default = _profile(None)
    assert list(default) == ["memhub"]
    service = default["memhub"]
    assert service["ports"] == ["127.0.0.1:8420:8420"]
    assert service["volumes"] == ["memhub-data:/data"]
    assert "MEMHUB_DATABASE_URL" not in (service.get("environment") or {})


def test_compose_postgres_profile_has_pgvector_two_apis_without_worker_and_two_workers() -> None:
    profile = _profile("postgres")
    assert profile["db"]["image"].startswith("pgvector/pgvector:")
    apis = [svc for svc in profile.values() if svc.get("command") == ["serve", "--no-worker"]]
    workers = [svc for svc in profile.values() if svc.get("command") == ["worker"]]
    assert len(apis) == 2
    assert sum(svc.get("deploy", {}).get("replicas", 1) for svc in workers) == 2
    for svc in [*apis, *workers]:
        assert svc["environment"]["MEMHUB_DATABASE_URL"].startswith("postgresql://memhub:")
        assert "@db:5432/" in svc["environment"]["MEMHUB_DATABASE_URL"]
        assert svc["depends_on"]["db"] == {"condition": "service_healthy"}
    assert all(port.startswith("127.0.0.1:") for svc in apis for port in svc["ports"])


def test_image_runs_as_non_root_and_defaults_to_the_public_debian_base() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=debian:bookworm-slim" in text
    users = re.findall(r"^USER (\S+)$", text, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert image_env()["MEMHUB_DATA"] == "/data"


def test_image_listens_on_all_interfaces_with_loopback_only_features_locked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in image_env().items():
        if key.startswith("MEMHUB_"):
            monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.host == "0.0.0.0"
    assert not metrics_public(settings), "/metrics must need a key in the container"
    with pytest.raises(MemhubError, match="GoMemory"):
        create_app(settings.model_copy(update={"gomemory_tenant": "default"}))
