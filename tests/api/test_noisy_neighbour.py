"""Noisy neighbour: project B sends poison over native JSON, OTLP/HTTP (protobuf and JSON) and OTLP/gRPC
while project A ingests on the same server. A gets no 5xx and loses nothing; B gets no 5xx either
(its poison is stored cleaned or refused with a permanent 4xx). On the three write paths: SQLite with
its writer process, SQLite with the writer thread, Postgres."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from phosphobs.api.bootstrap import create_key, now_us
from phosphobs.storage.open import open_storage
from phosphobs.storage.protocol import EventQuery

from tests.collector.otlp_factories import make_span, traces_request
from tests.support import postgres
from tests.support.server import ServerProcess, free_port

ROUNDS = 6
CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 3}


@dataclass
class Site:
    server: ServerProcess
    url: str
    grpc_target: str


@pytest.fixture(params=["sqlite-process", "sqlite-thread", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    env = {"PHOSPHOBS_LOG_LEVEL": "warning"}
    if request.param != "postgres":
        env["PHOSPHOBS_SQLITE_WRITER_PROCESS"] = str(request.param == "sqlite-process").lower()
    with postgres.fresh_database(request.param, "phosphobs_noisy", tmp_path) as url:
        server = ServerProcess(tmp_path, args=["--database-url", url], env=env, grpc_port=free_port()).start(timeout=60)
        try:
            yield Site(server, url, f"127.0.0.1:{server.grpc_port}")
        finally:
            server.stop()


def _project(url: str) -> tuple[str, str]:
    store = open_storage(url)
    try:
        project = store.create_project(f"n-{uuid.uuid4().hex[:8]}", "free", now_us())
        store.set_project_plan(project.id, "free", 0)
        return project.id, create_key(store, project, "test")[0]
    finally:
        store.close()


def _nested_json(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def _nested_kvlist(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"k": value}
    return value


def native_poison() -> list[tuple[str, bytes, set[int]]]:
    """(path, body, acceptable statuses)."""
    deep = _nested_json(300)

    def event(text: str, metadata: str) -> str:
        return '{"input": "' + text + '", "output": "b", "metadata": ' + metadata + "}"

    return [
        ("/api/ingest", event("big", '{"x": 100000000000000000000000000000}').encode(), {201}),
        ("/api/ingest", event("nan", '{"x": NaN, "y": -Infinity, "z": [1e999]}').encode(), {201}),
        ("/api/ingest", event("deep", '{"d": ' + deep + "}").encode(), {201}),
        ("/api/ingest", event("nul", '{"k\\u0000ey": "v\\u0000", "tags": ["t"]}').encode(), {201}),
        ("/api/ingest", event("lone \\ud800 surrogate", '{"\\udc00": "\\ud800"}').encode(), {201}),
        ("/api/ingest", event("nul label", '{"user_id": "u\\u0000", "model": "m\\u0000"}').encode(), {422}),
        ("/api/ingest/batch", ('{"events": [' + event("b1", '{"x": 1e400}') + ", "
                               + event("b2", '{"y": -99999999999999999999999}') + "]}").encode(),
         {201}),
        ("/api/feedback", json.dumps({"event_id": str(uuid.uuid4()), "flag": "failure",
                                      "comment": "bad\u0000"}).encode(), {422}),
        ("/api/feedback", b'{"event_id": "%s", "flag": "success", "comment": "x\\ud800y"}'
         % str(uuid.uuid4()).encode(), {201}),
    ]


def poison_spans() -> ExportTraceServiceRequest:
    attrs = [
        {**CHAT, "x.deep_json": _nested_json(300), "x.numbers": '{"n": 1e999, "i": 123456789012345678901234567890}'},
        {**CHAT, "gen_ai.request.model": "gpt\x00-4o", "key\x00with_nul": "value\x00", "session.id": "s\x00"},
        {**CHAT, "x.kvlist": _nested_kvlist(25), "x.nan": float("nan"), "x.inf": float("-inf"),
         "x.max": 2**63 - 1, "gen_ai.usage.output_tokens": 2**62},
    ]
    return traces_request([make_span("chat poison", a) for a in attrs])


def otlp_json_poison() -> bytes:
    trace_id, span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    attrs = [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
             {"key": "gen_ai.request.model", "value": {"stringValue": "m\\ud800"}},
             {"key": "x.nan", "value": {"doubleValue": "NaN"}},
             {"key": "x.inf", "value": {"doubleValue": "Infinity"}},
             {"key": "x.big", "value": {"intValue": "9223372036854775807"}},
             {"key": "x.huge", "value": {"intValue": "123456789012345678901234567890"}},
             {"key": "x.deep", "value": {"stringValue": _nested_json(300)}}]
    span = {"traceId": trace_id, "spanId": span_id, "name": "chat json poison", "startTimeUnixNano": "1",
            "endTimeUnixNano": "2", "attributes": attrs}
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    return json.dumps(body).replace("\\\\ud800", "\\ud800").encode()


def invalid_utf8_protobuf() -> bytes:
    """A string field holding an encoded lone surrogate: protobuf refuses it (400, never 5xx)."""
    raw = traces_request([make_span("chat SURROGATE", CHAT)]).SerializeToString()
    return raw.replace(b"SURROGATE", b"\xed\xa0\x80SURRO")


def run_b(site: Site, key: str, stop: threading.Event, statuses: list[tuple[str, int]]) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    protobuf = poison_spans().SerializeToString()
    with httpx.Client(base_url=site.server.base_url, headers=headers, timeout=30) as client, \
            grpc.insecure_channel(site.grpc_target) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        while not stop.is_set():
            for path, body, allowed in native_poison():
                response = client.post(path, content=body, headers={"content-type": "application/json"})
                status = response.status_code
                statuses.append((path, status) if status in allowed
                                else (f"{path} unexpected: {response.text[:200]}", status))
            for name, body, ctype, expected in (
                    ("otlp protobuf", protobuf, "application/x-protobuf", 200),
                    ("otlp json", otlp_json_poison(), "application/json", 200),
                    ("otlp bad utf-8", invalid_utf8_protobuf(), "application/x-protobuf", 400)):
                status = client.post("/v1/traces", content=body, headers={"content-type": ctype}).status_code
                statuses.append((name, status) if status == expected else (f"{name} unexpected", status))
            try:
                stub.Export(poison_spans(), metadata=(("authorization", f"Bearer {key}"),), timeout=30)
                statuses.append(("grpc", 200))
            except grpc.RpcError as exc:
                statuses.append(("grpc unexpected " + exc.code().name, 500 if exc.code() in _GRPC_5XX else 400))


_GRPC_5XX = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}


def run_a(site: Site, key: str, worker: int) -> tuple[int, list[int]]:
    """One of A's clients: native batches, OTLP/HTTP and gRPC exports of LLM spans; returns (sent, statuses)."""
    headers = {"Authorization": f"Bearer {key}"}
    sent, statuses = 0, []
    with httpx.Client(base_url=site.server.base_url, headers=headers, timeout=60) as client, \
            grpc.insecure_channel(site.grpc_target) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        for n in range(ROUNDS):
            batch = {"events": [{"input": f"a{worker}-{n}-{i}", "output": "ok"} for i in range(5)]}
            statuses.append(client.post("/api/ingest/batch", json=batch).status_code)
            spans = traces_request([make_span("chat a", CHAT) for _ in range(3)]).SerializeToString()
            statuses.append(client.post("/v1/traces", content=spans,
                                        headers={"content-type": "application/x-protobuf"}).status_code)
            try:
                stub.Export(traces_request([make_span("chat a", CHAT) for _ in range(2)]),
                            metadata=(("authorization", f"Bearer {key}"),), timeout=60)
                statuses.append(200)
            except grpc.RpcError as exc:
                statuses.append(500 if exc.code() in _GRPC_5XX else 400)
            sent += 5 + 3 + 2
    return sent, statuses


def test_poison_from_one_project_costs_another_nothing(site: Site) -> None:
    a_id, a_key = _project(site.url)
    b_id, b_key = _project(site.url)
    stop = threading.Event()
    b_statuses: list[tuple[str, int]] = []
    poisoners = [threading.Thread(target=run_b, args=(site, b_key, stop, b_statuses)) for _ in range(2)]
    for poisoner in poisoners:
        poisoner.start()
    try:
        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(lambda w: run_a(site, a_key, w), range(6)))
    finally:
        stop.set()
        for poisoner in poisoners:
            poisoner.join(120)
    a_statuses = [s for _, statuses in results for s in statuses]
    assert all(200 <= s < 300 for s in a_statuses), sorted(set(a_statuses))
    store = open_storage(site.url)
    try:
        stored = store.list_events(a_id, EventQuery(limit=10_000)).items
        b_stored = store.list_events(b_id, EventQuery(limit=10_000)).items
    finally:
        store.close()
    assert len(stored) == sum(sent for sent, _ in results)
    assert b_statuses and not [entry for entry in b_statuses if entry[1] >= 500 or "unexpected" in entry[0]]
    assert b_stored  # the poison that can be stored was (cleaned), not refused
    listed = httpx.get(site.server.base_url + "/api/events?limit=100", headers={"Authorization": f"Bearer {b_key}"})
    assert listed.status_code == 200
    assert "Traceback" not in "".join(site.server.output)
