"""The scenario with the OpenAI Agents SDK (chat completions model, one tool), traced per INTEROP_MODE:

- `openinference` (the default): openinference-instrumentation-openai-agents (it replaces the SDK's own
  exporter); session/user with `using_attributes`;
- `openlit`: `openlit.init`, which replaces the SDK's trace processors with its own and also instruments the
  OpenAI client underneath; session/user with `openlit.using_attributes`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from contextlib import AbstractContextManager

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
    flush_global_providers,
    get_weather,
    setup_otel,
)
from openai import AsyncOpenAI

MODE = os.environ.get("INTEROP_MODE", "openinference")


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


def instrument() -> tuple[AbstractContextManager[object], Callable[[], None]]:
    """The mode's instrumentation set up; its session/user scope and the function that flushes it."""
    if MODE == "openlit":
        import openlit

        openlit.init(service_name="interop-openlit-openai-agents", disable_metrics=True,
                     otlp_endpoint=os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"],
                     otlp_headers={"Authorization": os.environ["INTEROP_AUTHORIZATION"]})
        return openlit.using_attributes({"session.id": SESSION_ID, "user.id": USER_ID}), flush_global_providers
    from openinference.instrumentation import using_attributes
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    close = setup_otel("interop-openai-agents", logs=False)
    OpenAIAgentsInstrumentor().instrument()
    return using_attributes(session_id=SESSION_ID, user_id=USER_ID), close


def main() -> None:
    scope, close = instrument()
    client = AsyncOpenAI(base_url=OPENAI_URL, api_key="sk-interop", max_retries=0)
    agent = Agent(name="geography_agent", instructions=SYSTEM, tools=[weather],
                  model=OpenAIChatCompletionsModel(model=OPENAI_MODEL, openai_client=client),
                  model_settings=ModelSettings(include_usage=True))
    with scope:
        asyncio.run(scenario(agent))
    close()


if __name__ == "__main__":
    main()
