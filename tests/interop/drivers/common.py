"""Shared by every Python driver (runs inside the library's own venv, not the test venv).

The scenario is the same for every library: two chat turns, one streamed call, one failing call (the fake
provider answers HTTP 500 to `FAIL`), and for agent libraries one tool call. Endpoints and ids come from the
environment the suite sets: INTEROP_OPENAI_URL, INTEROP_ANTHROPIC_URL, INTEROP_SESSION_ID, INTEROP_USER_ID,
OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_HEADERS.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

SYSTEM = "You are a concise geography assistant."
TURN1 = "What is the capital of France?"
ANSWER1 = "The capital of France is Paris."
TURN2 = "Roughly how many people live there?"
STREAM = "Name three rivers in France."
FAIL = "FAIL_PLEASE: this call must fail."
TOOL_QUESTION = "What is the weather in Paris right now?"
OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-sonnet-4-5"

OPENAI_URL = os.environ.get("INTEROP_OPENAI_URL", "")
ANTHROPIC_URL = os.environ.get("INTEROP_ANTHROPIC_URL", "")
SESSION_ID = os.environ.get("INTEROP_SESSION_ID", "")
USER_ID = os.environ.get("INTEROP_USER_ID", "")


def get_weather(city: str) -> str:
    """The agent scenarios' one tool."""
    return f"Sunny and 21 C in {city}"


WEATHER_TOOL_OPENAI = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def history_openai() -> list[dict[str, Any]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": TURN1}]


def second_turn_openai() -> list[dict[str, Any]]:
    return [*history_openai(), {"role": "assistant", "content": ANSWER1}, {"role": "user", "content": TURN2}]


def openai_conversation(client: Any) -> None:
    """The scenario's four calls through an OpenAI Python SDK client (however it is wrapped or instrumented)."""
    client.chat.completions.create(model=OPENAI_MODEL, messages=history_openai(), temperature=0.2, max_tokens=128)
    client.chat.completions.create(model=OPENAI_MODEL, messages=second_turn_openai(), temperature=0.2,
                                   max_tokens=128)
    stream = client.chat.completions.create(
        model=OPENAI_MODEL, stream=True, stream_options={"include_usage": True},
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": STREAM}])
    for _ in stream:
        pass
    expect_failure(lambda: client.chat.completions.create(
        model=OPENAI_MODEL, messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": FAIL}]))


def setup_otel(service_name: str, logs: bool = True) -> Callable[[], None]:
    """The plain OpenTelemetry SDK set-up an app would write: OTLP/HTTP protobuf for traces (and logs).

    Returns the function that flushes and shuts everything down before the process exits.
    """
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tracer_provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(tracer_provider)
    closers: list[Callable[[], Any]] = [tracer_provider.shutdown]
    if logs:
        closers.append(setup_otel_logs(service_name))
    return lambda: [close() for close in closers] and None


def setup_otel_logs(service_name: str) -> Callable[[], None]:
    """A global LoggerProvider (and, where the SDK has one, EventLoggerProvider) exporting over OTLP/HTTP:
    GenAI content sent as log events goes nowhere without it."""
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.resources import Resource

    logger_provider = LoggerProvider(resource=Resource.create({"service.name": service_name}))
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    set_logger_provider(logger_provider)
    try:  # the Events API (older GenAI instrumentations emit through it); gone from newer SDKs
        from opentelemetry._events import set_event_logger_provider
        from opentelemetry.sdk._events import EventLoggerProvider

        set_event_logger_provider(EventLoggerProvider(logger_provider))
    except ImportError:
        pass
    return logger_provider.shutdown


@contextmanager
def conversation(name: str = "conversation") -> Iterator[Any]:
    """A parent span carrying the session and user the way plain OpenTelemetry does (`session.id`, `user.id`)."""
    from opentelemetry import trace

    tracer = trace.get_tracer("interop.app")
    with tracer.start_as_current_span(name, attributes={"session.id": SESSION_ID, "user.id": USER_ID}) as span:
        yield span


def expect_failure(call: Callable[[], Any]) -> None:
    """The failing call must raise (the provider answered 500): the app catches it and goes on."""
    try:
        call()
    except Exception as error:
        print(f"expected failure: {type(error).__name__}")
        return
    raise AssertionError("the failing call did not fail")


async def expect_failure_async(call: Callable[[], Awaitable[Any]]) -> None:
    """`expect_failure` for an agent run awaited inside the scenario's event loop."""
    try:
        await call()
    except Exception as error:
        print(f"expected failure: {type(error).__name__}")
        return
    raise AssertionError("the failing call did not fail")


def traceloop_init(app_name: str, **options: Any) -> Any:
    """traceloop-sdk set up as its docs say, pointed at our OTLP endpoint; session/user as association properties."""
    from traceloop.sdk import Traceloop

    Traceloop.init(app_name=app_name, api_endpoint=os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"],
                   headers={"Authorization": os.environ["INTEROP_AUTHORIZATION"]}, telemetry_enabled=False,
                   **options)
    Traceloop.set_association_properties({"session_id": SESSION_ID, "user_id": USER_ID})
    return Traceloop


def flush_global_providers() -> None:
    """For libraries that own the providers (traceloop, logfire): flush them before the process exits."""
    from opentelemetry import trace
    from opentelemetry._logs import get_logger_provider

    for provider in (trace.get_tracer_provider(), get_logger_provider()):
        for method in ("force_flush", "shutdown"):
            if hasattr(provider, method):
                getattr(provider, method)()
