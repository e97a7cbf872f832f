"""configure(): what reaches the wire, joining existing providers, idempotence, gRPC."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.trace import TracerProvider
from phosphobs.exporters import configure, session
from phosphobs.exporters.otel_setup import Telemetry


@pytest.fixture
def providers() -> tuple[TracerProvider, LoggerProvider]:
    return TracerProvider(), LoggerProvider()


@pytest.fixture
def installed() -> Iterator[list[Telemetry]]:
    handles: list[Telemetry] = []
    yield handles
    for handle in handles:
        handle.shutdown()


def configure_into(sink: Any, providers: tuple[TracerProvider, LoggerProvider], **options: Any) -> Telemetry:
    tracer_provider, logger_provider = providers
    return configure("ph_test", sink.url, tracer_provider=tracer_provider, logger_provider=logger_provider,
                     env={}, **options)


def attributes(span: Any) -> dict[str, Any]:
    return {kv.key: kv.value.string_value or kv.value.int_value for kv in span.attributes}


def test_spans_reach_v1_traces_with_the_bearer_key_and_the_session(otlp_sink, providers, installed) -> None:
    tracer_provider = providers[0]
    handle = configure_into(otlp_sink, providers)
    installed.append(handle)
    with session("s-1", user_id="u-42"), tracer_provider.get_tracer("t").start_as_current_span("chat gpt-4o"):
        pass
    assert handle.force_flush()
    paths = {path for path, _, _ in otlp_sink.requests}
    assert "/v1/traces" in paths
    assert {h["authorization"] for _, h, _ in otlp_sink.requests} == {"Bearer ph_test"}
    [span] = otlp_sink.spans()
    assert attributes(span)["session.id"] == "s-1"
    assert attributes(span)["user.id"] == "u-42"


def test_log_events_reach_v1_logs(otlp_sink, providers, installed) -> None:
    from opentelemetry._logs import LogRecord

    logger_provider = providers[1]
    installed.append(configure_into(otlp_sink, providers))
    logger_provider.get_logger("t").emit(LogRecord(event_name="gen_ai.choice", body={"index": 0}))
    assert installed[0].force_flush()
    assert [p for p, _, _ in otlp_sink.requests] == ["/v1/logs"]


def test_llm_only_sends_llm_spans_alone(otlp_sink, providers, installed) -> None:
    tracer_provider = providers[0]
    installed.append(configure_into(otlp_sink, providers, llm_only=True))
    tracer = tracer_provider.get_tracer("t")
    with session("s-1"), tracer.start_as_current_span("GET /chat"):
        with tracer.start_as_current_span("SELECT users"):
            pass
        with tracer.start_as_current_span("chat gpt-4o", attributes={"gen_ai.operation.name": "chat"}):
            pass
    installed[0].force_flush()
    assert [s.name for s in otlp_sink.spans()] == ["chat gpt-4o"]


def test_calling_configure_twice_returns_the_first_handle_and_exports_once(otlp_sink, providers, installed) -> None:
    tracer_provider = providers[0]
    first = configure_into(otlp_sink, providers)
    installed.append(first)
    assert configure("ph_test", otlp_sink.url, env={}) is first
    with tracer_provider.get_tracer("t").start_as_current_span("once"):
        pass
    first.force_flush()
    assert [s.name for s in otlp_sink.spans()] == ["once"]


def test_after_shutdown_configure_installs_afresh(otlp_sink, providers, installed) -> None:
    tracer_provider = providers[0]
    first = configure_into(otlp_sink, providers)
    first.shutdown()
    second = configure_into(otlp_sink, providers)
    installed.append(second)
    assert second is not first
    with tracer_provider.get_tracer("t").start_as_current_span("after"):
        pass
    second.force_flush()
    assert [s.name for s in otlp_sink.spans()] == ["after"]


def run_python(code: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_with_no_provider_installed_it_becomes_the_global_one(otlp_sink) -> None:
    out = run_python(f"""
        from opentelemetry import trace, _logs
        from phosphobs.exporters import configure
        handle = configure("ph_test", "{otlp_sink.url}", service_name="checkout")
        assert trace.get_tracer_provider() is handle.tracer_provider
        assert _logs.get_logger_provider() is handle.logger_provider
        with trace.get_tracer("t").start_as_current_span("global"):
            pass
        handle.force_flush()
        print(handle.tracer_provider.resource.attributes["service.name"])
    """)
    assert out.strip() == "checkout"
    assert [s.name for s in otlp_sink.spans()] == ["global"]


def test_an_app_provider_is_joined_not_replaced(otlp_sink) -> None:
    run_python(f"""
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from phosphobs.exporters import configure
        app_provider, app_exporter = TracerProvider(), InMemorySpanExporter()
        app_provider.add_span_processor(SimpleSpanProcessor(app_exporter))
        trace.set_tracer_provider(app_provider)
        handle = configure("ph_test", "{otlp_sink.url}", logs=False)
        assert handle.tracer_provider is app_provider
        with trace.get_tracer("t").start_as_current_span("both"):
            pass
        handle.force_flush()
        assert [s.name for s in app_exporter.get_finished_spans()] == ["both"]
    """)
    assert [s.name for s in otlp_sink.spans()] == ["both"]


class GrpcCapture:
    """A real gRPC TraceService that records requests and their metadata."""

    def __init__(self) -> None:
        import grpc
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

        self.calls: list[tuple[dict[str, str], Any]] = []
        capture = self

        class Service(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request, context):
                capture.calls.append((dict(context.invocation_metadata()), request))
                return trace_service_pb2.ExportTraceServiceResponse()

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()


def test_grpc_sends_spans_with_the_key_as_metadata(providers, installed) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc")
    capture = GrpcCapture()
    try:
        tracer_provider, _ = providers
        handle = configure("ph_test", f"http://127.0.0.1:{capture.port}", protocol="grpc",
                           tracer_provider=tracer_provider, logs=False, env={})
        installed.append(handle)
        with tracer_provider.get_tracer("t").start_as_current_span("over grpc"):
            pass
        assert handle.force_flush()
    finally:
        capture.server.stop(None)
    [(metadata, request)] = capture.calls
    assert metadata["authorization"] == "Bearer ph_test"
    assert request.resource_spans[0].scope_spans[0].spans[0].name == "over grpc"
