"""Every ingest edge (native, batch, feedback, OTLP/HTTP, OTLP/gRPC, the dashboard's feedback form)
refuses alike, through the one submit.

A real app over a real SQLite file and its real writer process: while shutting down every edge answers
503 + Retry-After 5; when the database fails a commit (its writer process killed) every edge answers
503 `storage_unavailable` + Retry-After 1, never a 500, and the retry succeeds.
"""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from fastapi import FastAPI
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from phosphobs.api.app import create_app
from phosphobs.api.bootstrap import create_key
from phosphobs.api.settings import Settings
from phosphobs.api.web_auth import hash_password
from phosphobs.storage.clock import now_us
from starlette.testclient import TestClient

from tests.collector.otlp_factories import make_span, traces_request
from tests.support.factories import api_event
from tests.support.server import free_port

PASSWORD = "refusals-test-password"
SHUTTING_DOWN = "server is shutting down"
DB_FAILED = "the database could not commit this request; nothing was stored"


@dataclass
class Answer:
    status: int  # gRPC UNAVAILABLE reads as its HTTP equivalent, 503
    retry_after: str | None
    message: str
    code: str | None  # the JSON error code, where the edge answers JSON


@dataclass
class Server:
    app: FastAPI
    client: TestClient
    key: str
    grpc_port: int
    project_id: str


def _json_answer(response) -> Answer:
    if response.status_code < 300:
        return Answer(response.status_code, None, "", None)
    error = response.json()["error"]
    return Answer(response.status_code, response.headers.get("Retry-After"), error["message"], error["code"])


def _ingest(server: Server) -> Answer:
    return _json_answer(server.client.post("/api/ingest", json=api_event(), headers=_auth(server)))


def _batch(server: Server) -> Answer:
    body = {"events": [api_event(), api_event()]}
    return _json_answer(server.client.post("/api/ingest/batch", json=body, headers=_auth(server)))


def _feedback(server: Server) -> Answer:
    body = {"event_id": str(uuid.uuid4()), "flag": "failure", "comment": "wrong answer"}
    return _json_answer(server.client.post("/api/feedback", json=body, headers=_auth(server)))


def _span_request():
    return traces_request([make_span("chat gpt-4o", {"gen_ai.operation.name": "chat",
                                                     "gen_ai.request.model": "gpt-4o"})])


def _otlp_http(server: Server) -> Answer:
    response = server.client.post("/v1/traces", content=_span_request().SerializeToString(),
                                  headers={**_auth(server), "Content-Type": "application/x-protobuf"})
    if response.status_code < 300:
        return Answer(response.status_code, None, "", None)
    status = status_pb2.Status.FromString(response.content)
    assert status.code == grpc.StatusCode.UNAVAILABLE.value[0]
    return Answer(response.status_code, response.headers.get("Retry-After"), status.message, None)


def _otlp_grpc(server: Server) -> Answer:
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        try:
            stub.Export(_span_request(), metadata=(("authorization", f"Bearer {server.key}"),), timeout=30)
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE, error
            trailers = dict(error.trailing_metadata() or ())
            return Answer(503, trailers.get("retry-after"), error.details(), None)
    return Answer(200, None, "", None)


def _dashboard_feedback(server: Server) -> Answer:
    """The event page's success/failure form, as a logged-in browser posts it."""
    client = server.client
    event_id = str(uuid.uuid4())  # feedback may precede its event
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(f"/p/{server.project_id}/overview").text)
    assert csrf is not None
    response = client.post(f"/p/{server.project_id}/events/{event_id}/feedback",
                           data={"csrf": csrf.group(1), "flag": "failure"}, follow_redirects=False)
    if response.status_code < 400:
        return Answer(response.status_code, None, "", None)
    message = re.search(r"feedback not stored: ([^<]+?); try again", response.text)
    assert message is not None, response.text
    return Answer(response.status_code, None, message.group(1), None)


EDGES: dict[str, Callable[[Server], Answer]] = {
    "native": _ingest, "batch": _batch, "feedback": _feedback, "otlp-http": _otlp_http, "otlp-grpc": _otlp_grpc,
    "dashboard-feedback": _dashboard_feedback,
}
WORKED = (200, 201, 303)


def _auth(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.key}"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    grpc_port = free_port()
    # a long key cache: no key-use stamp is written behind the test's back
    settings = Settings(data_dir=tmp_path, grpc_port=grpc_port, key_cache_seconds=3600, sqlite_writer_process=True)
    app = create_app(settings)
    with TestClient(app) as client:
        storage = app.state.storage
        project = storage.create_project("edges", "free", now_us())
        key, _ = create_key(storage, project, "test")
        storage.set_admin_password("admin", hash_password(PASSWORD), now_us())
        form = client.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        login = client.post("/login", data={"csrf": csrf.group(1), "username": "admin", "password": PASSWORD},
                            follow_redirects=False)
        assert login.status_code == 303, login.text
        yield Server(app, client, key, grpc_port, project.id)


@pytest.mark.parametrize("edge", EDGES)
def test_every_edge_asks_for_a_retry_in_5s_while_shutting_down(server: Server, edge: str) -> None:
    assert EDGES[edge](server).status in WORKED  # the key is resolved and the edge works
    server.app.state.pipeline.stop()
    refused = EDGES[edge](server)
    assert (refused.status, refused.message) == (503, SHUTTING_DOWN)
    assert refused.retry_after == ("5" if edge != "dashboard-feedback" else None)  # a page: a person retries
    assert refused.code in (None, "overloaded")


def _kill_the_writer_process(app: FastAPI) -> None:
    """The SQLite writer process dies: the next commit fails whole, the one after starts a new writer."""
    channel = app.state.storage._writer._channel
    assert channel is not None and channel.process.pid is not None
    os.kill(channel.process.pid, signal.SIGKILL)
    channel.process.join(10)


@pytest.mark.parametrize("edge", EDGES)
def test_every_edge_answers_503_storage_unavailable_when_a_commit_fails(server: Server, edge: str) -> None:
    assert EDGES[edge](server).status in WORKED  # starts the writer process
    while server.app.state.pipeline.queued:  # the key-use stamp queued by that request is committed too
        time.sleep(0.01)
    _kill_the_writer_process(server.app)
    refused = EDGES[edge](server)
    assert (refused.status, refused.message) == (503, DB_FAILED)
    assert refused.retry_after == ("1" if edge != "dashboard-feedback" else None)
    assert refused.code in (None, "storage_unavailable")
    assert EDGES[edge](server).status in WORKED  # transient, as the 503 said: the retry is stored
