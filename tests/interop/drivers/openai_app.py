"""The scenario with the official OpenAI Python SDK, instrumented per INTEROP_MODE.

- `openai-v2`: opentelemetry-instrumentation-openai-v2 (content per its env settings), session/user on a parent span;
- `openinference`: openinference-instrumentation-openai, session/user with `using_attributes`;
- `phoenix`: the same through Arize Phoenix's `phoenix.otel.register`, and a user's annotation via its client;
- `traceloop` / `traceloop-events`: traceloop-sdk, legacy span attributes or (`use_legacy_attributes=False`) log
  events, session/user as association properties inside a workflow;
- `logfire`: `logfire.instrument_openai`, exporting over OTLP only, session/user on a `logfire.span`;
- `openlit`: `openlit.init` (it sets up the exporters itself; metrics off), session/user with
  `openlit.using_attributes`, which puts them on every span it makes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import openai
from common import (
    OPENAI_URL,
    SESSION_ID,
    USER_ID,
    conversation,
    flush_global_providers,
    openai_conversation,
    setup_otel,
    setup_otel_logs,
    traceloop_init,
)

MODE = os.environ["INTEROP_MODE"]




def new_client() -> openai.OpenAI:
    return openai.OpenAI(base_url=OPENAI_URL, api_key="sk-interop", max_retries=0)


def with_openai_v2() -> Callable[[], None]:
    close = setup_otel("interop-openai-v2")
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    OpenAIInstrumentor().instrument()
    with conversation():
        openai_conversation(new_client())
    return close


def with_openinference() -> Callable[[], None]:
    close = setup_otel("interop-openinference", logs=False)
    from openinference.instrumentation import using_attributes
    from openinference.instrumentation.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument()
    with using_attributes(session_id=SESSION_ID, user_id=USER_ID):
        openai_conversation(new_client())
    return close


def with_traceloop() -> Callable[[], None]:
    options: dict[str, Any] = {}
    if MODE == "traceloop-events":
        # Events mode emits through the *global* LoggerProvider, which Traceloop.init never sets (its own
        # provider only carries Python logging): without this the prompts and answers are simply dropped.
        setup_otel_logs(f"interop-{MODE}")
        options["use_legacy_attributes"] = False
    traceloop_init(f"interop-{MODE}", **options)
    from traceloop.sdk.decorators import workflow

    workflow(name="geography_chat")(openai_conversation)(new_client())
    return flush_global_providers


def keep_session_id(match: Any) -> Any:
    """Logfire's scrubbing callback: the session id is no secret (any other match stays scrubbed)."""
    return match.value if match.path and match.path[-1] == "session.id" else None


def with_logfire() -> Callable[[], None]:
    import logfire

    # Logfire scrubs any attribute whose name matches "session" (to "[Scrubbed due to 'session']"): keep ours,
    # unless the scenario is about an app that kept the default.
    scrubbing = None if os.environ.get("INTEROP_LOGFIRE_SCRUBBING") == "default" else \
        logfire.ScrubbingOptions(callback=keep_session_id)
    logfire.configure(send_to_logfire=False, service_name="interop-logfire", console=False, scrubbing=scrubbing)
    client = new_client()
    logfire.instrument_openai(client)
    with logfire.span("conversation", **{"session.id": SESSION_ID, "user.id": USER_ID}):
        openai_conversation(client)
    return logfire.shutdown if hasattr(logfire, "shutdown") else flush_global_providers


def with_openlit() -> Callable[[], None]:
    import openlit

    openlit.init(service_name="interop-openlit", otlp_endpoint=os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"],
                 otlp_headers={"Authorization": os.environ["INTEROP_AUTHORIZATION"]}, disable_metrics=True)
    with openlit.using_attributes({"session.id": SESSION_ID, "user.id": USER_ID}):
        openai_conversation(new_client())
    return flush_global_providers


def with_phoenix() -> Callable[[], None]:
    """Arize Phoenix's own set-up, switched by its two variables only: `phoenix.otel.register` auto-instruments
    OpenInference and exports to PHOENIX_COLLECTOR_ENDPOINT with PHOENIX_API_KEY (a phosphobs key) as Bearer;
    the app's span around the turn comes from its tracer, and the user's thumbs-down on the turn goes through
    Phoenix's client as a HUMAN annotation of that span, as Phoenix's feedback guide writes it."""
    base = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]
    for name in [name for name in os.environ if name.startswith("OTEL_EXPORTER_OTLP")]:
        del os.environ[name]
    os.environ["PHOENIX_COLLECTOR_ENDPOINT"] = base
    os.environ["PHOENIX_API_KEY"] = os.environ["INTEROP_AUTHORIZATION"].removeprefix("Bearer ")
    from openinference.instrumentation import using_attributes
    from opentelemetry.trace import format_span_id
    from phoenix.client import Client
    from phoenix.otel import register

    # Without a protocol, register() sends gRPC to the endpoint's host at PHOENIX_GRPC_PORT (4317, phosphobs'
    # gRPC port too); the suite records HTTP, so the app asks for it as Phoenix's docs show.
    provider = register(project_name="interop-phoenix", auto_instrument=True, batch=True, protocol="http/protobuf")
    tracer = provider.get_tracer("interop.app")
    with using_attributes(session_id=SESSION_ID, user_id=USER_ID), tracer.start_as_current_span(
            "geography-chat", openinference_span_kind="chain") as span:
        openai_conversation(new_client())
    Client().spans.add_span_annotation(
        span_id=format_span_id(span.get_span_context().span_id), annotation_name="user feedback",
        annotator_kind="HUMAN", label="thumbs-down", score=0, explanation="no answer")
    return provider.shutdown


MODES = {"openai-v2": with_openai_v2, "openinference": with_openinference, "traceloop": with_traceloop,
         "traceloop-events": with_traceloop, "logfire": with_logfire, "openlit": with_openlit,
         "phoenix": with_phoenix}

if __name__ == "__main__":
    MODES[MODE]()()
