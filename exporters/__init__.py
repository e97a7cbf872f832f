"""phosphobs client side: what an instrumented app installs. Imports nothing of the server.

    import phosphobs.exporters as phosphobs

    phosphobs.configure()                      # OpenTelemetry spans + GenAI events → phosphobs over OTLP
    with phosphobs.session("s-1", user_id="u-42"):
        ...                                    # every span (and native event) inside carries the session

    client = phosphobs.Client()                # native REST API, batched in the background
    event_id = client.log("question", "answer", session_id="s-1")

Names load on first use, so `from phosphobs.exporters import Client` does not pull in the OTel SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phosphobs.exporters.async_client import AsyncClient
    from phosphobs.exporters.client import Client
    from phosphobs.exporters.llm_filter import LLMOnlySpanProcessor
    from phosphobs.exporters.openai_capture import wrap_openai
    from phosphobs.exporters.otel_setup import Telemetry, configure
    from phosphobs.exporters.outbox import DeliveryStats
    from phosphobs.exporters.retry import RetryPolicy
    from phosphobs.exporters.session_context import SessionInfo, current_session, session
    from phosphobs.exporters.session_processor import SessionSpanProcessor

_EXPORTS = {
    "AsyncClient": "async_client",
    "Client": "client",
    "DeliveryStats": "outbox",
    "LLMOnlySpanProcessor": "llm_filter",
    "RetryPolicy": "retry",
    "SessionInfo": "session_context",
    "SessionSpanProcessor": "session_processor",
    "Telemetry": "otel_setup",
    "configure": "otel_setup",
    "current_session": "session_context",
    "session": "session_context",
    "wrap_openai": "openai_capture",
}

__all__ = [
    "AsyncClient",
    "Client",
    "DeliveryStats",
    "LLMOnlySpanProcessor",
    "RetryPolicy",
    "SessionInfo",
    "SessionSpanProcessor",
    "Telemetry",
    "configure",
    "current_session",
    "session",
    "wrap_openai",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
