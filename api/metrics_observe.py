"""Where metrics are observed: a pipeline that counts what it commits, and a middleware counting refusals.

Every receiver (native JSON, OTLP/HTTP, OTLP/gRPC, feedback, the dashboard) hands its records to the one
pipeline, so counting there sees all of them without the collector knowing metrics exist. Refusals that
never reach the pipeline (auth, validation) are HTTP answers on the ingest paths, counted by status.
"""

from __future__ import annotations

import time
from typing import Protocol

from phosphobs.api.metrics import Metrics
from phosphobs.collector.pipeline import IngestPipeline, PipelineClosed, PipelineFull
from phosphobs.storage.protocol import EventWriter, FeedbackOp, IngestOp, Project, WriteOp, WriteResult
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

INGEST_PATHS = ("/api/ingest", "/api/ingest/batch", "/api/feedback", "/v1/traces", "/v1/logs", "/v1/metrics")
_REASONS = {400: "validation", 413: "validation", 415: "validation", 422: "validation", 401: "auth", 403: "auth",
            429: "rate_limit", 503: "overload"}


def rejection_reason(status: int) -> str | None:
    """The `reason` label for a refused ingest request with this (HTTP) status, None if not a refusal."""
    return _REASONS.get(status) or ("storage" if status >= 500 else None)


class WriterWithProjects(EventWriter, Protocol):
    """Writes, and project names for the metrics' labels."""

    def get_project(self, name_or_id: str) -> Project | None: ...


class ObservedPipeline(IngestPipeline):
    """`IngestPipeline` that reports committed events, feedback and commit waits to `Metrics`."""

    def __init__(self, storage: WriterWithProjects, metrics: Metrics, **kwargs: float) -> None:
        super().__init__(storage, **kwargs)  # type: ignore[arg-type]
        self._names: dict[str, str] = {}
        self._lookup = storage
        self.metrics = metrics
        metrics.watch_pipeline(self.stats)

    def stats(self) -> tuple[int, int, int, float, int]:
        return self.queued, self.commits, self.committed_items, self.last_commit_seconds, self.dropped

    async def _project_name(self, project_id: str) -> str:
        name = self._names.get(project_id)
        if name is None:
            project = await run_in_threadpool(self._lookup.get_project, project_id)
            name = project.name if project else project_id
            if len(self._names) < 10_000:
                self._names[project_id] = name
        return name

    async def submit(self, op: WriteOp) -> WriteResult:
        metrics = self.metrics
        started = time.perf_counter()
        try:
            result = await super().submit(op)
        except (PipelineFull, PipelineClosed):
            raise  # answered 503 by the receiver: counted by the middleware (HTTP) like every refusal
        metrics.commit_wait.observe(time.perf_counter() - started)
        if result.ok and isinstance(op, IngestOp) and op.events:
            created = [e for e, s in zip(op.events, result.statuses, strict=False) if s == "created"]
            if created:
                metrics.ingested(await self._project_name(op.project_id), created)
        elif result.ok and isinstance(op, FeedbackOp):
            metrics.feedback.labels(await self._project_name(op.project_id), op.feedback.flag).inc()
        return result


class RejectionCounter:
    """Pure ASGI middleware: counts 4xx/5xx answers on the ingest paths by reason."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in INGEST_PATHS:
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                reason = rejection_reason(message["status"])
                if reason is not None:
                    self.metrics.rejected(reason)
            await send(message)

        await self.app(scope, receive, counting_send)
