"""Prometheus metrics: one `CollectorRegistry` per app (built in create_app), served at GET /metrics.

Names follow Prometheus conventions; the OTel GenAI client metrics keep their semantic-convention names
translated the way OTel's Prometheus exporter does (`gen_ai.client.token.usage` → `gen_ai_client_token_usage`,
`gen_ai.client.operation.duration` [s] → `gen_ai_client_operation_duration_seconds`, attributes → labels).
Counts are per process: with several workers, Prometheus scrapes each one (or sums them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from phosphobs.api.metrics_auth import MetricsAuth
from phosphobs.storage.models import Event
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

# OTel semantic-convention bucket boundaries for the two GenAI client histograms.
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DEFAULT_MAX_SERIES = 1000  # label combinations per metric; beyond that client-given labels become "other"
MAX_LABEL_CHARS = 100
OTHER = "other"
REJECTION_REASONS = ("auth", "validation", "rate_limit", "overload", "storage")


class _SeriesCap:
    """Bounds one metric's label combinations (series): label values come from clients (project and model
    names), so past `cap` combinations new ones collapse their client-given labels into "other"."""

    def __init__(self, cap: int, free: tuple[int, ...]) -> None:
        self._cap = cap
        self._free = free  # positions of the client-given labels
        self._seen: set[tuple[str, ...]] = set()

    def __call__(self, *labels: str) -> tuple[str, ...]:
        key = tuple(value[:MAX_LABEL_CHARS] for value in labels)
        if key in self._seen:
            return key
        if len(self._seen) < self._cap:
            self._seen.add(key)
            return key
        return tuple(OTHER if i in self._free else value for i, value in enumerate(key))


class _PipelineCollector(Collector):
    """Reads the pipeline's own counters at scrape time."""

    def __init__(self, stats: Callable[[], tuple[int, int, int, float, int]]) -> None:
        self._stats = stats

    def collect(self):  # type: ignore[override]
        queued, commits, items, last_seconds, dropped = self._stats()
        yield GaugeMetricFamily("phosphobs_ingest_queue_depth", "Items waiting for the next group commit.",
                                value=queued)
        yield CounterMetricFamily("phosphobs_group_commits", "Group commits (database transactions) done.",
                                  value=commits)
        yield CounterMetricFamily("phosphobs_group_commit_items", "Items (events, patches, feedback) committed.",
                                  value=items)
        yield GaugeMetricFamily("phosphobs_last_group_commit_duration_seconds",
                                "Duration of the most recent group commit.", value=last_seconds)
        yield CounterMetricFamily("phosphobs_ingest_queue_dropped_items",
                                  "Items refused because the ingest queue was full.", value=dropped)


class _DetectionCollector(Collector):
    """Detection lag read from the queue at scrape time, and this process's detection counters."""

    def __init__(self, store: Any, stats: Any, clock: Callable[[], float]) -> None:
        self._store = store
        self._stats = stats
        self._clock = clock

    def collect(self):  # type: ignore[override]
        try:
            lag = self._store.detection_lag(None)
        except Exception:  # the database is unreachable or not migrated yet: the other metrics still render
            lag = None
        if lag is not None:
            yield GaugeMetricFamily("phosphobs_detection_queue_depth", "Events waiting for detection.",
                                    value=lag.queued)
            oldest = lag.oldest_enqueued_us
            age = 0.0 if oldest is None else max(0.0, self._clock() - oldest / 1e6)
            yield GaugeMetricFamily("phosphobs_detection_lag_seconds",
                                    "Age of the oldest event waiting for detection (0 when none waits).", value=age)
        done = CounterMetricFamily("phosphobs_detections", "Detections recorded by this process.",
                                   labels=["detector", "outcome"])
        for (detector, outcome), n in sorted(self._stats.detections.items()):
            done.add_metric([detector, outcome], n)
        yield done
        tokens = CounterMetricFamily("phosphobs_judge_tokens", "Tokens used by the judge model.", labels=["type"])
        tokens.add_metric(["input"], self._stats.judge_tokens_in)
        tokens.add_metric(["output"], self._stats.judge_tokens_out)
        yield tokens


class Metrics:
    def __init__(self, max_series: int = DEFAULT_MAX_SERIES) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # one cap per metric; the positions are those of project, model and provider in its labels
        self._events_cap = _SeriesCap(max_series, (0, 2, 3))
        self._tokens_cap = _SeriesCap(max_series, (0, 2, 3))
        self._duration_cap = _SeriesCap(max_series, (0, 1, 2))
        self._cost_cap = _SeriesCap(max_series, (0, 1))
        self._feedback_cap = _SeriesCap(max_series, (0,))
        self.events = Counter("phosphobs_ingested_events", "Events stored (duplicates not counted).",
                              ["project", "source", "model", "provider"], registry=r)
        self.token_usage = Histogram(
            "gen_ai_client_token_usage", "Input and output tokens per LLM call (OTel gen_ai.client.token.usage).",
            ["project", "gen_ai_token_type", "gen_ai_request_model", "gen_ai_provider_name"], buckets=TOKEN_BUCKETS,
            registry=r)
        self.duration = Histogram(
            "gen_ai_client_operation_duration_seconds",
            "LLM call latency as reported by the client (OTel gen_ai.client.operation.duration).",
            ["project", "gen_ai_request_model", "gen_ai_provider_name"], buckets=DURATION_BUCKETS, registry=r)
        self.cost = Counter("phosphobs_llm_cost_usd", "Cost of stored events in US dollars (reported or estimated).",
                            ["project", "model"], registry=r)
        self.feedback = Counter("phosphobs_feedback", "Feedback recorded, by flag.", ["project", "flag"], registry=r)
        self.rejections = Counter("phosphobs_ingest_rejections", "Ingest requests refused, by reason.",
                                  ["reason"], registry=r)
        for reason in REJECTION_REASONS:
            self.rejections.labels(reason)  # every reason is exported from the start, at 0
        self.commit_wait = Histogram(
            "phosphobs_ingest_commit_duration_seconds",
            "Time from handing a request's records to the pipeline until they are committed (queue + commit).",
            buckets=COMMIT_BUCKETS, registry=r)
        self.up = Gauge("phosphobs_up", "1 while the server runs.", registry=r)
        self.up.set(1)

    def watch_pipeline(self, stats: Callable[[], tuple[int, int, int, float, int]]) -> None:
        """Export the pipeline's queue depth and commit counters, read at each scrape."""
        self.registry.register(_PipelineCollector(stats))

    def watch_detection(self, store: Any, stats: Any) -> None:
        """Export the detection queue's lag and the worker's counters, read at each scrape."""
        self.registry.register(_DetectionCollector(store, stats, time.time))

    def ingested(self, project: str, events: list[Event]) -> None:
        # Resolve each labelled child once per (source, model, provider) group: `labels()` is the costly part.
        groups: dict[tuple[str, str, str], list[Event]] = {}
        for e in events:
            groups.setdefault((e.source, e.model or "", e.provider or ""), []).append(e)
        for (source, model, provider), group in groups.items():
            self.events.labels(*self._events_cap(project, source, model, provider)).inc(len(group))
            for histogram, cap, labels, values in (
                (self.token_usage, self._tokens_cap, (project, "input", model, provider), [e.tokens_in for e in group]),
                (self.token_usage, self._tokens_cap, (project, "output", model, provider),
                 [e.tokens_out for e in group]),
                (self.duration, self._duration_cap, (project, model, provider),
                 [e.latency_ms / 1000 if e.latency_ms is not None else None for e in group]),
            ):
                observed = [v for v in values if v is not None]
                if observed:  # a series (and a slot under the cap) only once it has a value
                    child = histogram.labels(*cap(*labels))
                    for value in observed:
                        child.observe(value)
            costs = [e.cost_cents for e in group if e.cost_cents is not None]
            if costs:
                self.cost.labels(*self._cost_cap(project, model)).inc(sum(costs) / 100)

    def feedback_recorded(self, project: str, flag: str) -> None:
        self.feedback.labels(*self._feedback_cap(project, flag)).inc()

    def rejected(self, reason: str) -> None:
        self.rejections.labels(reason).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


metrics_router = APIRouter(include_in_schema=False)


@metrics_router.get("/metrics")
async def metrics_endpoint(request: Request) -> Response:
    auth: MetricsAuth = request.app.state.metrics_auth
    if not await auth.allows(request.headers.get("authorization", "")):
        return Response("unauthorized: send 'Authorization: Bearer <metrics token>' (printed at first start)\n", 401,
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'}, media_type="text/plain")
    body = await run_in_threadpool(request.app.state.metrics.render)  # never on the event loop
    return Response(body, media_type=CONTENT_TYPE_LATEST)
