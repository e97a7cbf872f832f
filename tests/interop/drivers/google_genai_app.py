"""The scenario with the Google GenAI SDK (`google-genai`, pointed at the fake provider's Gemini API with
`http_options.base_url`), traced by the official `opentelemetry-instrumentation-google-genai`; session/user on an
app parent span (the instrumentation has no way of its own).

Two chat turns through `client.chats` (the second sends the first turn as history), a streamed
`generate_content_stream`, a failing `generate_content` (HTTP 500; retries off), and a weather question with a
Python function as a tool: the SDK's automatic function calling runs it and sends its result back.
"""

from __future__ import annotations

import os

from common import (
    FAIL,
    STREAM,
    SYSTEM,
    TOOL_QUESTION,
    TURN1,
    TURN2,
    conversation,
    expect_failure,
    get_weather,
    setup_otel,
)
from google import genai
from google.genai import types
from opentelemetry.instrumentation.google_genai import GoogleGenAiSdkInstrumentor

GEMINI_MODEL = "gemini-2.0-flash"
GEMINI_URL = os.environ.get("INTEROP_GEMINI_URL", "")
MODE = os.environ.get("INTEROP_MODE", "chat")


def run(client: genai.Client) -> None:
    config = types.GenerateContentConfig(system_instruction=SYSTEM)
    chat = client.chats.create(model=GEMINI_MODEL, config=config)
    chat.send_message(TURN1)
    chat.send_message(TURN2)
    for _ in client.models.generate_content_stream(model=GEMINI_MODEL, contents=STREAM, config=config):
        pass
    expect_failure(lambda: client.models.generate_content(model=GEMINI_MODEL, contents=FAIL, config=config))
    tool_config = types.GenerateContentConfig(system_instruction=SYSTEM, tools=[get_weather])
    if MODE == "models":  # automatic function calling straight from `models.generate_content`
        client.models.generate_content(model=GEMINI_MODEL, contents=TOOL_QUESTION, config=tool_config)
    else:  # the SDK's advice: through a chat
        client.chats.create(model=GEMINI_MODEL, config=tool_config).send_message(TOOL_QUESTION)


def main() -> None:
    close = setup_otel("interop-google-genai")
    GoogleGenAiSdkInstrumentor().instrument()
    client = genai.Client(api_key="interop-gemini-key", http_options=types.HttpOptions(
        base_url=GEMINI_URL, retry_options=types.HttpRetryOptions(attempts=1)))
    with conversation():
        run(client)
    close()


if __name__ == "__main__":
    main()
