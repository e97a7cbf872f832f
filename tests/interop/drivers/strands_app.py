"""The scenario with a Strands Agents agent (its OpenAI model provider, one tool), traced by Strands' own
OpenTelemetry support (`StrandsTelemetry().setup_otlp_exporter()`, default conventions: content as span events);
session and user as the agent's `trace_attributes` (`session.id`, `user.id`), as Strands' docs show.

Strands streams every model call, so every call of this scenario is a streamed one.
"""

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
    USER_ID,
    expect_failure,
    get_weather,
)
from strands import Agent, tool
from strands.models.openai import OpenAIModel
from strands.telemetry import StrandsTelemetry


@tool
def weather(city: str) -> str:
    """Current weather in a city.

    Args:
        city: The city.
    """
    return get_weather(city)


def new_agent(model: OpenAIModel) -> Agent:
    return Agent(model=model, system_prompt=SYSTEM, tools=[weather], name="geography_agent",
                 callback_handler=None, trace_attributes={"session.id": SESSION_ID, "user.id": USER_ID})


async def streamed(agent: Agent) -> None:
    async for _ in agent.stream_async(STREAM):
        pass


def main() -> None:
    telemetry = StrandsTelemetry().setup_otlp_exporter()
    model = OpenAIModel(client_args={"base_url": OPENAI_URL, "api_key": "sk-interop", "max_retries": 0},
                        model_id=OPENAI_MODEL, params={"max_tokens": 128})
    chat = new_agent(model)
    chat(TURN1)
    chat(TURN2)
    asyncio.run(streamed(new_agent(model)))
    expect_failure(lambda: new_agent(model)(FAIL))
    new_agent(model)(TOOL_QUESTION)
    telemetry.tracer_provider.force_flush()
    telemetry.tracer_provider.shutdown()


if __name__ == "__main__":
    main()
