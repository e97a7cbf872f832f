"""The scenario with an AutoGen AgentChat `AssistantAgent` (autogen-ext's `OpenAIChatCompletionClient`, one tool).

AutoGen traces its agents itself (GenAI `create_agent` / `invoke_agent` / `execute_tool` spans on the global tracer
provider) but not the model calls: its tracing guide adds the OpenAI instrumentation
(`opentelemetry-instrumentation-openai`) for those. AutoGen has no session or user of its own: they go on an app
parent span (`session.id`, `user.id`). `reflect_on_tool_use=True` makes the agent answer from the tool's result.
"""

from __future__ import annotations

import asyncio

from autogen_agentchat.agents import AssistantAgent
from autogen_ext.models.openai import OpenAIChatCompletionClient
from common import (
    FAIL,
    OPENAI_MODEL,
    OPENAI_URL,
    STREAM,
    SYSTEM,
    TOOL_QUESTION,
    TURN1,
    TURN2,
    conversation,
    expect_failure_async,
    setup_otel,
)
from common import get_weather as weather_of
from opentelemetry.instrumentation.openai import OpenAIInstrumentor


async def get_weather(city: str) -> str:
    """Current weather in a city."""
    return weather_of(city)


def new_agent(client: OpenAIChatCompletionClient, stream: bool = False) -> AssistantAgent:
    return AssistantAgent("geography_agent", model_client=client, system_message=SYSTEM, tools=[get_weather],
                          reflect_on_tool_use=True, model_client_stream=stream)


async def scenario() -> None:
    client = OpenAIChatCompletionClient(model=OPENAI_MODEL, base_url=OPENAI_URL, api_key="sk-interop",
                                        max_retries=0)
    streaming = OpenAIChatCompletionClient(model=OPENAI_MODEL, base_url=OPENAI_URL, api_key="sk-interop",
                                           max_retries=0, stream_options={"include_usage": True})
    with conversation():
        chat = new_agent(client)
        await chat.run(task=TURN1)
        await chat.run(task=TURN2)
        await new_agent(streaming, stream=True).run(task=STREAM)
        await expect_failure_async(lambda: new_agent(client).run(task=FAIL))
        await new_agent(client).run(task=TOOL_QUESTION)
    await client.close()
    await streaming.close()


def main() -> None:
    close = setup_otel("interop-autogen", logs=False)
    OpenAIInstrumentor().instrument()
    asyncio.run(scenario())
    close()


if __name__ == "__main__":
    main()
