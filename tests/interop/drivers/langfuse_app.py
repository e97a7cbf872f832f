"""The scenario as a Langfuse user writes it: the Langfuse OpenAI drop-in inside an `@observe` function, session
and user with `propagate_attributes`, the SDK's own exporter (OTLP/HTTP protobuf, gzip, HTTP Basic auth), and a
user-feedback score of the trace.

The switch to phosphobs is only the host and the secret key: LANGFUSE_HOST is the suite's OTLP base URL (the
recording tap), LANGFUSE_SECRET_KEY a phosphobs key, the public key anything. The suite's own OTLP exporter
settings (endpoint, Bearer header) are removed first, so nothing but the Langfuse set-up can reach the server.
"""

from __future__ import annotations

import os

from common import (
    OPENAI_URL,
    SESSION_ID,
    USER_ID,
    openai_conversation,
)

os.environ["LANGFUSE_HOST"] = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]
os.environ["LANGFUSE_PUBLIC_KEY"] = "pk-lf-interop"
os.environ["LANGFUSE_SECRET_KEY"] = os.environ["INTEROP_AUTHORIZATION"].removeprefix("Bearer ")
for name in [name for name in os.environ if name.startswith("OTEL_EXPORTER_OTLP")]:
    del os.environ[name]

from langfuse import get_client, observe, propagate_attributes  # noqa: E402  (reads the settings above)
from langfuse.openai import OpenAI  # noqa: E402


@observe(name="geography-chat")
def conversation() -> None:
    with propagate_attributes(session_id=SESSION_ID, user_id=USER_ID):
        openai_conversation(OpenAI(base_url=OPENAI_URL, api_key="sk-interop", max_retries=0))
    # The user's thumbs-down on the turn, as Langfuse's user-feedback guide records it: a score of the whole
    # trace, sent by the SDK's score queue to `POST /api/public/scores`, apart from the spans.
    get_client().score_current_trace(name="user-feedback", value=0, data_type="BOOLEAN", comment="no answer")


if __name__ == "__main__":
    assert get_client().auth_check()  # as in Langfuse's quickstart: the key's project, from phosphobs
    conversation()
    get_client().shutdown()
