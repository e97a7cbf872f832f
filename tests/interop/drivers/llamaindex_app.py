"""The scenario with LlamaIndex's OpenAI LLM (`llama-index-llms-openai`, `api_base` at the fake provider), traced by
`openinference-instrumentation-llama-index`; session/user with `using_attributes`. INTEROP_MODE `google-genai` uses
LlamaIndex's Gemini LLM (`llama-index-llms-google-genai`) instead, with the Google GenAI SDK's own instrumentation on
as well.

Two chat turns, a `complete` (the completion API, which a chat model answers through chat), a streamed chat
(usage asked for with `stream_options`, which the LLM drops from calls that do not stream), a failing chat, then a
`FunctionAgent` with one tool (its model calls stream, as the agent's default).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from common import (
    ANSWER1,
    FAIL,
    OPENAI_MODEL,
    OPENAI_URL,
    SESSION_ID,
    STREAM,
    SYSTEM,
    TOOL_QUESTION,
    TURN1,
    TURN2,
    USER_ID,
    expect_failure,
    get_weather,
    setup_otel,
)
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from openinference.instrumentation import using_attributes
from openinference.instrumentation.llama_index import LlamaIndexInstrumentor

COMPLETE = "In one word: which country is Paris in?"
MODE = os.environ.get("INTEROP_MODE", "openai")


def weather(city: str) -> str:
    """Current weather in a city."""
    return get_weather(city)


def chat(llm: Any) -> None:
    first = llm.chat([ChatMessage(role="system", content=SYSTEM), ChatMessage(role="user", content=TURN1)])
    assert first.message.content == ANSWER1, first.message.content
    llm.chat([ChatMessage(role="system", content=SYSTEM), ChatMessage(role="user", content=TURN1),
              ChatMessage(role="assistant", content=ANSWER1), ChatMessage(role="user", content=TURN2)])
    llm.complete(COMPLETE)  # the completion API (a chat model answers it through chat)
    for _ in llm.stream_chat([ChatMessage(role="system", content=SYSTEM), ChatMessage(role="user", content=STREAM)]):
        pass
    expect_failure(lambda: llm.chat([ChatMessage(role="system", content=SYSTEM),
                                     ChatMessage(role="user", content=FAIL)]))


async def agent_run(llm: Any) -> None:
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(weather, name="get_weather")], llm=llm,
                          system_prompt=SYSTEM)
    await agent.run(user_msg=TOOL_QUESTION)


def new_llm() -> Any:
    if MODE == "google-genai":  # LlamaIndex's Gemini LLM over the Google GenAI SDK, itself instrumented too
        from google.genai import types
        from llama_index.llms.google_genai import GoogleGenAI
        from opentelemetry.instrumentation.google_genai import GoogleGenAiSdkInstrumentor

        GoogleGenAiSdkInstrumentor().instrument()
        return GoogleGenAI(model="gemini-2.0-flash", api_key="interop-gemini-key", max_retries=0,
                           http_options=types.HttpOptions(base_url=os.environ["INTEROP_GEMINI_URL"],
                                                          retry_options=types.HttpRetryOptions(attempts=1)))
    from llama_index.llms.openai import OpenAI

    return OpenAI(model=OPENAI_MODEL, api_base=OPENAI_URL, api_key="sk-interop", max_retries=0,
                  additional_kwargs={"stream_options": {"include_usage": True}})


def main() -> None:
    close = setup_otel("interop-llamaindex", logs=False)
    LlamaIndexInstrumentor().instrument()
    llm = new_llm()
    with using_attributes(session_id=SESSION_ID, user_id=USER_ID):
        chat(llm)
        asyncio.run(agent_run(llm))
    close()


if __name__ == "__main__":
    main()
