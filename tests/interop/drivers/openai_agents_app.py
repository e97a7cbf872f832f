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
    expect_failure,
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


async def stream_once(agent: Agent) -> None:
    result = Runner.run_streamed(agent, STREAM)
    async for _ in result.stream_events():
        pass


def main() -> None:
    close = setup_otel("interop-openai-agents", logs=False)
    OpenAIAgentsInstrumentor().instrument()
    client = AsyncOpenAI(base_url=OPENAI_URL, api_key="sk-interop", max_retries=0)
    agent = Agent(name="geography_agent", instructions=SYSTEM, tools=[weather],
                  model=OpenAIChatCompletionsModel(model=OPENAI_MODEL, openai_client=client),
                  model_settings=ModelSettings(include_usage=True))
    with using_attributes(session_id=SESSION_ID, user_id=USER_ID):
        first = Runner.run_sync(agent, TURN1)
        Runner.run_sync(agent, [*first.to_input_list(), {"role": "user", "content": TURN2}])
        asyncio.run(stream_once(agent))
        expect_failure(lambda: Runner.run_sync(agent, FAIL))
        Runner.run_sync(agent, TOOL_QUESTION)
    close()


if __name__ == "__main__":
    main()
