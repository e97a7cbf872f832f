"""The scenario with a CrewAI agent, traced as CrewAI's and Arize's docs say: openinference-instrumentation-crewai
(crews, tasks, agents, tools) plus the instrumentation of the client CrewAI calls underneath. CrewAI 1.x talks to
OpenAI models through its native provider (the `openai` SDK; LiteLLM only as an optional extra), so that is
openinference-instrumentation-openai; with `INTEROP_MODE=litellm` the same crews go through CrewAI's LiteLLM route
(`is_litellm=True`), traced by openinference-instrumentation-litellm; with `INTEROP_CREWAI_LISTENER` the CrewAI
instrumentation runs in its event-listener mode, which makes LLM spans of its own from CrewAI's events. Session
and user with OpenInference's `using_attributes`.

Each turn is a one-agent, one-task crew, as a CrewAI app makes them; the second turn is the agent's own
`kickoff` with the conversation so far (CrewAI's message-list entry point), the streamed call a crew kicked off
with `stream=True`, whose chunks the app iterates. CrewAI's own telemetry and trace upload are switched off
by the environment the suite sets (CREWAI_DISABLE_TELEMETRY, CREWAI_TRACING_ENABLED; libraries.py).
"""

from __future__ import annotations

import os

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
    setup_otel,
)
from common import get_weather as weather_of
from crewai import LLM, Agent, Crew, Task
from crewai.tools import tool
from openinference.instrumentation import using_attributes
from openinference.instrumentation.crewai import CrewAIInstrumentor

LITELLM = os.environ.get("INTEROP_MODE") == "litellm"


@tool("get_weather")
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return weather_of(city)


def new_llm(stream: bool = False) -> LLM:
    if LITELLM:  # CrewAI's LiteLLM route (the `litellm` extra), as for any provider it has no native client for
        return LLM(model=f"openai/{OPENAI_MODEL}", is_litellm=True, base_url=OPENAI_URL, api_key="sk-interop",
                   max_retries=0, stream=stream)
    return LLM(model=OPENAI_MODEL, base_url=OPENAI_URL, api_key="sk-interop", max_retries=0, stream=stream)


def new_agent(llm: LLM, tools: list | None = None) -> Agent:
    return Agent(role="Geography assistant", goal=SYSTEM, backstory="You answer questions about places.",
                 llm=llm, tools=tools or [], allow_delegation=False, max_iter=3, max_retry_limit=0, verbose=False)


def crew_for(question: str, llm: LLM, tools: list | None = None, stream: bool = False) -> Crew:
    agent = new_agent(llm, tools)
    task = Task(description=question, expected_output="A short answer.", agent=agent)
    return Crew(agents=[agent], tasks=[task], stream=stream, verbose=False)


def main() -> None:
    close = setup_otel("interop-crewai", logs=False)
    if os.environ.get("INTEROP_CREWAI_LISTENER"):  # its event-bus mode, with its own LLM spans beside the client's
        CrewAIInstrumentor().instrument(use_event_listener=True)
    else:
        CrewAIInstrumentor().instrument()
    if LITELLM:
        from openinference.instrumentation.litellm import LiteLLMInstrumentor

        LiteLLMInstrumentor().instrument()
    else:
        from openinference.instrumentation.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument()
    with using_attributes(session_id=SESSION_ID, user_id=USER_ID):
        print(crew_for(TURN1, new_llm()).kickoff().raw)
        history = [{"role": "user", "content": TURN1}, {"role": "assistant", "content": ANSWER1},
                   {"role": "user", "content": TURN2}]
        print(new_agent(new_llm()).kickoff(history).raw)
        streaming = crew_for(STREAM, new_llm(stream=True), stream=True).kickoff()
        for _chunk in streaming:
            pass
        print(streaming.result.raw)
        expect_failure(lambda: crew_for(FAIL, new_llm()).kickoff())
        print(crew_for(TOOL_QUESTION, new_llm(), tools=[get_weather]).kickoff().raw)
    close()


if __name__ == "__main__":
    main()
