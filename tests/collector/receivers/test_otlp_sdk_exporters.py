"""The real OpenTelemetry SDK exporters (OTLP/HTTP and OTLP/gRPC) sending to a running server."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from tests.support.server import ServerProcess, free_port


@pytest.fixture(scope="module")
def grpc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("grpc"), grpc_port=free_port()).start()
    yield proc
    proc.stop()


def emit_conversation(provider: TracerProvider, session: str) -> None:
    tracer = provider.get_tracer("test-app")
    with tracer.start_as_current_span("agent run", attributes={"session.id": session, "user.id": "u-7"}):
        with tracer.start_as_current_span("chat gpt-4o-mini") as span:
            span.set_attributes({
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                "gen_ai.usage.input_tokens": 21, "gen_ai.usage.output_tokens": 8,
                "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text",
                                                      "content": "What is the capital of France?"}]}]),
                "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [{"type": "text",
                                                       "content": "Paris."}], "finish_reason": "stop"}]),
            })
        with tracer.start_as_current_span("chat gpt-4o-mini") as span:
            span.set_attributes({"gen_ai.operation.name": "chat", "gen_ai.system": "openai",
                                 "gen_ai.request.model": "gpt-4o-mini"})
            span.set_status(Status(StatusCode.ERROR, "boom"))
            span.set_attribute("error.type", "InternalServerError")
    provider.shutdown()


def wait_for_session(server: ServerProcess, session: str, count: int) -> dict:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got = httpx.get(f"{server.base_url}/api/sessions/{session}", headers=headers)
        if got.status_code == 200 and got.json()["event_count"] == count:
            return got.json()
        time.sleep(0.1)
    raise AssertionError(f"session {session} did not arrive")


def check(session: dict) -> None:
    ok, failed = session["events"]
    assert (ok["input"], ok["output"], ok["metadata"]["token_count_input"]) == (
        "What is the capital of France?", "Paris.", 21)
    assert ok["metadata"]["user_id"] == "u-7" and ok["metadata"]["resource"]["service.name"] == "sdk-test"
    assert (failed["flag"], failed["error_type"]) == ("failure", "InternalServerError")


def test_http_protobuf_exporter(grpc_server: ServerProcess) -> None:
    exporter = HttpSpanExporter(endpoint=f"{grpc_server.base_url}/v1/traces",
                                headers={"Authorization": f"Bearer {grpc_server.api_key}"})
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-test"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    emit_conversation(provider, "sdk-http")
    check(wait_for_session(grpc_server, "sdk-http", 2))


@pytest.mark.parametrize("scheme", ["Bearer", "Basic"])
def test_grpc_exporter(grpc_server: ServerProcess, scheme: str) -> None:
    """The key as Bearer, or as the Basic password (a Langfuse-style set-up moved to gRPC), as on OTLP/HTTP."""
    basic = base64.b64encode(f"pk-lf-any:{grpc_server.api_key}".encode()).decode()
    credentials = grpc_server.api_key if scheme == "Bearer" else basic
    exporter = GrpcSpanExporter(endpoint=f"127.0.0.1:{grpc_server.grpc_port}", insecure=True,
                                headers=(("authorization", f"{scheme} {credentials}"),))
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-test"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    session = f"sdk-grpc-{scheme.lower()}"
    emit_conversation(provider, session)
    check(wait_for_session(grpc_server, session, 2))


def test_grpc_rejects_a_bad_key(grpc_server: ServerProcess) -> None:
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{grpc_server.grpc_port}") as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as err:
            stub.Export(trace_service_pb2.ExportTraceServiceRequest(),
                        metadata=(("authorization", "Bearer ph_" + "x" * 43),))
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.RpcError) as err:  # malformed Basic: refused like any bad key, not INTERNAL
            stub.Export(trace_service_pb2.ExportTraceServiceRequest(), metadata=(("authorization", "Basic abc"),))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    metrics = httpx.get(grpc_server.base_url + "/metrics", headers=grpc_server.metrics_headers).text
    assert 'phosphobs_ingest_rejections_total{reason="auth"} 2.0' in metrics


def test_grpc_port_is_freed_on_stop_and_rebound_on_start(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, grpc_port=free_port()).start()
    server.stop()
    server.start()  # same HTTP and gRPC ports again
    server.stop()


def test_grpc_throttling_says_when_to_retry_as_retry_info(grpc_server: ServerProcess) -> None:
    import grpc
    from google.rpc import error_details_pb2, status_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    from tests.collector.otlp_factories import make_span, traces_request
    from tests.conftest import new_api_project

    api = new_api_project(grpc_server, rate_limit=1)
    spans = [make_span(f"chat {n}", {"gen_ai.operation.name": "chat"}) for n in range(3)]  # 3 > 1 allowed
    with grpc.insecure_channel(f"127.0.0.1:{grpc_server.grpc_port}") as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as err:
            stub.Export(traces_request(spans), metadata=(("authorization", f"Bearer {api.key}"),))
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    trailers = dict(err.value.trailing_metadata())
    seconds = int(trailers["retry-after"])
    status = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
    assert status.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0] and "rate limit" in status.message
    [detail] = status.details
    info = error_details_pb2.RetryInfo()
    assert detail.Unpack(info) and info.retry_delay.seconds == seconds >= 1
    alone = error_details_pb2.RetryInfo.FromString(trailers["google.rpc.retryinfo-bin"])
    assert alone.retry_delay.seconds == seconds
