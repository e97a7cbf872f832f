"""Schema-driven fuzzing of the served OpenAPI (with its ingest bodies) against a real server: no 5xx, ever.

Bounded: for every operation and every documented request media type, a fixed number of generated requests
of valid shape and of invalid shape (a few hundred in all), sent with a valid API key so they reach the
parsers, validators and queries rather than stopping at authentication.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.support.server import ServerProcess

EXAMPLES = 12  # per operation, media type and mode


@schemathesis.serializer("application/x-protobuf")
def _protobuf(ctx: object, value: object) -> bytes:
    """Binary bodies go out as generated (random bytes: the server must refuse them cleanly)."""
    return value if isinstance(value, bytes) else str(value).encode()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("fuzz")).start()
    yield proc
    proc.stop()


def _operations(server: ServerProcess) -> list:
    schema = schemathesis.openapi.from_url(server.base_url + "/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_makes_the_server_fail(fuzzed: ServerProcess, mode: GenerationMode) -> None:
    headers = {"Authorization": f"Bearer {fuzzed.api_key}"}
    sent: list[tuple[str, int]] = []
    operations = _operations(fuzzed)
    assert len(operations) >= 11
    for operation in operations:
        media_types = operation.get_request_payload_content_types() or [None]
        for media_type in media_types:
            strategy = operation.as_strategy(generation_mode=mode, media_type=media_type)

            @given(case=strategy)
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case) -> None:
                response = case.call_and_validate(base_url=fuzzed.base_url, headers={**(case.headers or {}),
                                                                                       **headers},
                                                  checks=[not_a_server_error], timeout=30)
                sent.append((case.operation.label, response.status_code))

            try:
                run()
            except Unsatisfiable:  # nothing invalid can be sent to this one (e.g. no parameters at all)
                assert mode == GenerationMode.NEGATIVE, operation.label
    assert len(sent) >= 100 and all(status < 500 for _, status in sent)


def test_the_fuzzed_server_stayed_healthy_and_logged_no_traceback(fuzzed: ServerProcess) -> None:
    assert httpx.get(fuzzed.base_url + "/healthz").status_code == 200
    output = "".join(fuzzed.output)
    assert "Traceback" not in output, output[-4000:]


