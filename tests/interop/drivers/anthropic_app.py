"""The scenario with the Anthropic Python SDK, instrumented per INTEROP_MODE.

- `sdk`: the SDK alone (2.x emits its own `com.anthropic.sdk.python` spans through the global tracer provider);
- `instrumentation`: plus `opentelemetry-instrumentation-anthropic` (sibling spans for the same calls);
- `traceloop`: plus `traceloop-sdk`, which sets up the exporters and the session/user association properties;
- `traceloop-events`: the same with `use_legacy_attributes=False` (content as log events);
- `openinference`: plus `openinference-instrumentation-anthropic`, session/user with `using_attributes`;
- `openlit`: `openlit.init` over the 0.x SDK (OpenLIT requires anthropic<1), session/user with
  `openlit.using_attributes`.
"""

from __future__ import annotations

import os

import anthropic
from common import (
    ANTHROPIC_MODEL,
    ANTHROPIC_URL,
    FAIL,
    SESSION_ID,
    STREAM,
    SYSTEM,
    TURN1,
    TURN2,
    USER_ID,
    conversation,
    expect_failure,
    flush_global_providers,
    setup_otel,
    setup_otel_logs,
    traceloop_init,
)

MODE = os.environ["INTEROP_MODE"]


def run(client: anthropic.Anthropic) -> None:
    first = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=256, system=SYSTEM,
                                   messages=[{"role": "user", "content": TURN1}])
    answer = "".join(block.text for block in first.content if block.type == "text")
    client.messages.create(model=ANTHROPIC_MODEL, max_tokens=256, system=SYSTEM, messages=[
        {"role": "user", "content": TURN1}, {"role": "assistant", "content": answer},
        {"role": "user", "content": TURN2}])
    stream = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=256, system=SYSTEM, stream=True,
                                    messages=[{"role": "user", "content": STREAM}])
    for _ in stream:
        pass
    expect_failure(lambda: client.messages.create(model=ANTHROPIC_MODEL, max_tokens=256, system=SYSTEM,
                                                  messages=[{"role": "user", "content": FAIL}]))


def main() -> None:
    if MODE in ("traceloop", "traceloop-events"):
        options = {}
        if MODE == "traceloop-events":
            setup_otel_logs(f"interop-anthropic-{MODE}")  # Traceloop.init sets no global LoggerProvider
            options["use_legacy_attributes"] = False
        traceloop_init(f"interop-anthropic-{MODE}", **options)
        from traceloop.sdk.decorators import workflow

        client = anthropic.Anthropic(base_url=ANTHROPIC_URL, api_key="sk-ant-interop", max_retries=0)
        workflow(name="geography_chat")(run)(client)
        flush_global_providers()
        return
    if MODE == "openlit":
        import openlit

        openlit.init(service_name="interop-anthropic-openlit", disable_metrics=True,
                     otlp_endpoint=os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"],
                     otlp_headers={"Authorization": os.environ["INTEROP_AUTHORIZATION"]})
        client = anthropic.Anthropic(base_url=ANTHROPIC_URL, api_key="sk-ant-interop", max_retries=0)
        with openlit.using_attributes({"session.id": SESSION_ID, "user.id": USER_ID}):
            run(client)
        flush_global_providers()
        return
    close = setup_otel(f"interop-anthropic-{MODE}", logs=MODE != "openinference")
    if MODE == "openinference":
        from openinference.instrumentation import using_attributes
        from openinference.instrumentation.anthropic import AnthropicInstrumentor as OpenInferenceInstrumentor

        OpenInferenceInstrumentor().instrument()
        client = anthropic.Anthropic(base_url=ANTHROPIC_URL, api_key="sk-ant-interop", max_retries=0)
        with using_attributes(session_id=SESSION_ID, user_id=USER_ID):
            run(client)
        close()
        return
    if MODE == "instrumentation":
        from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor

        AnthropicInstrumentor().instrument()
    client = anthropic.Anthropic(base_url=ANTHROPIC_URL, api_key="sk-ant-interop", max_retries=0)
    with conversation():
        run(client)
    close()


if __name__ == "__main__":
    main()
