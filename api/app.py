"""`create_app(settings)`: builds the whole server; nothing is configured at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from phosphobs.api.auth import KeyAuthenticator
from phosphobs.api.dashboard.router import install_dashboard
from phosphobs.api.detection.setup import build_worker
from phosphobs.api.docs_ui import install_docs
from phosphobs.api.errors import install_error_handlers
from phosphobs.api.login_throttle import LoginThrottle
from phosphobs.api.metrics import Metrics, metrics_router
from phosphobs.api.metrics_auth import MetricsAuth
from phosphobs.api.metrics_observe import ObservedPipeline, RejectionCounter, rejection_reason
from phosphobs.api.nul_guard import RejectNulInUrl
from phosphobs.api.openapi import install_openapi
from phosphobs.api.retention import prune_forever
from phosphobs.api.routes import events, health, quality, sessions, traces
from phosphobs.api.settings import Settings
from phosphobs.api.slow_clients import BodyDeadline
from phosphobs.collector.receivers.feedback_http import feedback_router
from phosphobs.collector.receivers.langfuse_http import langfuse_router
from phosphobs.collector.receivers.native_http import native_router
from phosphobs.collector.receivers.otlp_grpc import OtlpGrpcServer
from phosphobs.collector.receivers.otlp_http import otlp_router
from phosphobs.collector.receivers.otlp_ingest import RequestLimits
from phosphobs.collector.receivers.phoenix_http import phoenix_router
from phosphobs.storage.open import open_backend
from phosphobs.storage.registry import StorageOptions


def ingest_activity(pipeline: ObservedPipeline) -> Callable[[], bool]:
    """Whether ingest queued or committed anything since the last call (the detection worker yields then)."""
    last = [-1]

    def busy() -> bool:
        seen, last[0] = last[0], pipeline.committed_items
        return pipeline.queued > 0 or seen != last[0]

    return busy


def create_app(settings: Settings) -> FastAPI:
    opened = open_backend(settings.resolved_database_url,
                          StorageOptions(settings.sqlite_synchronous, settings.sqlite_writer_process,
                                         detect=settings.detection))
    storage = opened.storage
    metrics = Metrics(settings.metrics_max_series)  # this app's own registry: two apps never share counts
    pipeline = ObservedPipeline(
        storage, metrics, max_queued_items=settings.max_queued_items, max_commit_items=settings.max_commit_items,
        commits_in_flight=opened.commits_in_flight, max_queued_bytes=settings.max_queued_bytes,
        max_queue_wait=settings.max_queue_wait_seconds,
    )
    limits = RequestLimits(settings.max_body_bytes, settings.max_decompressed_bytes, settings.max_spans_per_request,
                           settings.max_log_records_per_request)
    authenticate = KeyAuthenticator(storage, pipeline, settings)
    detector = build_worker(storage, settings, ingest_activity(pipeline))
    if detector is not None:
        metrics.watch_detection(storage, detector.stats)

    grpc_server = (
        OtlpGrpcServer(pipeline, authenticate.resolve, settings.host, settings.grpc_port, limits,
                       on_reject=lambda status: metrics.rejected(rejection_reason(status) or "other"),
                       reuse_port=settings.workers > 1)
        if settings.grpc_port
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        storage.migrate()
        pipeline.start()
        if detector is not None:
            detector.start()
        if grpc_server is not None:
            await grpc_server.start()
        pruner = (
            asyncio.create_task(prune_forever(storage, settings.retention_days, settings.retention_check_seconds))
            if settings.retention_days > 0
            else None
        )
        try:
            yield
        finally:
            if pruner is not None:
                pruner.cancel()
            if grpc_server is not None:
                await grpc_server.stop()
            if detector is not None:
                detector.stop()
            pipeline.stop()  # commits everything already accepted before closing
            storage.close()

    app = FastAPI(title="phosphobs", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="LLM observability: native JSON ingest, OTLP/HTTP, queries. Authenticate with a"
                              " project API key: `Authorization: Bearer ph_…`.")
    app.state.settings = settings
    app.state.storage = storage
    app.state.pipeline = pipeline
    app.state.authenticate = authenticate
    app.state.metrics = metrics
    app.state.metrics_auth = MetricsAuth(storage, settings)
    app.state.login_throttle = LoginThrottle()
    app.state.detector = detector
    app.add_middleware(RejectionCounter, metrics=metrics)
    app.add_middleware(RejectNulInUrl)
    app.add_middleware(BodyDeadline, timeout=settings.body_timeout_seconds)  # outermost: sees every disconnect
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(native_router(pipeline, authenticate, settings.max_body_bytes))
    app.include_router(otlp_router(pipeline, authenticate, limits))
    app.include_router(feedback_router(pipeline.submit, authenticate, settings.max_body_bytes))
    app.include_router(langfuse_router(pipeline.submit, authenticate, settings.max_body_bytes))
    app.include_router(phoenix_router(pipeline.submit, authenticate, settings.max_body_bytes))
    app.include_router(events.router)
    app.include_router(sessions.router)
    app.include_router(quality.router)
    app.include_router(traces.router)
    app.include_router(metrics_router)
    install_dashboard(app)
    install_docs(app)
    install_openapi(app)
    return app
