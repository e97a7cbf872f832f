"""The scenario with the OpenAI Agents SDK (chat completions model, one tool), traced by
openinference-instrumentation-openai-agents (it replaces the SDK's own exporter); session/user with
`using_attributes`."""

from __future__ import annotations

import asyncio

from agents import Agent, ModelSettings, OpenAIChatCompletionsModel, Runner, function_tool
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
    USER_ID,
    expect_failure_async,
    get_weather,
    setup_otel,
)
from openai import AsyncOpenAI
from openinference.instrumentation import using_attributes
from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor


@function_tool
def weather(city: str) -> str:
    """Current weather in a city."""
    return get_weather(city)


async def scenario(agent: Agent) -> None:
    first = await Runner.run(agent, TURN1)
    await Runner.run(agent, [*first.to_input_list(), {"role": "user", "content": TURN2}])
    result = Runner.run_streamed(agent, STREAM)
    async for _ in result.stream_events():
        pass
    await expect_failure_async(lambda: Runner.run(agent, FAIL))
    await Runner.run(agent, TOOL_QUESTION)


def main() -> None:
    close = setup_otel("interop-openai-agents", logs=False)
    OpenAIAgentsInstrumentor().instrument()
    client = AsyncOpenAI(base_url=OPENAI_URL, api_key="sk-interop", max_retries=0)
    agent = Agent(name="geography_agent", instructions=SYSTEM, tools=[weather],
                  model=OpenAIChatCompletionsModel(model=OPENAI_MODEL, openai_client=client),
                  model_settings=ModelSettings(include_usage=True))
    with using_attributes(session_id=SESSION_ID, user_id=USER_ID):
        asyncio.run(scenario(agent))
    close()


if __name__ == "__main__":
    main()
