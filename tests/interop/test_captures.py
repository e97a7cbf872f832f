"""The recorded interop captures replayed into a real server, in order, reversed, and reversed with every
other request over OTLP/gRPC: fast regression tests for what the real libraries send (refresh them with
`pytest tests/interop/test_live.py --interop --refresh-captures`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import new_api_project
from tests.interop.captures import capture_names, load_capture
from tests.interop.libraries import BY_NAME, LIBRARIES
from tests.interop.replay import replay, replay_alternating, settled_problems
from tests.support.server import ServerProcess, free_port

NAMES = capture_names()


@pytest.fixture(scope="module")
def grpc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with its OTLP/gRPC port open (the shared one has gRPC off)."""
    process = ServerProcess(tmp_path_factory.mktemp("grpc-server"), grpc_port=free_port()).start()
    yield process
    process.stop()


def mark_open(name: str, request: pytest.FixtureRequest) -> None:
    open_issue = BY_NAME[name].open_issue if name in BY_NAME else ""
    if open_issue:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"open: {open_issue}"))


def test_every_library_has_a_capture() -> None:
    assert {library.name for library in LIBRARIES} == set(NAMES)


@pytest.mark.parametrize("order", ["as-sent", "reversed"])
@pytest.mark.parametrize("name", NAMES)
def test_a_replayed_capture_stores_one_true_event_per_call(name: str, order: str, server: ServerProcess,
                                                          request: pytest.FixtureRequest) -> None:
    mark_open(name, request)
    capture = load_capture(name)
    project = new_api_project(server)
    requests = capture.requests if order == "as-sent" else list(reversed(capture.requests))
    replay(server.base_url, project.key, requests)
    found = settled_problems(server.base_url, project.key, capture.truth)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("name", NAMES)
def test_a_capture_split_over_http_and_grpc_stores_the_same_truth(name: str, grpc_server: ServerProcess,
                                                                  request: pytest.FixtureRequest) -> None:
    mark_open(name, request)
    capture = load_capture(name)
    project = new_api_project(grpc_server)
    replay_alternating(grpc_server.base_url, grpc_server.grpc_port, project.key, list(reversed(capture.requests)))
    found = settled_problems(grpc_server.base_url, project.key, capture.truth)
    assert not found, "\n".join(found)
