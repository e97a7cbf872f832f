"""`gen_ai.evaluation.result` from the real OpenTelemetry SDK (log records and span events), in both
orders relative to the evaluated span, parented to it or matched by `gen_ai.response.id`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from phosphobs.collector.otlp.evaluations import EVALUATION_EVENT
from phosphobs.storage.models import otlp_event_id

from tests.api.detection.helpers import wait_for
from tests.support.server import ServerProcess


class Sdk:
    def __init__(self, server: ServerProcess) -> None:
        headers = {"Authorization": f"Bearer {server.api_key}"}
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(
            OTLPSpanExporter(endpoint=f"{server.base_url}/v1/traces", headers=headers)))
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(
            OTLPLogExporter(endpoint=f"{server.base_url}/v1/logs", headers=headers)))
        self.tracer = self.tracer_provider.get_tracer("app")
        self.logger = self.logger_provider.get_logger("evaluator")
        self.client = httpx.Client(base_url=server.base_url, headers=headers)

    def close(self) -> None:
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
        self.client.close()


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sdk]:
    proc = ServerProcess(tmp_path_factory.mktemp("evals"), env={"PHOSPHOBS_DETECTION_SETTLE_SECONDS": "0"}).start()
    client = Sdk(proc)
    yield client
    client.close()
    proc.stop()


def chat_attributes(question: str, answer: str, response_id: str) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.id": response_id,
        "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": question}]}]),
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": answer}],
                                               "finish_reason": "stop"}]),
    }


def evaluation_attributes(label: str, response_id: str | None = None) -> dict[str, Any]:
    attrs: dict[str, Any] = {"gen_ai.evaluation.name": "relevance", "gen_ai.evaluation.score.value": 0.25,
                             "gen_ai.evaluation.score.label": label,
                             "gen_ai.evaluation.explanation": "the answer ignores the question"}
    if response_id:
        attrs["gen_ai.response.id"] = response_id
    return attrs


def settled(sdk: Sdk, event_id: str, source: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        got = sdk.client.get(f"/api/events/{event_id}")
        body = got.json() if got.status_code == 200 else None
        return body if body and body["evaluations"] and body["flag_source"] == source else None

    return wait_for(probe, what=f"the evaluation of {event_id}")


def check(body: dict[str, Any], label: str, flag: str) -> None:
    assert body["evaluations"] == [{"name": "relevance", "score": 0.25, "label": label, "source": "otel",
                                    "explanation": "the answer ignores the question", "scope": "event",
                                    "human": False}]
    assert (body["flag"], body["flag_source"]) == (flag, "otel")


def _event_id(span: trace.Span) -> str:
    ctx = span.get_span_context()
    return otlp_event_id(f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}")


@pytest.mark.parametrize("evaluation_first", [False, True], ids=["span-then-log", "log-then-span"])
def test_log_record_parented_to_the_evaluated_span(sdk: Sdk, evaluation_first: bool) -> None:
    span = sdk.tracer.start_span("chat gpt-4o-mini", attributes=chat_attributes(
        "What is the capital of France?", "Bananas are yellow.", f"resp-{uuid.uuid4().hex}"))
    event_id = _event_id(span)

    def emit() -> None:
        sdk.logger.emit(LogRecord(context=trace.set_span_in_context(span), event_name=EVALUATION_EVENT,
                                  attributes=evaluation_attributes("Fail")))

    if evaluation_first:
        emit()
        span.end()
    else:
        span.end()
        wait_for(lambda: sdk.client.get(f"/api/events/{event_id}").status_code == 200, what="the span")
        emit()
    check(settled(sdk, event_id, "otel"), "Fail", "failure")


@pytest.mark.parametrize("evaluation_first", [False, True], ids=["span-then-log", "log-then-span"])
def test_log_record_matched_by_response_id(sdk: Sdk, evaluation_first: bool) -> None:
    response_id = f"chatcmpl-{uuid.uuid4().hex}"
    span = sdk.tracer.start_span("chat gpt-4o-mini", attributes=chat_attributes("2+2?", "4", response_id))
    event_id = _event_id(span)

    def emit() -> None:  # no span context at all: only the response id ties it to the call
        sdk.logger.emit(LogRecord(event_name=EVALUATION_EVENT, attributes=evaluation_attributes("correct",
                                                                                                 response_id)))

    if evaluation_first:
        emit()
        span.end()
    else:
        span.end()
        wait_for(lambda: sdk.client.get(f"/api/events/{event_id}").json().get("detections"), what="detection")
        emit()
    check(settled(sdk, event_id, "otel"), "correct", "success")


def test_span_event_on_the_evaluated_span(sdk: Sdk) -> None:
    span = sdk.tracer.start_span("chat gpt-4o-mini", attributes=chat_attributes(
        "Name a color", "Blue.", f"resp-{uuid.uuid4().hex}"))
    span.add_event(EVALUATION_EVENT, attributes=evaluation_attributes("pass"))
    span.end()
    check(settled(sdk, _event_id(span), "otel"), "pass", "success")


@pytest.mark.parametrize("evaluation_first", [True, False], ids=["evaluator-then-span", "span-then-evaluator"])
def test_span_event_on_an_evaluator_span(sdk: Sdk, evaluation_first: bool) -> None:
    """An evaluator span (not a call itself) carries the event: it evaluates its parent, the call; or,
    in another trace, the call with the same response id."""
    response_id = f"resp-{uuid.uuid4().hex}"
    call = sdk.tracer.start_span("chat gpt-4o-mini", attributes=chat_attributes("Name a fruit", "A car.", response_id))
    event_id = _event_id(call)
    if evaluation_first:  # the child evaluator ends (and is exported) before its parent call
        with sdk.tracer.start_as_current_span("evaluate relevance", context=trace.set_span_in_context(call)) as ev:
            ev.add_event(EVALUATION_EVENT, attributes=evaluation_attributes("FALSE"))
        call.end()
    else:
        call.end()
        wait_for(lambda: sdk.client.get(f"/api/events/{event_id}").status_code == 200, what="the call")
        with sdk.tracer.start_as_current_span("offline eval") as ev:  # a separate trace: matched by response id
            ev.add_event(EVALUATION_EVENT, attributes=evaluation_attributes("FALSE", response_id))
    check(settled(sdk, event_id, "otel"), "FALSE", "failure")


def test_a_human_flag_beats_the_evaluation(sdk: Sdk) -> None:
    span = sdk.tracer.start_span("chat gpt-4o-mini", attributes=chat_attributes(
        "Capital of Italy?", "Rome.", f"resp-{uuid.uuid4().hex}"))
    span.add_event(EVALUATION_EVENT, attributes=evaluation_attributes("fail"))
    span.end()
    event_id = _event_id(span)
    settled(sdk, event_id, "otel")
    assert sdk.client.post("/api/feedback", json={"event_id": event_id, "flag": "success"}).status_code in (200, 201)
    body = sdk.client.get(f"/api/events/{event_id}").json()
    assert (body["flag"], body["flag_source"]) == ("success", "user")
    assert body["evaluations"][0]["label"] == "fail"


def test_an_unattached_evaluation_is_rejected_alone_and_retries_are_stable() -> None:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from phosphobs.collector.otlp.normalize import normalize_logs

    def record(**attrs: Any) -> dict[str, Any]:
        return {"event_name": EVALUATION_EVENT, "time_unix_nano": 5_000,
                "attributes": [KeyValue(key=k, value=AnyValue(string_value=str(v))) for k, v in attrs.items()]}

    request = ExportLogsServiceRequest()
    logs = request.resource_logs.add().scope_logs.add().log_records
    logs.add(**record(**{"gen_ai.evaluation.name": "x", "gen_ai.evaluation.score.label": "pass"}))
    logs.add(**record(**{"gen_ai.evaluation.score.label": "pass", "gen_ai.evaluation.score.value": "nan",
                         "gen_ai.response.id": "r-1"}))
    batch = normalize_logs(request, 0)
    assert batch.rejected == 1 and "gen_ai.response.id" in batch.error_message()
    [found] = batch.evaluations
    assert (found.response_id, found.event_id, found.label, found.score, found.ts_us) == ("r-1", None, "pass", None, 5)
    assert normalize_logs(request, 99).evaluations == [found]  # a retried export is the same record
