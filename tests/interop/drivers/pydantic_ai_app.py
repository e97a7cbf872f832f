"""The scenario with a pydantic-ai agent that has one tool, instrumented with its built-in OpenTelemetry
(`Agent.instrument_all`, content included) over the plain OpenTelemetry SDK; the session as each run's
`conversation_id`, the user (and the session again) on a parent span."""

from __future__ import annotations

import asyncio

from common import (
    FAIL,
    OPENAI_MODEL,
    OPENAI_URL,
    SESSION_ID,
    STREAM,
    SYSTEM,
    TOOL_QUESTION,
    TURN1,
    TURN2,
    conversation,
    expect_failure_async,
    get_weather,
    setup_otel,
)
from openai import AsyncOpenAI
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider


def weather(city: str) -> str:
    """Current weather in a city."""
    return get_weather(city)


async def scenario(agent: Agent) -> None:
    # Without `conversation_id` every run gets a fresh UUID7 `gen_ai.conversation.id`, beside our `session.id`.
    first = await agent.run(TURN1, conversation_id=SESSION_ID)
    await agent.run(TURN2, message_history=first.all_messages(), conversation_id=SESSION_ID)
    async with agent.run_stream(STREAM, conversation_id=SESSION_ID) as result:
        async for _ in result.stream_text():
            pass
    await expect_failure_async(lambda: agent.run(FAIL, conversation_id=SESSION_ID))
    await agent.run(TOOL_QUESTION, conversation_id=SESSION_ID)


def main() -> None:
    close = setup_otel("interop-pydantic-ai")
    Agent.instrument_all()
    client = AsyncOpenAI(base_url=OPENAI_URL, api_key="sk-interop", max_retries=0)
    model = OpenAIChatModel(OPENAI_MODEL, provider=OpenAIProvider(openai_client=client))
    agent = Agent(model, system_prompt=SYSTEM, tools=[weather], name="geography_agent")
    with conversation():
        asyncio.run(scenario(agent))
    close()


if __name__ == "__main__":
    main()
