"""What one OTLP request may cost, against a real server: items per request (refused whole, 413 /
INVALID_ARGUMENT), decompressed size (a gzip bomb is 413), and a spent rate-limit window (429 before
the request is normalized)."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator

import grpc
import httpx
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tests.collector.otlp_factories import logs_request, make_log, make_span, traces_request
from tests.conftest import ApiProject, new_api_project
from tests.support.server import ServerProcess, free_port

CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}
PROTOBUF = {"content-type": "application/x-protobuf"}


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"PHOSPHOBS_MAX_SPANS_PER_REQUEST": "5", "PHOSPHOBS_MAX_LOG_RECORDS_PER_REQUEST": "3",
           "PHOSPHOBS_MAX_DECOMPRESSED_BYTES": "100000"}
    server = ServerProcess(tmp_path_factory.mktemp("bounded"), env=env, grpc_port=free_port()).start()
    yield server
    server.stop()


def stored(api: ApiProject) -> int:
    return len(api.client.get("/api/events", params={"limit": 100}).json()["data"])


def test_spans_over_the_limit_are_refused_whole(bounded: ServerProcess) -> None:
    api = new_api_project(bounded)
    over = traces_request([make_span("chat", CHAT) for _ in range(6)])
    response = api.client.post("/v1/traces", content=over.SerializeToString(), headers=PROTOBUF)
    assert response.status_code == 413
    assert "6 spans" in status_pb2.Status.FromString(response.content).message
    with grpc.insecure_channel(f"127.0.0.1:{bounded.grpc_port}") as channel, \
            pytest.raises(grpc.RpcError) as refused:
        trace_service_pb2_grpc.TraceServiceStub(channel).Export(
            over, metadata=(("authorization", f"Bearer {api.key}"),), timeout=30)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # permanent: exporters do not resend
    assert stored(api) == 0
    at_limit = traces_request([make_span("chat", CHAT) for _ in range(5)])
    response = api.client.post("/v1/traces", content=at_limit.SerializeToString(), headers=PROTOBUF)
    assert response.status_code == 200
    assert not ExportTraceServiceResponse.FromString(response.content).HasField("partial_success")
    assert stored(api) == 5


def test_log_records_over_the_limit_are_refused_whole(bounded: ServerProcess) -> None:
    api = new_api_project(bounded)
    span = make_span("chat", CHAT)
    records = [make_log(span, "gen_ai.user.message", {"content": f"hi {i}"}) for i in range(4)]
    response = api.client.post("/v1/logs", content=logs_request(records).SerializeToString(), headers=PROTOBUF)
    assert response.status_code == 413
    response = api.client.post("/v1/logs", content=logs_request(records[:3]).SerializeToString(), headers=PROTOBUF)
    assert response.status_code == 200


def test_a_gzip_bomb_is_refused_while_inflating(bounded: ServerProcess) -> None:
    api = new_api_project(bounded)
    bomb = gzip.compress(b"\x00" * 50_000_000)  # 50 MB of zeros in ~50 KB
    response = api.client.post("/v1/traces", content=bomb, headers={**PROTOBUF, "content-encoding": "gzip"})
    assert response.status_code == 413
    assert "100000 bytes" in status_pb2.Status.FromString(response.content).message
    assert httpx.get(bounded.base_url + "/healthz").status_code == 200


def test_a_spent_rate_limit_window_refuses_before_normalizing(bounded: ServerProcess) -> None:
    api = new_api_project(bounded, rate_limit=2)
    into_window = time.time() % 60  # rate windows are whole minutes: do not straddle two
    if into_window > 45:
        time.sleep(61 - into_window)
    bad_ids = traces_request([make_span("chat", CHAT, span_id=b"\x01\x02")]).SerializeToString()
    response = api.client.post("/v1/traces", content=bad_ids, headers=PROTOBUF)
    assert response.status_code == 200  # normalized: the span is rejected as partial success, nothing stored
    assert ExportTraceServiceResponse.FromString(response.content).partial_success.rejected_spans == 1
    three = traces_request([make_span("chat", CHAT) for _ in range(3)]).SerializeToString()
    assert api.client.post("/v1/traces", content=three, headers=PROTOBUF).status_code == 429  # at commit
    two = traces_request([make_span("chat", CHAT) for _ in range(2)]).SerializeToString()
    assert api.client.post("/v1/traces", content=two, headers=PROTOBUF).status_code == 200  # spends the window
    response = api.client.post("/v1/traces", content=bad_ids, headers=PROTOBUF)
    assert response.status_code == 429  # now refused before normalizing: the window is known to be spent
    assert int(response.headers["retry-after"]) >= 1
    native = api.client.post("/api/ingest/batch", json={"events": [{"input": "a", "output": "b"}] * 3})
    assert native.status_code == 429
    assert stored(api) == 2
