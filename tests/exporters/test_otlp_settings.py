"""Where configure() sends telemetry, from arguments and environment (pure)."""

from __future__ import annotations

import pytest
from phosphobs.exporters.otlp_settings import resolve_otlp_settings


def test_defaults_point_at_a_local_server_over_http() -> None:
    settings = resolve_otlp_settings({})
    assert settings.protocol == "http/protobuf"
    assert settings.traces_endpoint == "http://localhost:4318/v1/traces"
    assert settings.logs_endpoint == "http://localhost:4318/v1/logs"
    assert not settings.has_auth


def test_grpc_defaults_to_port_4317_without_a_path() -> None:
    settings = resolve_otlp_settings({}, protocol="grpc")
    assert settings.traces_endpoint == settings.logs_endpoint == "http://localhost:4317"


def test_arguments_beat_phosphobs_variables_which_beat_otel_variables() -> None:
    env = {"PHOSPHOBS_API_KEY": "ph_env", "PHOSPHOBS_ENDPOINT": "http://phx:4318/",
           "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318",
           "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20ph_otel,x-team=ml"}
    from_env = resolve_otlp_settings(env)
    assert from_env.traces_endpoint == "http://phx:4318/v1/traces"
    assert from_env.headers == {"authorization": "Bearer ph_env", "x-team": "ml"}
    from_args = resolve_otlp_settings(env, api_key="ph_arg", endpoint="http://arg:9999")
    assert from_args.traces_endpoint == "http://arg:9999/v1/traces"
    assert from_args.headers["authorization"] == "Bearer ph_arg"


def test_the_standard_otel_variables_alone_are_enough() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
           "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer ph_raw_space"}
    settings = resolve_otlp_settings(env)
    assert settings.logs_endpoint == "http://collector:4318/v1/logs"
    assert settings.headers == {"authorization": "Bearer ph_raw_space"}


def test_a_per_signal_endpoint_is_used_exactly_as_given() -> None:
    env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:1/custom", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://b:2"}
    settings = resolve_otlp_settings(env)
    assert (settings.traces_endpoint, settings.logs_endpoint) == ("http://t:1/custom", "http://b:2/v1/logs")


def test_protocol_comes_from_the_environment_when_not_given() -> None:
    assert resolve_otlp_settings({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}).protocol == "grpc"
    assert resolve_otlp_settings({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}).protocol == "http/protobuf"


def test_an_unknown_protocol_argument_is_an_error() -> None:
    with pytest.raises(ValueError, match="protocol"):
        resolve_otlp_settings({}, protocol="carrier-pigeon")
