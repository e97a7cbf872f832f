"""The scenario with a Strands Agents agent (its OpenAI model provider, one tool), traced by Strands' own
OpenTelemetry support (`StrandsTelemetry().setup_otlp_exporter()`, default conventions: content as span events);
session and user as the agent's `trace_attributes` (`session.id`, `user.id`), as Strands' docs show.

Strands streams every model call, so every call of this scenario is a streamed one. INTEROP_MODE `anthropic`
uses its Anthropic model provider instead of the OpenAI one.
"""

from __future__ import annotations

import asyncio
import os

from common import (
    ANTHROPIC_MODEL,
    ANTHROPIC_URL,
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
)
from strands import Agent, tool
from strands.models import Model
from strands.telemetry import StrandsTelemetry


@tool
def weather(city: str) -> str:
    """Current weather in a city.

    Args:
        city: The city.
    """
    return get_weather(city)


def new_model() -> Model:
    if os.environ.get("INTEROP_MODE") == "anthropic":
        from strands.models.anthropic import AnthropicModel

        return AnthropicModel(client_args={"base_url": ANTHROPIC_URL, "api_key": "sk-ant-interop", "max_retries": 0},
                              model_id=ANTHROPIC_MODEL, max_tokens=256)
    from strands.models.openai import OpenAIModel

    return OpenAIModel(client_args={"base_url": OPENAI_URL, "api_key": "sk-interop", "max_retries": 0},
                       model_id=OPENAI_MODEL, params={"max_tokens": 128})


def new_agent() -> Agent:
    return Agent(model=new_model(), system_prompt=SYSTEM, tools=[weather], name="geography_agent",
                 callback_handler=None, trace_attributes={"session.id": SESSION_ID, "user.id": USER_ID})


async def scenario() -> None:
    """All in one event loop: a synchronous `agent(…)` runs each call in a loop of its own, and the Anthropic
    provider's async client breaks on its second loop ("Event loop is closed")."""
    chat = new_agent()
    await chat.invoke_async(TURN1)
    await chat.invoke_async(TURN2)
    async for _ in new_agent().stream_async(STREAM):
        pass
    await expect_failure_async(lambda: new_agent().invoke_async(FAIL))
    await new_agent().invoke_async(TOOL_QUESTION)


def main() -> None:
    telemetry = StrandsTelemetry().setup_otlp_exporter()
    asyncio.run(scenario())
    telemetry.tracer_provider.force_flush()
    telemetry.tracer_provider.shutdown()


if __name__ == "__main__":
    main()
