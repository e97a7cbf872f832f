"""The scenario with LangChain's ChatOpenAI, traced by openinference-instrumentation-langchain; session/user
with `using_attributes`."""

from __future__ import annotations

from common import (
    ANSWER1,
    FAIL,
    OPENAI_MODEL,
    OPENAI_URL,
    SESSION_ID,
    STREAM,
    SYSTEM,
    TURN1,
    TURN2,
    USER_ID,
    expect_failure,
    setup_otel,
)
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from openinference.instrumentation import using_attributes
from openinference.instrumentation.langchain import LangChainInstrumentor


def main() -> None:
    close = setup_otel("interop-langchain", logs=False)
    LangChainInstrumentor().instrument()
    llm = ChatOpenAI(model=OPENAI_MODEL, base_url=OPENAI_URL, api_key="sk-interop", max_retries=0,
                     temperature=0.2, stream_usage=True)
    with using_attributes(session_id=SESSION_ID, user_id=USER_ID):
        first = llm.invoke([SystemMessage(SYSTEM), HumanMessage(TURN1)])
        assert first.content == ANSWER1, first.content
        llm.invoke([SystemMessage(SYSTEM), HumanMessage(TURN1), AIMessage(ANSWER1), HumanMessage(TURN2)])
        for _ in llm.stream([SystemMessage(SYSTEM), HumanMessage(STREAM)]):
            pass
        expect_failure(lambda: llm.invoke([SystemMessage(SYSTEM), HumanMessage(FAIL)]))
    close()


if __name__ == "__main__":
    main()
