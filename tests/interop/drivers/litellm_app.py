"""The scenario with LiteLLM's `completion` (OpenAI route): by default its built-in `otel` callback over the
plain OpenTelemetry SDK's global provider, session/user on a parent span (and `user=` on each call); with
INTEROP_MODE=openinference, openinference-instrumentation-litellm instead; with INTEROP_MODE=langfuse-otel, its
`langfuse_otel` callback (its own exporter, HTTP Basic auth, `/api/public/otel`), session and user in each call's
`metadata` as LiteLLM documents for Langfuse."""

from __future__ import annotations

import os

import litellm
from common import (
    FAIL,
    OPENAI_MODEL,
    OPENAI_URL,
    SESSION_ID,
    STREAM,
    SYSTEM,
    USER_ID,
    conversation,
    expect_failure,
    history_openai,
    second_turn_openai,
    setup_otel,
)

# Set in langfuse-otel mode: how LiteLLM documents session and user for Langfuse.
METADATA: dict[str, str] = {}


def completion(messages: list[dict[str, str]], **options: object) -> object:
    # A fresh dict per call, as LiteLLM's docs write it inline: LiteLLM stores its once-per-request span marker inside
    # the caller's `metadata`, so one dict shared by every call exports only the first call's span.
    extra = {"metadata": dict(METADATA)} if METADATA else {"user": USER_ID}
    return litellm.completion(model=f"openai/{OPENAI_MODEL}", api_base=OPENAI_URL, api_key="sk-interop",
                              messages=messages, num_retries=0, max_retries=0, **extra, **options)


def with_langfuse_otel() -> None:
    """The `langfuse_otel` callback as LiteLLM's Langfuse guide sets it up: only the Langfuse keys and host (the
    suite's tap; the secret key a phosphobs key). The suite's own OTLP settings are removed first, so nothing but
    the Langfuse exporter can reach the server."""
    os.environ["LANGFUSE_PUBLIC_KEY"] = "pk-lf-interop"
    os.environ["LANGFUSE_SECRET_KEY"] = os.environ["INTEROP_AUTHORIZATION"].removeprefix("Bearer ")
    os.environ["LANGFUSE_OTEL_HOST"] = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]
    for name in [name for name in os.environ if name.startswith("OTEL_")]:
        del os.environ[name]
    METADATA.update(session_id=SESSION_ID, trace_user_id=USER_ID)
    litellm.callbacks = ["langfuse_otel"]
    scenario()


def with_openinference() -> None:
    """The OpenInference route: `LiteLLMInstrumentor`, session/user with `using_attributes`."""
    from openinference.instrumentation import using_attributes
    from openinference.instrumentation.litellm import LiteLLMInstrumentor

    close = setup_otel("interop-litellm-openinference", logs=False)
    LiteLLMInstrumentor().instrument()
    with using_attributes(session_id=SESSION_ID, user_id=USER_ID):
        scenario()
    close()


def scenario() -> None:
    completion(history_openai(), temperature=0.2, max_tokens=128)
    completion(second_turn_openai(), temperature=0.2, max_tokens=128)
    stream = completion([{"role": "system", "content": SYSTEM}, {"role": "user", "content": STREAM}],
                        stream=True, stream_options={"include_usage": True})
    for _ in stream:  # type: ignore[attr-defined]
        pass
    expect_failure(lambda: completion([{"role": "system", "content": SYSTEM}, {"role": "user", "content": FAIL}]))


def main() -> None:
    if os.environ.get("INTEROP_MODE") == "openinference":
        with_openinference()
        return
    if os.environ.get("INTEROP_MODE") == "langfuse-otel":
        with_langfuse_otel()
        return
    close = setup_otel("interop-litellm", logs=False)
    os.environ.setdefault("OTEL_EXPORTER", "otlp_http")
    os.environ.setdefault("OTEL_ENDPOINT", os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] + "/v1/traces")
    os.environ.setdefault("OTEL_HEADERS", "Authorization=" + os.environ["INTEROP_AUTHORIZATION"])
    litellm.callbacks = ["otel"]
    with conversation():
        scenario()
    close()


if __name__ == "__main__":
    main()
