"""The scenario with LiteLLM's `completion` (OpenAI route): by default its built-in `otel` callback over the
plain OpenTelemetry SDK's global provider, session/user on a parent span (and `user=` on each call); with
INTEROP_MODE=openinference, openinference-instrumentation-litellm instead."""

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


def completion(messages: list[dict[str, str]], **options: object) -> object:
    return litellm.completion(model=f"openai/{OPENAI_MODEL}", api_base=OPENAI_URL, api_key="sk-interop",
                              messages=messages, user=USER_ID, num_retries=0, max_retries=0, **options)


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
