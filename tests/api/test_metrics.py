"""GET /metrics on a real server: route-template latencies, the worker's embed batches, store gauges."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from tests.support.api import add_messages, assert_envelope
from tests.support.server import ServerHandle, StartServer

from memhub.api.metrics import metrics_public
from memhub.settings import Settings


def scrape(client: httpx.Client) -> dict[str, list[Sample]]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def test_latency_is_labelled_by_route_template_not_raw_path(server: ServerHandle) -> None:
    with server.client() as client:
        for memory_id in ("m-1", "m-2", "m-3"):
            assert client.get(f"/v1/memories/{memory_id}").status_code == 404
        client.get("/no/such/route")
        families = scrape(client)
    counts = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for s in families["memhub_http_request_duration_seconds"]
        if s.name.endswith("_count")
    }
    assert counts.get(("GET", "/v1/memories/{memory_id}", "404"), 0) >= 3, counts
    assert counts[("GET", "<unmatched>", "404")] >= 1
    assert not any("m-1" in route for _, route, _ in counts)


def test_embed_batches_and_store_gauges_follow_ingestion(server: ServerHandle) -> None:
    with server.client(server.create_key("metrics-tenant")) as client:
        add_messages(client, "dee", "I moved to Lisbon last spring", "My sister lives in Porto")
        families = scrape(client)
    batches = {s.name: s.value for s in families["memhub_embed_batch_size"]}
    assert batches["memhub_embed_batch_size_count"] >= 1
    assert batches["memhub_embed_batch_size_sum"] >= 2  # both messages' texts were embedded
    assert families["memhub_memories"][0].value >= 2
    assert families["memhub_jobs_queued"][0].value >= 0
    assert families["memhub_jobs_failed"][0].value == 0
    store_file = server.data_dir / "memhub.db"
    assert families["memhub_store_bytes"][0].value >= store_file.stat().st_size > 0


def test_metrics_behind_a_key_refuse_anonymous_scrapes(start_server: StartServer) -> None:
    handle = start_server(metrics_access="key")
    with httpx.Client(base_url=handle.base_url) as anonymous:
        assert_envelope(anonymous.get("/metrics"), 401, "unauthenticated")
    with handle.client() as client:
        assert "memhub_jobs_queued" in scrape(client)


@pytest.mark.parametrize(
    ("host", "access", "public"),
    [
        ("127.0.0.1", "auto", True),
        ("::1", "auto", True),
        ("localhost", "auto", True),
        ("0.0.0.0", "auto", False),
        ("memhub.internal", "auto", False),
        ("0.0.0.0", "public", True),
        ("127.0.0.1", "key", False),
    ],
)
def test_auto_access_is_open_only_on_loopback(host: str, access: str, public: bool, tmp_path: Path) -> None:
    settings = Settings(host=host, metrics_access=access, data=tmp_path)  # type: ignore[arg-type]
    assert metrics_public(settings) is public
