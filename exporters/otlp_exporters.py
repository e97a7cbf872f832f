"""Builds the OTLP span and log exporters for the chosen protocol.

gRPC is imported only when asked for, so apps without `grpcio` never load it.
"""

from __future__ import annotations

from typing import Any

from phosphobs.exporters.otlp_settings import OtlpSettings


def _grpc_modules() -> tuple[Any, Any]:
    try:
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "protocol='grpc' needs the gRPC exporter: pip install 'phosphobs[grpc]'"
            " (or opentelemetry-exporter-otlp-proto-grpc)"
        ) from exc
    return OTLPSpanExporter, OTLPLogExporter


def _grpc_kwargs(settings: OtlpSettings, endpoint: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "endpoint": endpoint,
        "headers": tuple(settings.headers.items()),  # gRPC metadata keys must be lower case; they already are
    }
    if endpoint.startswith("http://"):
        kwargs["insecure"] = True
    if settings.timeout is not None:
        kwargs["timeout"] = settings.timeout
    return kwargs


def _http_kwargs(settings: OtlpSettings, endpoint: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"endpoint": endpoint, "headers": dict(settings.headers)}
    if settings.timeout is not None:
        kwargs["timeout"] = settings.timeout
    return kwargs


def span_exporter(settings: OtlpSettings) -> Any:
    if settings.protocol == "grpc":
        exporter, _ = _grpc_modules()
        return exporter(**_grpc_kwargs(settings, settings.traces_endpoint))
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(**_http_kwargs(settings, settings.traces_endpoint))


def log_exporter(settings: OtlpSettings) -> Any:
    if settings.protocol == "grpc":
        _, exporter = _grpc_modules()
        return exporter(**_grpc_kwargs(settings, settings.logs_endpoint))
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    return OTLPLogExporter(**_http_kwargs(settings, settings.logs_endpoint))
