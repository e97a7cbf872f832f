"""End to end: real captured payloads, one span per export request, sent in reverse over HTTP and gRPC
alternately, still give one event per real call with the fake provider's texts and tokens (issue 13)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.collector.otlp_factories import BASE_NS, logs_request, make_log, make_span, traces_request
from tests.interop.captures import CAPTURES_DIR as CAPTURES  # the interop suite's captures (one copy)
from tests.support.server import ServerProcess, free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("calls"), grpc_port=free_port()).start()
    yield proc
    proc.stop()


def one_span_each(request: ExportTraceServiceRequest, salt: str) -> list[ExportTraceServiceRequest]:
    """Every span in its own request (resource and scope kept), trace ids made unique to this test."""
    found = []
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                copy = Span()
                copy.CopyFrom(span)
                copy.trace_id = hashlib.sha256(salt.encode() + span.trace_id).digest()[:16]
                scoped = ScopeSpans(scope=scope_spans.scope, spans=[copy])
                found.append(ExportTraceServiceRequest(resource_spans=[ResourceSpans(
                    resource=resource_spans.resource, scope_spans=[scoped])]))
    return found


def send(server: ServerProcess, requests: list[ExportTraceServiceRequest | ExportLogsServiceRequest],
         *, grpc_every_other: bool) -> None:
    assert server.api_key
    auth = {"authorization": f"Bearer {server.api_key}"}
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        for n, request in enumerate(requests):
            if grpc_every_other and n % 2 and isinstance(request, ExportTraceServiceRequest):
                stub.Export(request, metadata=tuple(auth.items()))
                continue
            signal = "traces" if isinstance(request, ExportTraceServiceRequest) else "logs"
            response = httpx.post(f"{server.base_url}/v1/{signal}", content=request.SerializeToString(),
                                  headers={**auth, "content-type": "application/x-protobuf"})
            assert response.status_code == 200, response.text


def trace_events(server: ServerProcess, trace_ids: set[str]) -> list[dict[str, Any]]:
    response = httpx.get(f"{server.base_url}/api/events", params={"limit": 100},
                         headers={"authorization": f"Bearer {server.api_key}"})
    response.raise_for_status()
    return [e for e in response.json()["data"] if e["trace_id"] in trace_ids and e["kind"] == "llm"]


@pytest.mark.parametrize("library", ["anthropic-traceloop", "anthropic-instrumentation", "openinference-anthropic"])
def test_sdk_spans_beside_library_spans_give_one_event_per_call(server: ServerProcess, library: str) -> None:
    folder = CAPTURES / library
    truth = json.loads((folder / "truth.json").read_text())
    requests: list[ExportTraceServiceRequest] = []
    for body in sorted(folder.glob("*_traces.bin")):
        requests += one_span_each(ExportTraceServiceRequest.FromString(body.read_bytes()), library)
    requests.reverse()
    send(server, requests, grpc_every_other=True)  # type: ignore[arg-type]
    traces = {r.resource_spans[0].scope_spans[0].spans[0].trace_id.hex() for r in requests}
    events = trace_events(server, traces)
    assert len(events) == len(truth["calls"]), [(e["input"], e["output"]) for e in events]
    for call in truth["calls"]:
        [event] = [e for e in events if e["input"] == call["last_user_text"]]
        meta = event["metadata"]
        assert (event["session_id"], meta["user_id"]) == (truth["session_id"], truth["user_id"])
        if call["status"] != 200:
            assert (event["flag"], event["status"]) == ("failure", "error")
            continue
        assert event["output"] == call["output_text"]
        assert (meta["token_count_input"], meta["token_count_output"]) == (call["input_tokens"], call["output_tokens"])
        assert meta["model"] == call["response_model"] and meta["cost_cents"] is not None


def test_traceloop_events_mode_capture_logs_first_and_spans_one_by_one(server: ServerProcess) -> None:
    """The real Traceloop events-mode capture: content only in log records, the streamed answer logged on
    the workflow span; logs sent first, then every span alone, in reverse."""
    folder = CAPTURES / "traceloop-openai-events"
    truth = json.loads((folder / "truth.json").read_text())
    salt = "events-mode"
    logs: list[ExportLogsServiceRequest] = []
    for body in sorted(folder.glob("*_logs.bin")):
        request = ExportLogsServiceRequest.FromString(body.read_bytes())
        for resource_logs in request.resource_logs:
            for scope_logs in resource_logs.scope_logs:
                for record in scope_logs.log_records:
                    if record.trace_id:
                        record.trace_id = hashlib.sha256(salt.encode() + record.trace_id).digest()[:16]
        logs.append(request)
    spans: list[ExportTraceServiceRequest] = []
    for body in sorted(folder.glob("*_traces.bin")):
        spans += one_span_each(ExportTraceServiceRequest.FromString(body.read_bytes()), salt)
    send(server, [*reversed(logs), *reversed(spans)], grpc_every_other=False)  # type: ignore[list-item]
    events = trace_events(server, {r.resource_spans[0].scope_spans[0].spans[0].trace_id.hex() for r in spans})
    assert sorted((e["input"], e["output"]) for e in events) == sorted(
        (c["last_user_text"], c["output_text"] or "") for c in truth["calls"])
    for call in truth["calls"]:
        [event] = [e for e in events if e["input"] == call["last_user_text"]]
        assert event["session_id"] == truth["session_id"]
        if call["status"] == 200:
            assert event["metadata"]["token_count_output"] == call["output_tokens"]


def test_traceloop_events_mode_stray_choice_lands_on_its_call_logs_first(server: ServerProcess) -> None:
    workflow = make_span("chat.workflow", {"traceloop.span.kind": "workflow",
                                           "traceloop.association.properties.session_id": "s-stray"},
                         start_ns=BASE_NS, duration_ms=3000, kind=Span.SPAN_KIND_INTERNAL)
    llm = make_span("anthropic.chat", {
        "gen_ai.provider.name": "anthropic", "gen_ai.operation.name": "chat", "gen_ai.is_streaming": True,
        "gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.usage.input_tokens": 16,
        "gen_ai.usage.output_tokens": 8}, parent=workflow, start_ns=BASE_NS + 5_000_000, duration_ms=800)
    question = make_log(llm, "gen_ai.user.message", {"content": "Name three rivers in France."},
                        time_ns=BASE_NS + 6_000_000)
    choice = make_log(workflow, "gen_ai.choice", {"index": 0, "finish_reason": "end_turn",
                                                  "message": {"content": "The Seine, the Loire and the Rhône."}},
                      time_ns=BASE_NS + 806_000_000)
    send(server, [logs_request([choice]), logs_request([question]), traces_request([llm]),
                  traces_request([workflow])], grpc_every_other=False)
    deadline = time.monotonic() + 10
    events = trace_events(server, {llm.trace_id.hex()})
    while not events and time.monotonic() < deadline:  # a 200 means on disk; this only guards the read path
        time.sleep(0.1)
        events = trace_events(server, {llm.trace_id.hex()})
    assert [(e["input"], e["output"], e["session_id"]) for e in events] == [
        ("Name three rivers in France.", "The Seine, the Loire and the Rhône.", "s-stray")]
