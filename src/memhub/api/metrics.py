"""``GET /metrics``: Prometheus exposition of the server's request latencies, queue and store.

What is measured, and where:

- ``memhub_http_request_duration_seconds{method,route,status}``: a histogram per *route template*
  (``/v1/memories/{memory_id}``, never the raw path, so ids cannot blow up the label set; requests that
  match no route share ``route="<unmatched>"``), timed by :class:`MetricsMiddleware`.
- ``memhub_embed_batch_size`` and ``memhub_embed_batch_duration_seconds``: every embedding call the
  worker makes, reported through the worker's observer hook (``jobs.WorkerObserver``) so the core never
  imports a metrics library.
- ``memhub_jobs_queued``, ``memhub_jobs_failed``, ``memhub_memories``, ``memhub_events`` and
  ``memhub_store_bytes``: read from the store when scraped (one ``counts()`` read and a ``stat`` of the
  SQLite files), so they are right even with workers in other processes.

Each app has its own registry (no process-global state), plus the standard ``process_*`` metrics.

Access (``metrics_access``): ``auto`` serves /metrics without a key while the server binds a loopback
address — only local processes can reach it, the usual Prometheus arrangement — and asks for an API key
(``Authorization: Bearer``, which Prometheus sends with ``authorization: {credentials: …}``) once it binds
anything else, because the figures span every tenant — and then only an admin key of the operator's
tenant (``deps.OPERATOR_TENANT``) will do. "Binds" is judged per request from the socket the
request arrived on (``loopback.py``), so an app served on 0.0.0.0 by hand still asks remote scrapers for
a key. ``public``, ``key`` and ``off`` force one behaviour.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterator

from fastapi import FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memhub.runtime import Runtime
from memhub.settings import Settings

from .deps import bearer_operator
from .loopback import arrived_on_loopback
from .route_template import route_template

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    """The registry of one app and the instruments the middleware and the worker feed."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.latency = Histogram(
            "memhub_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "memhub_embed_batch_size",
            "Texts per embedding call of the ingestion worker.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "memhub_embed_batch_duration_seconds",
            "Duration of one embedding call of the ingestion worker.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def embed_batch(self, size: int, seconds: float) -> None:
        """The worker's observer hook (``jobs.WorkerObserver``)."""
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)

    def watch_store(self, runtime_of: Callable[[], Runtime | None]) -> None:
        """Read the queue and store gauges from the runtime ``runtime_of`` returns, at each scrape."""
        self.registry.register(_StoreCollector(runtime_of))


class _StoreCollector:
    """Gauges read from the store at scrape time (nothing while the app is not started)."""

    def __init__(self, runtime_of: Callable[[], Runtime | None]) -> None:
        self._runtime_of = runtime_of

    def describe(self) -> list[Metric]:
        return []  # the metrics only exist once a runtime does; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        runtime = self._runtime_of()
        if runtime is None:
            return
        counts = runtime.store.counts()
        yield _gauge("memhub_jobs_queued", "Jobs pending or being processed.", counts.jobs_pending)
        yield _gauge("memhub_jobs_failed", "Jobs that failed every attempt.", counts.jobs_failed)
        yield _gauge("memhub_memories", "Live memories in the store.", counts.memories)
        yield _gauge("memhub_events", "Events (raw inputs) in the store.", counts.events)
        size = runtime.store_bytes()
        if size is not None:
            yield _gauge("memhub_store_bytes", "Bytes of the SQLite store on disk, WAL included.", size)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class MetricsMiddleware:
    """Times every HTTP request into the latency histogram, labelled by the route that served it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]  # what an exception escaping the app becomes (RequestLogMiddleware answers it)

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = route_template(scope)
            self.metrics.latency.labels(scope["method"], route, str(status[0])).observe(
                time.perf_counter() - started
            )


def metrics_public(settings: Settings) -> bool:
    """Whether /metrics answers without a key (see the module docstring)."""
    if settings.metrics_access != "auto":
        return settings.metrics_access == "public"
    if settings.host == "localhost":
        return True
    try:
        return ipaddress.ip_address(settings.host).is_loopback
    except ValueError:
        return False


def add_metrics_route(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    """``GET /metrics`` unless ``metrics_access`` is ``off``."""
    if settings.metrics_access == "off":
        return
    public = metrics_public(settings)

    def scrape(request: Request) -> Response:
        # "auto" trusts loopback: the connection's own address decides, not only the configured host.
        if not public or (settings.metrics_access == "auto" and not arrived_on_loopback(request.scope)):
            bearer_operator(request)  # the figures span every tenant: the operator's admin keys only
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route(
        "/metrics",
        scrape,
        methods=["GET"],
        tags=["server"],
        summary="Prometheus metrics",
        response_model=None,
    )
