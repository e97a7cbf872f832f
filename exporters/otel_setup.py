"""`configure()`: send an app's OpenTelemetry spans and GenAI log events to phosphobs.

Joins whatever the app already set up rather than replacing it: an SDK TracerProvider (or LoggerProvider)
already installed gets our processors added; otherwise we install our own as the global one.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import _logs, trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from phosphobs.exporters.llm_filter import LLMOnlyLogProcessor, LLMOnlySpanProcessor
from phosphobs.exporters.otlp_exporters import log_exporter, span_exporter
from phosphobs.exporters.otlp_settings import OtlpSettings, resolve_otlp_settings
from phosphobs.exporters.session_processor import SessionSpanProcessor

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_active: Telemetry | None = None


@dataclass
class Telemetry:
    """What `configure()` installed. Shutting it down stops our exporting; the app's providers stay."""

    settings: OtlpSettings
    llm_only: bool
    tracer_provider: TracerProvider
    logger_provider: LoggerProvider | None
    span_processor: SpanProcessor
    log_processor: Any | None
    session_processor: SessionSpanProcessor
    _closed: bool = False

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything ended so far; True when both signals made it within the time."""
        ok = self.span_processor.force_flush(timeout_millis)
        if self.log_processor is not None:
            ok = self.log_processor.force_flush(timeout_millis) and ok
        return ok

    def shutdown(self) -> None:
        global _active
        with _lock:
            if self._closed:
                return
            self._closed = True
            if _active is self:
                _active = None
        self.span_processor.shutdown()
        if self.log_processor is not None:
            self.log_processor.shutdown()

    @property
    def closed(self) -> bool:
        return self._closed


def _resource(service_name: str | None) -> Resource:
    # Resource.create also reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
    return Resource.create({"service.name": service_name} if service_name else {})


def _tracer_provider(given: TracerProvider | None, service_name: str | None) -> TracerProvider:
    if given is not None:
        return given
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(resource=_resource(service_name))
    trace.set_tracer_provider(provider)
    return provider


def _logger_provider(given: LoggerProvider | None, tracer_provider: TracerProvider) -> LoggerProvider:
    if given is not None:
        return given
    current = _logs.get_logger_provider()
    if isinstance(current, LoggerProvider):
        return current
    provider = LoggerProvider(resource=tracer_provider.resource)
    _logs.set_logger_provider(provider)
    _install_event_logger_provider(provider)
    return provider


def _install_event_logger_provider(provider: LoggerProvider) -> None:
    """SDKs 1.27 to 1.38 route GenAI events through the Events API; newer ones use the Logs API directly."""
    try:
        from opentelemetry._events import get_event_logger_provider, set_event_logger_provider
        from opentelemetry.sdk._events import EventLoggerProvider
    except ImportError:
        return
    if not isinstance(get_event_logger_provider(), EventLoggerProvider):
        set_event_logger_provider(EventLoggerProvider(logger_provider=provider))


def configure(
    api_key: str | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    service_name: str | None = None,
    llm_only: bool = False,
    *,
    logs: bool = True,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    tracer_provider: TracerProvider | None = None,
    logger_provider: LoggerProvider | None = None,
    env: Mapping[str, str] | None = None,
) -> Telemetry:
    """Export spans (and GenAI log events) to phosphobs over OTLP with `Authorization: Bearer <api_key>`.

    Defaults: PHOSPHOBS_API_KEY / PHOSPHOBS_ENDPOINT, then OTEL_EXPORTER_OTLP_HEADERS / _ENDPOINT,
    then http://localhost:4318 (gRPC: localhost:4317). Calling it again while the first handle is
    open returns that handle, so nothing is exported twice.
    """
    global _active
    settings = resolve_otlp_settings(os.environ if env is None else env, api_key, endpoint, protocol, headers, timeout)
    with _lock:
        if _active is not None and not _active.closed:
            other_provider = tracer_provider is not None and tracer_provider is not _active.tracer_provider
            if (_active.settings, _active.llm_only) != (settings, llm_only) or other_provider:
                _log.warning("phosphobs: configure() was already called; keeping the first configuration")
            return _active
        if not settings.has_auth:
            _log.warning("phosphobs: no API key (PHOSPHOBS_API_KEY or OTEL_EXPORTER_OTLP_HEADERS); expect 401s")
        tracer = _tracer_provider(tracer_provider, service_name)
        session_processor = SessionSpanProcessor(remember=llm_only)
        tracer.add_span_processor(session_processor)
        span_processor: SpanProcessor = BatchSpanProcessor(span_exporter(settings))
        if llm_only:
            span_processor = LLMOnlySpanProcessor(span_processor, stamper=session_processor)
        tracer.add_span_processor(span_processor)

        log_provider = log_processor = None
        if logs:
            log_provider = _logger_provider(logger_provider, tracer)
            log_processor = BatchLogRecordProcessor(log_exporter(settings))
            if llm_only:
                log_processor = LLMOnlyLogProcessor(log_processor)
            log_provider.add_log_record_processor(log_processor)

        _active = Telemetry(
            settings, llm_only, tracer, log_provider, span_processor, log_processor, session_processor
        )
        return _active
