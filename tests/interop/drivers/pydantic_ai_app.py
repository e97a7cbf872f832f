"""The scenario with a pydantic-ai agent that has one tool, instrumented with its built-in OpenTelemetry
(`Agent.instrument_all`, content included) over the plain OpenTelemetry SDK; session/user on a parent span."""

from __future__ import annotations

import asyncio

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
    expect_failure,
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


async def stream_once(agent: Agent) -> None:
    async with agent.run_stream(STREAM) as result:
        async for _ in result.stream_text():
            pass


def main() -> None:
    close = setup_otel("interop-pydantic-ai")
    Agent.instrument_all()
    client = AsyncOpenAI(base_url=OPENAI_URL, api_key="sk-interop", max_retries=0)
    model = OpenAIChatModel(OPENAI_MODEL, provider=OpenAIProvider(openai_client=client))
    agent = Agent(model, system_prompt=SYSTEM, tools=[weather], name="geography_agent")
    with conversation():
        first = agent.run_sync(TURN1)
        agent.run_sync(TURN2, message_history=first.all_messages())
        asyncio.run(stream_once(agent))
        expect_failure(lambda: agent.run_sync(FAIL))
        agent.run_sync(TOOL_QUESTION)
    close()


if __name__ == "__main__":
    main()
