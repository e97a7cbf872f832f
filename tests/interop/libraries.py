"""The real libraries the interop suite runs, each with its pinned versions, driver and settings.

`constraints` names a file under `pins/` that pins the library's whole dependency tree where pip's resolver
would otherwise backtrack for a long time (traceloop-sdk pulls in dozens of instrumentations).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PINS_DIR = Path(__file__).parent / "pins"
OTEL = ("opentelemetry-sdk==1.45.1", "opentelemetry-exporter-otlp-proto-http==1.45.1")
# The plain OpenTelemetry JS SDK of the Node drivers (OTLP/protobuf exporter).
OTEL_JS = ("@opentelemetry/api@1.9.1", "@opentelemetry/sdk-trace-node@2.12.1",
           "@opentelemetry/exporter-trace-otlp-proto@0.223.1", "@opentelemetry/resources@2.12.1")
OTEL_LATEST = ("opentelemetry-sdk==1.45.2", "opentelemetry-exporter-otlp-proto-http==1.45.2")
ANTHROPIC = "anthropic==2.17.0"
OPENAI = "openai==3.63.0"
# OpenLIT and Strands Agents declare openai<3: their apps run on the last 2.x SDK.
OPENAI_2 = "openai==2.54.0"
TRACELOOP = "traceloop-sdk==0.62.4"
# traceloop-sdk and openai-v2 import httpx without declaring it; the OpenAI 3.x and Anthropic 2.x SDKs moved to
# httpx2, so an app on current SDKs must install httpx itself.
HTTPX = "httpx==0.28.1"
# OpenLIT declares openai<3 and anthropic<1 (the 0.x SDK, which emits no spans of its own) and needs every
# opentelemetry-instrumentation-* of one release: 0.66b1 is the newest all of them have (pip backtracks into a
# ResolutionImpossible without the last two pins).
OPENLIT = (OPENAI_2, "anthropic==0.125.0", "openlit==1.45.0", "opentelemetry-sdk==1.45.1",
           "opentelemetry-instrumentation==0.66b1")
# The instrumentation declares google-genai<3 (and skips instrumenting on a conflict): the last 2.x SDK.
GOOGLE_GENAI = ("google-genai==2.34.0", "opentelemetry-instrumentation-google-genai==1.3b0",
                "opentelemetry-util-genai==1.3b0", "opentelemetry-instrumentation==0.66b2", *OTEL_LATEST)
# CrewAI's own telemetry (to CrewAI) and its trace upload (to CrewAI AMP) off; OTEL_SDK_DISABLED, which CrewAI
# also reads, would switch off the app's own OpenTelemetry SDK too.
CREWAI_QUIET = {"CREWAI_DISABLE_TELEMETRY": "true", "CREWAI_TRACING_ENABLED": "false"}
ANTHROPIC_CONTENT = {"ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE": "content"}


@dataclass(frozen=True)
class Library:
    name: str
    driver: str  # a file under drivers/
    pins: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    runtime: str = "python"
    constraints: str | None = None
    tools: bool = False  # agent libraries add one tool call
    gaps: tuple[str, ...] = ()  # what the library never sends (see truth.Truth.gaps)
    env_name: str = ""  # shares another library's environment when the pins are the same
    # A class of behaviour phosphobs does not handle yet: its checks are strict xfails (an XPASS fails the run,
    # so the entry must go when the behaviour is fixed). See docs/interop.md.
    open_issue: str = ""
    # The open issue leaves some call as more than one event: the normalizer's own one-event-per-call check over the
    # capture (tests/collector/otlp/test_captures.py) is then a strict xfail too.
    open_splits_calls: bool = False

    @property
    def environment(self) -> str:
        return self.env_name or self.name

    def install_args(self) -> tuple[str, ...]:
        if self.constraints is None:
            return self.pins
        return (*self.pins, "-c", str(PINS_DIR / self.constraints))

    def cache_pins(self) -> tuple[str, ...]:
        """What keys the cached environment: the pins and the constraint file's content."""
        extra = (PINS_DIR / self.constraints).read_text() if self.constraints else ""
        return (*self.pins, extra)


LIBRARIES = [
    Library("anthropic-sdk", "anthropic_app.py", (ANTHROPIC, *OTEL),
            {"INTEROP_MODE": "sdk", **ANTHROPIC_CONTENT}, gaps=("stream-output",)),
    Library("anthropic-instrumentation", "anthropic_app.py",
            (ANTHROPIC, *OTEL, "opentelemetry-instrumentation-anthropic==0.62.4"),
            {"INTEROP_MODE": "instrumentation", **ANTHROPIC_CONTENT}, constraints="traceloop.txt"),
    Library("anthropic-traceloop", "anthropic_app.py", (ANTHROPIC, TRACELOOP, HTTPX),
            {"INTEROP_MODE": "traceloop", **ANTHROPIC_CONTENT}, constraints="traceloop.txt"),
    Library("openai-v2-latest", "openai_app.py",
            (OPENAI, HTTPX, "opentelemetry-instrumentation-openai-v2==2.4b0", "opentelemetry-util-genai==1.1b0",
             "opentelemetry-instrumentation==0.66b2", *OTEL_LATEST),
            {"INTEROP_MODE": "openai-v2", "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
             "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_and_event"}),
    Library("openai-v2-legacy", "openai_app.py",
            (OPENAI, HTTPX, "opentelemetry-instrumentation-openai-v2==2.1b0", "opentelemetry-instrumentation==0.58b0",
             "opentelemetry-sdk==1.37.0", "opentelemetry-exporter-otlp-proto-http==1.37.0"),
            {"INTEROP_MODE": "openai-v2", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}),
    Library("openinference-openai", "openai_app.py",
            (OPENAI, "openinference-instrumentation-openai==0.1.66", *OTEL_LATEST),
            {"INTEROP_MODE": "openinference"}),
    # Arize Phoenix's own OTel set-up (`phoenix.otel.register`) and its client's span annotations.
    Library("phoenix-openai", "openai_app.py",
            (OPENAI, "openinference-instrumentation-openai==0.1.66", "arize-phoenix-otel==0.17.2",
             "arize-phoenix-client==3.5.0", *OTEL_LATEST),
            {"INTEROP_MODE": "phoenix"}),
    Library("traceloop-openai", "openai_app.py", (OPENAI, TRACELOOP, HTTPX),
            {"INTEROP_MODE": "traceloop"}, constraints="traceloop.txt"),
    Library("traceloop-openai-events", "openai_app.py", (OPENAI, TRACELOOP, HTTPX),
            {"INTEROP_MODE": "traceloop-events", "TRACELOOP_LOGGING_ENABLED": "true"}, constraints="traceloop.txt",
            env_name="traceloop-openai"),
    Library("logfire-openai", "openai_app.py", (OPENAI, "logfire==5.4.0"), {"INTEROP_MODE": "logfire"}),
    Library("logfire-openai-scrubbed", "openai_app.py", (OPENAI, "logfire==5.4.0"),
            {"INTEROP_MODE": "logfire", "INTEROP_LOGFIRE_SCRUBBING": "default"}, gaps=("session",),
            env_name="logfire-openai"),
    # The Langfuse SDK's own exporter (HTTP Basic, /api/public/otel/v1/traces) and its OpenAI drop-in.
    Library("langfuse-openai", "langfuse_app.py", (OPENAI, "langfuse==5.2.0", *OTEL_LATEST)),
    Library("pydantic-ai", "pydantic_ai_app.py",
            (OPENAI, "pydantic-ai-slim[openai]==2.78.0", *OTEL_LATEST), tools=True),
    Library("openai-agents", "openai_agents_app.py",
            (OPENAI, "openai-agents==0.24.0", "openinference-instrumentation-openai-agents==2.6.0",
             *OTEL_LATEST), tools=True, gaps=("response-model",)),
    Library("langchain-openinference", "langchain_app.py",
            (OPENAI, "langchain-openai==1.8.1", "openinference-instrumentation-langchain==0.1.80",
             *OTEL_LATEST)),
    Library("vercel-ai", "vercel_ai_app.mjs",
            ("ai@6.0.333", "@ai-sdk/openai@3.0.141", "@opentelemetry/api@1.9.1",
             "@opentelemetry/sdk-trace-node@2.12.1", "@opentelemetry/exporter-trace-otlp-proto@0.223.1",
             "@opentelemetry/resources@2.12.1"), runtime="node", tools=True),
    Library("vercel-ai7", "vercel_ai7_app.mjs",
            ("ai@7.0.185", "@ai-sdk/openai@4.0.126", "@ai-sdk/otel@1.0.185", "@opentelemetry/api@1.9.1",
             "@opentelemetry/sdk-trace-node@2.12.1", "@opentelemetry/exporter-trace-otlp-proto@0.223.1",
             "@opentelemetry/resources@2.12.1"), runtime="node", tools=True),
    # OpenLLMetry JS's OpenAI instrumentation patches openai ">=4 <7": the last 6.x SDK.
    Library("traceloop-js-openai", "traceloop_openai_app.mjs",
            ("@traceloop/node-server-sdk@0.27.0", "openai@6.49.0"), runtime="node",
            gaps=("failure-span", "stream-tokens")),
    Library("openinference-js-openai", "openinference_openai_app.mjs",
            ("@arizeai/openinference-instrumentation-openai@4.2.7", "@arizeai/openinference-core@2.7.1",
             "openai@7.60.0", *OTEL_JS), runtime="node", gaps=("failure-span", "stream-tokens", "stream-model")),
    Library("langchain-js-openinference", "langchain_openinference_app.mjs",
            ("@langchain/openai@1.6.0", "@langchain/core@1.4.0",
             "@arizeai/openinference-instrumentation-langchain@4.1.1", "@arizeai/openinference-core@2.7.1", *OTEL_JS),
            runtime="node"),
    # The Langfuse JS SDK: its OpenAI wrapper over the OpenAI Node SDK, its span processor (own OTLP/HTTP exporter,
    # HTTP Basic auth, /api/public/otel) on the plain OpenTelemetry Node SDK.
    Library("langfuse-js-openai", "langfuse_openai_app.mjs",
            ("@langfuse/tracing@5.11.1", "@langfuse/otel@5.11.1", "@langfuse/openai@5.11.1", "@langfuse/core@5.11.1",
             "openai@7.60.0", "@opentelemetry/api@1.9.1", "@opentelemetry/sdk-trace-node@2.12.1",
             "@opentelemetry/sdk-trace-base@2.12.1", "@opentelemetry/core@2.12.1",
             "@opentelemetry/exporter-trace-otlp-http@0.223.1"), runtime="node", gaps=("stream-model",)),
    Library("litellm", "litellm_app.py", (OPENAI, "litellm==1.110.2", *OTEL_LATEST), gaps=("stream-model",),
            open_issue="a streamed call is exported as a root litellm_request span in a new trace: the app's "
                       "session (on the app span) never reaches it"),
    # LiteLLM's `langfuse_otel` callback: its own OTLP/HTTP exporter to a Langfuse host, no OTel set-up by the app.
    Library("litellm-langfuse", "litellm_app.py", (OPENAI, "litellm==1.110.2", *OTEL_LATEST),
            {"INTEROP_MODE": "langfuse-otel"}, gaps=("stream-model",), env_name="litellm"),
    Library("anthropic-traceloop-events", "anthropic_app.py", (ANTHROPIC, TRACELOOP, HTTPX),
            {"INTEROP_MODE": "traceloop-events", "TRACELOOP_LOGGING_ENABLED": "true", **ANTHROPIC_CONTENT},
            constraints="traceloop.txt", env_name="anthropic-traceloop"),
    Library("litellm-openinference", "litellm_app.py",
            (OPENAI, "litellm==1.110.2", "openinference-instrumentation-litellm==0.1.51", *OTEL_LATEST),
            {"INTEROP_MODE": "openinference"}, gaps=("response-model",)),
    Library("openlit", "openai_app.py", OPENLIT, {"INTEROP_MODE": "openlit"}, gaps=("failure-input",)),
    Library("openlit-openai-agents", "openai_agents_app.py", (*OPENLIT, "openai-agents==0.20.0"),
            {"INTEROP_MODE": "openlit"}, tools=True, gaps=("failure-input",)),
    Library("openlit-anthropic", "anthropic_app.py", OPENLIT, {"INTEROP_MODE": "openlit"},
            gaps=("failure-input", "failure-identity"), env_name="openlit"),
    Library("strands-agents", "strands_app.py", (OPENAI_2, "strands-agents[openai,otel]==1.62.0"), tools=True,
            gaps=("response-model",)),
    Library("strands-agents-latest", "strands_app.py", (OPENAI_2, "strands-agents[openai,otel]==1.62.0"),
            {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental"}, tools=True, gaps=("response-model",),
            env_name="strands-agents"),
    Library("strands-agents-anthropic", "strands_app.py",
            ("anthropic==0.125.0", "strands-agents[anthropic,otel]==1.62.0"), {"INTEROP_MODE": "anthropic"},
            tools=True, gaps=("response-model",)),
    Library("openinference-anthropic", "anthropic_app.py",
            (ANTHROPIC, "openinference-instrumentation-anthropic==3.1.0", *OTEL_LATEST),
            {"INTEROP_MODE": "openinference", **ANTHROPIC_CONTENT}),
    # llama-index-llms-openai declares openai<3.
    Library("llamaindex-openinference", "llamaindex_app.py",
            (OPENAI_2, "llama-index-core==0.14.25", "llama-index-llms-openai==0.8.3",
             "openinference-instrumentation-llama-index==4.6.1", *OTEL_LATEST), tools=True, gaps=("response-model",)),
    # LlamaIndex's Gemini LLM, traced by both OpenInference (its LlamaIndex spans) and the official google-genai
    # instrumentation (the SDK's spans inside them).
    Library("llamaindex-google-genai", "llamaindex_app.py",
            ("llama-index-core==0.14.25", "llama-index-llms-google-genai==0.11.3",
             "openinference-instrumentation-llama-index==4.6.1", *GOOGLE_GENAI), tools=True,
            env={"INTEROP_MODE": "google-genai", "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
                 "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_only"}),
    Library("google-genai", "google_genai_app.py", GOOGLE_GENAI, tools=True, gaps=("tool-span",), env=
            {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
             "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_and_event"}),
    Library("google-genai-events", "google_genai_app.py", GOOGLE_GENAI, tools=True, gaps=("tool-span",),
            env_name="google-genai",
            env={"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
                 "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "event_only"}),
    Library("google-genai-afc", "google_genai_app.py", GOOGLE_GENAI, tools=True, gaps=("tool-round",),
            env_name="google-genai",
            env={"INTEROP_MODE": "models", "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
                 "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_and_event"}),
    Library("smolagents", "smolagents_app.py",
            (OPENAI, "smolagents[openai]==1.26.0", "openinference-instrumentation-smolagents==0.1.43", *OTEL_LATEST),
            tools=True, gaps=("response-model", "failure-model")),
    # AutoGen traces its agents and tools itself; its tracing guide adds the OpenAI instrumentation for the calls.
    Library("autogen", "autogen_app.py",
            (OPENAI, HTTPX, "autogen-agentchat==0.7.5", "autogen-ext[openai]==0.7.5",
             "opentelemetry-instrumentation-openai==0.62.4", *OTEL_LATEST), tools=True, gaps=("tool-result",)),
    # CrewAI 1.x calls OpenAI models through its native provider (the openai SDK, which it keeps below 3): traced
    # by OpenInference's CrewAI instrumentation (crews, tasks, agents, tools) and its OpenAI one (the calls).
    Library("crewai", "crewai_app.py",
            (OPENAI_2, "crewai==1.15.30", "openinference-instrumentation-crewai==1.1.21",
             "openinference-instrumentation-openai==0.1.66", *OTEL_LATEST),
            CREWAI_QUIET, tools=True),
    # Its event-listener mode (for crews run through CrewAI's event bus) makes LLM spans of its own by default.
    Library("crewai-listener", "crewai_app.py",
            (OPENAI_2, "crewai==1.15.30", "openinference-instrumentation-crewai==1.1.21",
             "openinference-instrumentation-openai==0.1.66", *OTEL_LATEST),
            {"INTEROP_CREWAI_LISTENER": "1", **CREWAI_QUIET}, tools=True, env_name="crewai"),
    # The same crews on CrewAI's LiteLLM route (its `litellm` extra), traced with OpenInference's LiteLLM one.
    Library("crewai-litellm", "crewai_app.py",
            (OPENAI_2, "crewai[litellm]==1.15.30", "litellm==1.110.2", "openinference-instrumentation-crewai==1.1.21",
             "openinference-instrumentation-litellm==0.1.51", *OTEL_LATEST),
            {"INTEROP_MODE": "litellm", **CREWAI_QUIET}, tools=True, gaps=("response-model",)),
]
BY_NAME = {library.name: library for library in LIBRARIES}
