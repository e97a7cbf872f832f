"""What kind of call a span is, and its scalar fields (model, provider, usage, cost, session, user, tags).

Each reader walks the mapping doc's §1 priority list for its field, across every dialect at once
(OTel GenAI G0-G3, OpenInference, Traceloop, Vercel AI SDK, Logfire, LiteLLM, Langfuse).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from opentelemetry.proto.trace.v1.trace_pb2 import Status
from phosphobs.collector.otlp.attributes import (
    KeyShape,
    SpanAttrs,
    as_float,
    as_int,
    as_str_list,
    json_scalar,
    parse_json,
)
from phosphobs.storage.calls import FRAMEWORKS
from phosphobs.storage.models import Kind, SpanKind

_LLM_OPERATIONS = {"chat", "text_completion", "generate_content", "responses", "completion"}
_EMBEDDING_OPERATIONS = {"embeddings", "embedding"}
_VERCEL_LLM = {
    "ai.generateText.doGenerate",
    "ai.streamText.doStream",
    "ai.generateObject.doGenerate",
    "ai.streamObject.doStream",
}
_VERCEL_EMBED = {"ai.embed.doEmbed", "ai.embedMany.doEmbed"}
_LITELLM_SPANS = {"raw_gen_ai_request", "litellm_request"}


def classify(name: str, a: SpanAttrs) -> Kind | None:
    """Kind "llm" / "embedding" / "tool" for spans that are one call; None for wrappers (agent, chain, HTTP…)."""
    raw = a.attrs
    operation = str(raw.get("gen_ai.operation.name") or "").lower()
    if operation in _LLM_OPERATIONS:
        return "llm"
    if operation in _EMBEDDING_OPERATIONS:
        return "embedding"
    if operation == "execute_tool":
        return "tool"
    if operation:  # invoke_agent, invoke_workflow, create_agent, retrieval, …: wrappers by definition
        return None
    oi_kind = str(raw.get("openinference.span.kind") or "").upper()
    traceloop_kind = str(raw.get("traceloop.span.kind") or "").lower()
    request_type = str(raw.get("llm.request.type") or "").lower()
    vercel = str(raw.get("ai.operationId") or "")
    langfuse_type = str(raw.get("langfuse.observation.type") or "").lower()
    if oi_kind == "LLM" or request_type in ("chat", "completion") or vercel in _VERCEL_LLM or name in _LITELLM_SPANS:
        return "llm"
    if oi_kind == "EMBEDDING" or request_type == "embedding" or vercel in _VERCEL_EMBED:
        return "embedding"
    if oi_kind == "TOOL" or traceloop_kind == "tool" or vercel == "ai.toolCall" or langfuse_type == "tool":
        return "tool"
    if langfuse_type == "generation" or _is_logfire_v1_call(raw):
        return "llm"
    return None


_OI_CALL_FACTS = ("llm.input_messages", "llm.output_messages", "llm.prompts", "llm.token_count")
# Keys of a request body (OpenAI, Anthropic, Gemini, LangChain): an `input.value` with one of them is a request.
_REQUEST_KEYS = ("messages", "prompt", "prompts", "input", "model", "contents", "system")


def is_openinference_helper_step(a: SpanAttrs) -> bool:
    """An OpenInference `LLM` span that is a step of the LLM object, not a request to the model.

    OpenInference's LlamaIndex instrumentation traces every method of an LLM class with the class's kind, so
    a helper such as `OpenAI._prepare_chat_with_tools` (it builds the request the next span sends) is an `LLM`
    span too: model and invocation parameters, its Python arguments as a JSON object `input.value`
    (`{"tools": …, "user_msg": …, "chat_history": …}`), the prepared keyword arguments as a JSON `output.value`,
    and no messages, prompts or token counts. A call carries at least one of those, or a request body or text
    as its input, or a text answer; a failed call is told apart by its status, so the caller checks that first.
    """
    raw = a.attrs
    if str(raw.get("openinference.span.kind") or "").upper() != "LLM":
        return False
    shape = a.shape  # key questions are answered once per key shape
    if shape.present(_OI_CALL_FACTS) or any(shape.under(fact) for fact in _OI_CALL_FACTS):
        return False
    arguments = parse_json(raw.get("input.value"))
    if not isinstance(arguments, dict) or any(key in arguments for key in _REQUEST_KEYS):
        return False
    output = raw.get("output.value")
    return output is None or isinstance(parse_json(output), dict | list)


# GenAI span names are `{gen_ai.operation.name} {gen_ai.request.model}` (semantic conventions).
_CONVENTIONAL_NAME = re.compile(r"^(chat|text_completion|generate_content|embeddings) (\S+)$")


def bare_failed_call(name: str, a: SpanAttrs, scope_name: str) -> dict[str, str] | None:
    """What a failed call's span says by its name alone, as the attributes it lacks; None if it is no such span.

    Some instrumentations set every attribute only once the provider answered (OpenLIT's Anthropic one): a
    failed call is then a span with a status, an exception event, a conventional name (`chat claude-…`) and
    nothing else. Its instrumentation scope must name the provider (`openlit.instrumentation.anthropic`), so
    an app's own span that merely happens to be called `chat …` is never taken for a call.
    """
    match = _CONVENTIONAL_NAME.match(name)
    if match is None or any(key.startswith(("gen_ai.", "llm.")) for key in a.attrs):
        return None
    named = normalize_provider(scope_name.rsplit(".", 1)[-1]) if "." in scope_name else None
    if named not in _WELL_KNOWN:
        return None
    return {"gen_ai.operation.name": match[1], "gen_ai.request.model": match[2], "gen_ai.provider.name": named}


def _is_logfire_v1_call(raw: dict[str, Any]) -> bool:
    request = parse_json(raw.get("request_data"))
    return isinstance(request, dict) and ("messages" in request or "prompt" in request) and "response_data" in raw


def is_pending_duplicate(a: SpanAttrs) -> bool:
    """Logfire's zero-duration placeholder for a span still running; the real span follows."""
    return a.attrs.get("logfire.span_type") == "pending_span"


def models(a: SpanAttrs) -> tuple[str | None, str | None, str | None]:
    """(model, request model, response model); `model` follows the doc §1 order (response first)."""
    model = a.first(
        "langfuse.observation.model.name", "gen_ai.response.model", "gen_ai.request.model", "llm.model_name",
        "llm.response.model_name", "llm.request.model_name", "ai.response.model", "ai.model.id", "model",
        "embedding.model_name",
    )  # fmt: skip
    raw = a.attrs
    response = raw.get("gen_ai.response.model") or raw.get("llm.response.model_name") or raw.get("llm.model_name")
    response = response or raw.get("ai.response.model")
    request = raw.get("gen_ai.request.model") or raw.get("llm.request.model_name") or raw.get("ai.model.id")
    answered = _langchain_result_model(raw.get("output.value"))
    if answered and not raw.get("gen_ai.response.model"):  # LangChain's request model sits in llm.model_name
        model = answered if model == raw.get("llm.model_name") else model
        response = answered
    for source in ("llm.invocation_parameters", "request_data"):  # e.g. an OpenInference error span
        if request or source not in raw:
            continue
        params = parse_json(raw[source])
        if isinstance(params, dict) and params.get("model"):
            request = params["model"]
    return _str(model or request), _str(request), _str(response)


def _langchain_result_model(value: Any) -> str | None:
    """The provider's model in a LangChain `LLMResult` (OpenInference's `output.value`).

    A streamed call's `llm.model_name` is the model the app asked for; the one that answered is only in the
    result's `llm_output` or, streamed, its generation's `generation_info` / `response_metadata`.
    """
    if not isinstance(value, str) or '"generations"' not in value[:24]:  # only LangChain results are parsed
        return None
    result = parse_json(value)
    if not isinstance(result, dict):
        return None
    found = (result.get("llm_output") or {}).get("model_name") if isinstance(result.get("llm_output"), dict) else None
    generations = result.get("generations")
    batch = generations[0] if isinstance(generations, list) and generations else None
    first = batch[0] if isinstance(batch, list) and batch else None
    if not found and isinstance(first, dict):
        info = first.get("generation_info")
        found = info.get("model_name") if isinstance(info, dict) else None
        message = first.get("message")
        kwargs = message.get("kwargs") if isinstance(message, dict) else None
        metadata = kwargs.get("response_metadata") if isinstance(kwargs, dict) else None
        found = found or (metadata.get("model_name") if isinstance(metadata, dict) else None)
    return found if isinstance(found, str) and found else None


# doc §6.1: G3 vocabulary; a prefix matches the value itself or `<prefix>.…` / `<prefix>-…`.
_WELL_KNOWN = {
    "openai", "anthropic", "aws.bedrock", "azure.ai.inference", "azure.ai.openai", "cohere", "deepseek",
    "gcp.gemini", "gcp.gen_ai", "gcp.vertex_ai", "groq", "ibm.watsonx.ai", "mistral_ai", "moonshot_ai",
    "perplexity", "x_ai",
}  # fmt: skip
_PREFIXES = [
    ("google.vertex", "gcp.vertex_ai"), ("google-vertex", "gcp.vertex_ai"), ("google.generative-ai", "gcp.gemini"),
    ("google", "gcp.gemini"), ("amazon-bedrock", "aws.bedrock"), ("bedrock", "aws.bedrock"),
    ("azure-openai", "azure.ai.openai"), ("azure", "azure.ai.inference"), ("mistral", "mistral_ai"), ("xai", "x_ai"),
    ("openai", "openai"), ("anthropic", "anthropic"), ("cohere", "cohere"), ("groq", "groq"),
    ("deepseek", "deepseek"), ("perplexity", "perplexity"),
]  # fmt: skip
_ALIASES = {
    "mistralai": "mistral_ai", "vertexai": "gcp.vertex_ai", "vertex_ai": "gcp.vertex_ai", "aws": "aws.bedrock",
    "gemini": "gcp.gemini", "ibm.watson.ai": "ibm.watsonx.ai", "az.ai.inference": "azure.ai.inference",
    # LangChain's `ls_provider` names
    "google_vertexai": "gcp.vertex_ai", "google_genai": "gcp.gemini", "amazon_bedrock": "aws.bedrock",
}  # fmt: skip
_HOSTS = [
    ("api.openai.com", "openai"), (".openai.azure.com", "azure.ai.openai"), ("api.anthropic.com", "anthropic"),
    ("generativelanguage.googleapis.com", "gcp.gemini"), ("aiplatform.googleapis.com", "gcp.vertex_ai"),
    ("bedrock-runtime.", "aws.bedrock"), ("api.mistral.ai", "mistral_ai"), ("api.groq.com", "groq"),
    ("api.deepseek.com", "deepseek"), ("api.x.ai", "x_ai"), ("api.cohere.", "cohere"),
    ("api.perplexity.ai", "perplexity"),
]  # fmt: skip


def normalize_provider(value: Any) -> str | None:
    """A provider name in the G3 vocabulary (`mistralai` → `mistral_ai`, `openai.chat` → `openai`)."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().lower()
    if text in _WELL_KNOWN:
        return text
    if text in _ALIASES:
        return _ALIASES[text]
    for prefix, mapped in _PREFIXES:
        if text == prefix or text.startswith((prefix + ".", prefix + "-")):
            return mapped
    return text


# Route prefixes of routers and proxies (LiteLLM `openai/gpt-4o-mini`, `vertex_ai/gemini-pro`): exact names only,
# so a Hugging Face id such as `google/gemma-2-9b` or `meta-llama/Llama-3-8B` keeps its slash.
_ROUTES = {
    "openai": "openai", "text-completion-openai": "openai", "anthropic": "anthropic", "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference", "bedrock": "aws.bedrock", "bedrock_converse": "aws.bedrock",
    "vertex_ai": "gcp.vertex_ai", "vertex_ai_beta": "gcp.vertex_ai", "gemini": "gcp.gemini",
    "mistral": "mistral_ai", "groq": "groq", "cohere": "cohere", "cohere_chat": "cohere", "deepseek": "deepseek",
    "xai": "x_ai", "perplexity": "perplexity", "together_ai": "together_ai", "fireworks_ai": "fireworks_ai",
    "openrouter": "openrouter", "ollama": "ollama", "ollama_chat": "ollama", "watsonx": "ibm.watsonx.ai",
}  # fmt: skip


def split_route(model: str) -> tuple[str | None, str]:
    """(provider, model) of a router's `provider/model` id; (None, model) when the prefix names no provider."""
    prefix, _, rest = model.partition("/")
    routed = _ROUTES.get(prefix.strip().lower()) if rest else None
    return (routed, rest) if routed else (None, model)


def model_and_provider(model: str | None, provider_name: str | None) -> tuple[str | None, str | None]:
    """The model without a router's provider prefix, and the provider that prefix names.

    The prefix is split off only when it agrees with the provider the span names (or it names none): a model
    literally called `x/y` at a provider other than `x` keeps its name.
    """
    if model is None or "/" not in model:  # the common case costs one substring test
        return model, provider_name
    routed, bare = split_route(model)
    if routed is None or (provider_name is not None and provider_name != routed):
        return model, provider_name
    return bare, routed


def provider(a: SpanAttrs, model: str | None = None) -> str | None:
    """Provider from the identity attributes, else inferred from the server host, else LangChain's `ls_provider`.

    When the identity attributes name an agent framework instead, or the span speaks Langfuse's vocabulary
    (which has no provider), the host decides, else the model's own name (`gpt-…` is OpenAI's, a Bedrock id
    `us.anthropic.claude-…` Bedrock's), else the provider is unknown.
    """
    value = a.first("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system", "ai.model.provider")
    named = normalize_provider(value) if value is not None else None
    if named is not None and named not in FRAMEWORKS:
        return named
    address = a.attrs.get("server.address") or a.attrs.get("gen_ai.openai.api_base")
    host = (urlparse(str(address)).hostname if "//" in str(address) else str(address)) if address else None
    for pattern, mapped in _HOSTS if host else ():
        if host == pattern or pattern in host:
            return mapped
    if (langchain := _langchain_provider(a.attrs.get("metadata"))) is not None:
        return langchain
    if named is not None or _LANGFUSE_MODEL in a.attrs:
        return provider_of_model(model)
    return None


# Langfuse's data model has no provider at all: a generation names its model only (Langfuse prices it by that
# name alone), so a span in its vocabulary that names no provider leaves it to the model's family.
_LANGFUSE_MODEL = "langfuse.observation.model.name"


def _langchain_provider(metadata: Any) -> str | None:
    """The `ls_provider` a LangChain chat model puts in its run metadata (OpenInference's `metadata` JSON).

    OpenInference's LangChain.js instrumentation sends no `llm.provider` / `llm.system`: this is the span's only
    word on who served the call. It is the model class's claim (ChatOpenAI says `openai` whatever compatible
    server its base URL names), so a provider attribute or a known host wins over it.
    """
    if isinstance(metadata, str):
        if "ls_provider" not in metadata:  # most spans: no parse
            return None
        metadata = parse_json(metadata)
    value = metadata.get("ls_provider") if isinstance(metadata, dict) else None
    return normalize_provider(value) if isinstance(value, str) else None


_BEDROCK_ID = re.compile(r"^(?:(?:us|eu|apac|us-gov|global)\.)?"
                         r"(?:anthropic|amazon|meta|mistral|cohere|ai21|deepseek|qwen|openai|writer)\.[a-z]")
_MODEL_FAMILIES = (
    (re.compile(r"^(?:gpt-|chatgpt-|o[134](?:$|-)|text-embedding-|davinci|babbage|dall-e|whisper|tts-)"), "openai"),
    (re.compile(r"^claude-"), "anthropic"),
    (re.compile(r"^gemini-"), "gcp.gemini"),
    (re.compile(r"^(?:mistral-|mixtral-|codestral|ministral|pixtral|magistral)"), "mistral_ai"),
    (re.compile(r"^command-"), "cohere"),
    (re.compile(r"^grok-"), "x_ai"),
    (re.compile(r"^deepseek-"), "deepseek"),
)  # fmt: skip


def provider_of_model(model: str | None) -> str | None:
    """The provider a model name belongs to, for the few families only one provider serves under that name.

    Only asked when a span names no provider but a framework, or cannot name one (Langfuse): a bare
    `gpt-4o-mini` is OpenAI's own API.
    """
    if not model:
        return None
    name = model.strip().lower()
    if _BEDROCK_ID.match(name):
        return "aws.bedrock"
    return next((mapped for pattern, mapped in _MODEL_FAMILIES if pattern.match(name)), None)


_LANGFUSE_LEVEL, LANGFUSE_STATUS_MESSAGE = "langfuse.observation.level", "langfuse.observation.status_message"


def failed(status_code: int, a: SpanAttrs) -> bool:
    """A failed span: status ERROR, or a Langfuse observation at level ERROR.

    Langfuse's JS SDK (its `observeOpenAI` wrapper) reports a failed call only as the observation's level and
    status message and leaves the span's status unset; its Python SDK sets both.
    """
    if status_code == Status.STATUS_CODE_ERROR:
        return True
    level = a.attrs.get(_LANGFUSE_LEVEL)  # not marked as mapped: the level stays among the span's attributes
    return isinstance(level, str) and level.upper() == "ERROR"


_TOKENS_IN = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt",
              "ai.usage.inputTokens", "ai.usage.promptTokens", "gen_ai.usage.details.input_tokens")  # fmt: skip
_TOKENS_OUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion",
               "ai.usage.outputTokens", "ai.usage.completionTokens", "gen_ai.usage.details.output_tokens")  # fmt: skip


_DETAILS, _RAW_USAGE = "langfuse.observation.usage_details", "gen_ai.usage.raw"


def tokens(a: SpanAttrs) -> tuple[int | None, int | None]:
    """(input, output) token counts; None when the span reports no usage."""
    raw_attrs = a.attrs
    tin, tout = a.first(*_TOKENS_IN), a.first(*_TOKENS_OUT)
    tin = tin if type(tin) is int else as_int(tin)
    tout = tout if type(tout) is int else as_int(tout)
    if tin is not None and tout is not None and _DETAILS not in raw_attrs and _RAW_USAGE not in raw_attrs:
        return tin, tout  # the usual case: both counts as integers, no usage JSON to map
    details = parse_json(a.get(_DETAILS)) if _DETAILS in raw_attrs else None
    raw = parse_json(a.get(_RAW_USAGE)) if _RAW_USAGE in raw_attrs else None
    details = details if isinstance(details, dict) else {}
    raw = raw if isinstance(raw, dict) else {}
    if not raw and "response_data" in raw_attrs:  # Logfire v1: {"message", "usage"}
        response_data = parse_json(raw_attrs["response_data"])
        if isinstance(response_data, dict) and isinstance(response_data.get("usage"), dict):
            raw = response_data["usage"]
    if tin is None:
        tin = _count(details, _USAGE_IN, "input") if details else None
        tin = _count(raw, _USAGE_IN) if tin is None else tin
    if tout is None:
        tout = _count(details, _USAGE_OUT, "output") if details else None
        tout = _count(raw, _USAGE_OUT) if tout is None else tout
    return tin, tout


# The keys of a usage object: Langfuse's own (`input`, `output`), OpenAI Chat Completions' (`prompt_tokens`,
# `completion_tokens`), OpenAI Responses' and Anthropic's (`input_tokens`, `output_tokens`). Langfuse's SDK
# integrations (its OpenAI drop-in) put the provider's usage object into `usage_details` as it came.
_USAGE_IN = ("input", "prompt_tokens", "input_tokens")
_USAGE_OUT = ("output", "completion_tokens", "output_tokens")


def _count(usage: dict[str, Any], names: tuple[str, ...], langfuse: str = "") -> int | None:
    """The first count among `names`; Langfuse's own `input` / `output` plus their `input_*` / `output_*` parts.

    Langfuse's usage types are disjoint (it sums them all into `total`): its JS OpenAI wrapper sends `input` as the
    prompt tokens less `input_cached_tokens` (and `output` less `output_reasoning_tokens`), so the call's counts are
    the sums.
    """
    for name in names:
        value = as_int(usage.get(name))
        if value is not None:
            if name == langfuse:
                prefix = f"{name}_"
                value += sum(part for key, count in usage.items()  # never a provider-shape total beside it
                             if key.startswith(prefix) and key not in names and (part := as_int(count)) is not None)
            return value
    return None


_USAGE_EXTRAS = {
    "total_tokens": ("gen_ai.usage.total_tokens", "llm.usage.total_tokens", "llm.token_count.total",
                     "ai.usage.totalTokens", "ai.usage.tokens"),
    "cache_read_input_tokens": ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
                                "llm.token_count.prompt_details.cache_read", "ai.usage.cachedInputTokens"),
    "cache_write_input_tokens": ("gen_ai.usage.cache_write.input_tokens",
                                 "gen_ai.usage.cache_creation.input_tokens",
                                 "gen_ai.usage.cache_creation_input_tokens",
                                 "llm.token_count.prompt_details.cache_write"),
    "reasoning_output_tokens": ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens",
                                "llm.token_count.completion_details.reasoning", "llm.usage.reasoning_tokens",
                                "ai.usage.reasoningTokens"),
}  # fmt: skip


USAGE_EXTRA_KEYS = frozenset(key for keys in _USAGE_EXTRAS.values() for key in keys)


def usage_extras(a: SpanAttrs) -> dict[str, int]:
    """Total, cache and reasoning counts for metadata (they are subsets or sums, never added)."""
    if not a.has_any(USAGE_EXTRA_KEYS):
        return {}
    found = {name: as_int(a.first(*keys)) for name, keys in _USAGE_EXTRAS.items()}
    return {name: value for name, value in found.items() if value is not None}


_COST_USD = ("llm.cost.total", "gen_ai.usage.cost", "gen_ai.cost.total_cost", "operation.cost")
_COST_DETAILS = "langfuse.observation.cost_details"
COST_KEYS = frozenset((*_COST_USD, _COST_DETAILS))  # without any of them `cost_cents` is None


def cost_cents(a: SpanAttrs) -> float | None:
    """Reported cost in cents (telemetry reports USD); None lets the pipeline estimate it."""
    usd = as_float(a.first(*_COST_USD))
    if usd is None and _COST_DETAILS in a.attrs:
        details = parse_json(a.get(_COST_DETAILS))
        usd = as_float(details.get("total")) if isinstance(details, dict) else None
    return None if usd is None else usd * 100


_SESSION_KEYS = [
    ("langfuse.session.id", False), ("session.id", True), ("traceloop.association.properties.session_id", False),
    ("ai.telemetry.metadata.sessionId", False), ("gen_ai.conversation.id", False),
    ("langfuse.trace.metadata.langfuse_session_id", False),
    ("langfuse.observation.metadata.langfuse_session_id", False),
]  # fmt: skip
_USER_KEYS = [
    ("langfuse.user.id", False), ("user.id", True), ("traceloop.association.properties.user_id", False),
    ("ai.telemetry.metadata.userId", False), ("enduser.id", True), ("gen_ai.user", False), ("llm.user", False),
    ("metadata.user_api_key_end_user_id", False), ("langfuse.trace.metadata.langfuse_user_id", False),
    ("langfuse.observation.metadata.langfuse_user_id", False),
]  # fmt: skip


class _Identity:
    """One identity field (session or user): its keys by precedence and the Langfuse metadata suffix."""

    def __init__(self, keys: list[tuple[str, bool]], suffix: str) -> None:
        self.keys, self.suffix = keys, suffix
        self.span_keys = frozenset(key for key, _ in keys)
        self.resource_keys = frozenset(key for key, on_resource in keys if on_resource)

    def read(self, a: SpanAttrs) -> str | None:
        found = None
        attrs, resource = a.attrs, a.resource
        if not (attrs.keys().isdisjoint(self.span_keys) and resource.keys().isdisjoint(self.resource_keys)):
            for key, on_resource in a.shape.plan(self, self._probed):
                if key in attrs or (on_resource and key in resource):
                    value = a.get(key, on_resource)  # positional: a keyword costs a lookup per call
                    if found is None and value is not None:
                        found = value
        suffix = self.suffix
        if found is None and a.shape.ends_with(suffix):
            found = next((v for k, v in sorted(attrs.items()) if k.endswith(suffix) and v not in (None, "")), None)
        return None if found is None else _identity_text(found)

    def _probed(self, shape: KeyShape) -> list[tuple[str, bool]]:
        """The keys worth probing on spans of one shape: those it has, and those the resource may have."""
        return [(key, on_resource) for key, on_resource in self.keys if on_resource or key in shape.keys]


def _identity_text(value: Any) -> str | None:
    """`_str(json_scalar(value))`, short for the usual plain id string (one that cannot be JSON)."""
    if type(value) is str:
        text = value.strip()
        if text[:1] not in _JSON_OPENERS and text not in _JSON_WORDS:
            return text or None
        if text.startswith(_SCRUBBED):
            return None  # Logfire's scrubber replaced the id: one such "session" would hold every conversation
    return _str(json_scalar(value))


_SCRUBBED = "[Scrubbed due to "


_JSON_OPENERS, _JSON_WORDS = frozenset('[{"'), frozenset(("null", "true", "false"))  # what `parse_json` tries
# The span's own session id (by the Langfuse-compatible precedence, doc §1) and end-user id: bound
# methods rather than wrapper functions, one call less for each span.
session_id = _Identity(_SESSION_KEYS, "metadata.langfuse_session_id").read

_CONVERSATION = "gen_ai.conversation.id"
_APP_SESSION_KEYS = frozenset(key for key, _ in _SESSION_KEYS if key != _CONVERSATION)


def session_is_library_default(a: SpanAttrs) -> bool:
    """The span's session is only `gen_ai.conversation.id`, which agent libraries (pydantic-ai) make up per run
    when the app passed none: it then names the trace, and any session the app set on a span around it wins
    (the earliest span's, see storage/sessions.py)."""
    attrs = a.attrs
    if _CONVERSATION not in attrs:  # the common case: one dict lookup
        return False
    return attrs.keys().isdisjoint(_APP_SESSION_KEYS) and "session.id" not in a.resource
user_id = _Identity(_USER_KEYS, "metadata.langfuse_user_id").read


_TAG_KEYS = ("tag.tags", "langfuse.trace.tags", "langfuse.tags", "ai.telemetry.metadata.tags", "logfire.tags")
_TAG_SUFFIX = "metadata.langfuse_tags"


def has_tags(shape: KeyShape) -> bool:
    """False when spans of this shape carry no tag key, so `tags` is [] for them."""
    return bool(shape.present(_TAG_KEYS)) or shape.ends_with(_TAG_SUFFIX)


def tags(a: SpanAttrs) -> list[str]:
    """Tags from the first tag-carrying key; arrays, JSON-array strings and comma lists all work."""
    value = a.first(*_TAG_KEYS)
    if value is None and a.shape.ends_with(_TAG_SUFFIX):
        value = next((v for k, v in sorted(a.attrs.items()) if k.endswith(_TAG_SUFFIX)), None)
    return [] if value is None else as_str_list(value)


_ENVIRONMENT_KEYS = ("langfuse.environment", "deployment.environment.name", "deployment.environment")


def environment(a: SpanAttrs) -> str | None:
    if a.attrs.keys().isdisjoint(_ENVIRONMENT_KEYS) and a.resource.keys().isdisjoint(_ENVIRONMENT_KEYS):
        return None
    for key in _ENVIRONMENT_KEYS:
        value = a.get(key, resource=True)
        if value is not None:
            return _str(value)
    return None


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = (value if type(value) is str else str(value)).strip()
    return text or None


_OPERATION_KINDS: dict[str, SpanKind] = {
    "invoke_agent": "agent", "create_agent": "agent", "invoke_workflow": "workflow", "retrieval": "retrieval",
    "retrieve": "retrieval", "rerank": "other", "guardrail": "other", "evaluate": "other",
}  # fmt: skip
_OPENINFERENCE_KINDS: dict[str, SpanKind] = {
    "AGENT": "agent", "CHAIN": "workflow", "RETRIEVER": "retrieval", "RERANKER": "other", "GUARDRAIL": "other",
    "EVALUATOR": "other", "PROMPT": "other",
}  # fmt: skip
_TRACELOOP_KINDS: dict[str, SpanKind] = {"workflow": "workflow", "task": "workflow", "agent": "agent"}
_LANGFUSE_KINDS: dict[str, SpanKind] = {
    "agent": "agent", "chain": "workflow", "retriever": "retrieval", "embedding": "embedding", "span": "other",
    "evaluator": "other", "guardrail": "other", "event": "other",
}  # fmt: skip
_AGENT_NAMES = ("gen_ai.agent.name", "agent_name", "agent.name", "traceloop.entity.name")


def wrapper_kind(name: str, a: SpanAttrs) -> SpanKind | None:
    """The GenAI kind of a span that is not a call (agent, workflow, retrieval, …); None for plain spans.

    Called only when `classify` found no call, so the hot path (LLM spans) never pays for it.
    """
    raw = a.attrs
    operation = str(raw.get("gen_ai.operation.name") or "").lower()
    if operation:
        return _OPERATION_KINDS.get(operation, "other")
    oi_kind = raw.get("openinference.span.kind")
    if oi_kind:
        return _OPENINFERENCE_KINDS.get(str(oi_kind).upper(), "other")
    traceloop_kind = raw.get("traceloop.span.kind")
    if traceloop_kind:
        return _TRACELOOP_KINDS.get(str(traceloop_kind).lower(), "other")
    langfuse_type = raw.get("langfuse.observation.type")
    if langfuse_type:
        return _LANGFUSE_KINDS.get(str(langfuse_type).lower(), "other")
    if "gen_ai.agent.name" in raw or "agent_name" in raw:  # pydantic-ai's `agent run` (Logfire)
        return "agent"
    if str(raw.get("ai.operationId") or "").startswith("ai."):  # Vercel AI SDK's outer generateText & co.
        return "workflow"
    if any(key.startswith("gen_ai.") for key in raw):
        return "other"
    return None


def agent_name(a: SpanAttrs) -> str | None:
    return _str(a.first(*_AGENT_NAMES))


def tool_name(a: SpanAttrs) -> str | None:
    return _str(a.first("gen_ai.tool.name", "tool.name", "ai.toolCall.name", "tool_name"))
