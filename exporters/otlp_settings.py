"""Where telemetry goes and with which key: arguments first, then PHOSPHOBS_*, then the standard OTEL_* variables.

Pure: takes the environment as a mapping so every precedence rule is testable without touching os.environ.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from opentelemetry.util.re import parse_env_headers

Protocol = Literal["http/protobuf", "grpc"]

DEFAULT_HTTP_ENDPOINT = "http://localhost:4318"
DEFAULT_GRPC_ENDPOINT = "http://localhost:4317"
_SIGNAL_PATHS = {"traces": "/v1/traces", "logs": "/v1/logs"}

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OtlpSettings:
    """Resolved exporter settings; `traces_endpoint`/`logs_endpoint` are what the exporters receive as-is."""

    protocol: Protocol
    traces_endpoint: str
    logs_endpoint: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None

    @property
    def has_auth(self) -> bool:
        return "authorization" in self.headers


def resolve_protocol(protocol: str | None, env: Mapping[str, str]) -> Protocol:
    """`http/json` is not spoken by the Python exporters, so it falls back to protobuf rather than failing the app."""
    chosen = (protocol or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf").strip().lower()
    if chosen == "grpc":
        return "grpc"
    if chosen not in ("http/protobuf", "http"):
        if protocol is not None and chosen != "http/json":
            raise ValueError(f"protocol must be 'http/protobuf' or 'grpc', not {protocol!r}")
        _log.warning("phosphobs: OTLP protocol %r is not spoken by the Python exporters; using http/protobuf", chosen)
    return "http/protobuf"


def _signal_endpoint(base: str | None, signal: str, protocol: Protocol, env: Mapping[str, str]) -> str:
    if base is None:
        per_signal = env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
        if per_signal:  # the spec says per-signal endpoints are used exactly as given
            return per_signal
        base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or (
            DEFAULT_GRPC_ENDPOINT if protocol == "grpc" else DEFAULT_HTTP_ENDPOINT
        )
    if protocol == "grpc":  # gRPC addresses a host:port; the service name is the "path"
        return base
    return base.rstrip("/") + _SIGNAL_PATHS[signal]


def resolve_headers(api_key: str | None, extra: Mapping[str, str] | None, env: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased header map: OTEL_EXPORTER_OTLP_HEADERS, then `extra`, then our bearer token on top."""
    from_env = parse_env_headers(env.get("OTEL_EXPORTER_OTLP_HEADERS", ""), liberal=True)
    headers = {k.lower(): v for k, v in from_env.items()}
    headers.update({k.lower(): v for k, v in (extra or {}).items()})
    key = api_key or env.get("PHOSPHOBS_API_KEY")
    if key:
        headers["authorization"] = f"Bearer {key}"
    return headers


def resolve_otlp_settings(
    env: Mapping[str, str],
    api_key: str | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> OtlpSettings:
    chosen = resolve_protocol(protocol, env)
    base = endpoint or env.get("PHOSPHOBS_ENDPOINT") or None
    return OtlpSettings(
        protocol=chosen,
        traces_endpoint=_signal_endpoint(base, "traces", chosen, env),
        logs_endpoint=_signal_endpoint(base, "logs", chosen, env),
        headers=resolve_headers(api_key, headers, env),
        timeout=timeout,
    )
