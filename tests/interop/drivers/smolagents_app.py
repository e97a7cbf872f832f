"""The scenario with a smolagents `ToolCallingAgent` (its `OpenAIServerModel`, one tool), traced by
openinference-instrumentation-smolagents; session/user with OpenInference's `using_attributes`.

Every turn is an agent run, as a smolagents app makes them: the agent ends a run only through its
`final_answer` tool, and sends a tool's result back as a user message `Observation: …` (the fake provider
follows both conventions, as a real model does). The streamed call is a run with `stream_outputs=True`.
Each turn is a run of its own: a run continued with `reset=False` sends the last run's `final_answer`
observation and the new task as one user message (smolagents joins consecutive user messages), while the
instrumentation reports them apart, so "the last user text" would differ between the wire and the spans.
"""

from __future__ import annotations

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
    setup_otel,
)
from common import get_weather as weather_of
from openinference.instrumentation import using_attributes
from openinference.instrumentation.smolagents import SmolagentsInstrumentor
from smolagents import OpenAIServerModel, ToolCallingAgent, tool


@tool
def get_weather(city: str) -> str:
    """Current weather in a city.

    Args:
        city: The city.
    """
    return weather_of(city)


def new_agent(model: OpenAIServerModel, stream: bool = False) -> ToolCallingAgent:
    return ToolCallingAgent(tools=[get_weather], model=model, name="geography_agent", instructions=SYSTEM,
                            max_steps=4, stream_outputs=stream, verbosity_level=0)


def main() -> None:
    close = setup_otel("interop-smolagents", logs=False)
    SmolagentsInstrumentor().instrument()
    model = OpenAIServerModel(model_id=OPENAI_MODEL, api_base=OPENAI_URL, api_key="sk-interop",
                              client_kwargs={"max_retries": 0})
    with using_attributes(session_id=SESSION_ID, user_id=USER_ID):
        new_agent(model).run(TURN1)
        new_agent(model).run(TURN2)
        new_agent(model, stream=True).run(STREAM)
        expect_failure(lambda: new_agent(model).run(FAIL))
        new_agent(model).run(TOOL_QUESTION)
    close()


if __name__ == "__main__":
    main()
