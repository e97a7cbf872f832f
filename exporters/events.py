"""Native API payloads: one event or one feedback, built at `log()` time and encoded at send time.

Building never raises on odd values (the app's call must not fail because of telemetry): text is
coerced to str, unknown objects are stringified, NaN/inf become null.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

KNOWN_METADATA = (
    "model", "provider", "latency_ms", "token_count_input", "token_count_output", "cost_cents", "user_id", "tags",
)


def as_text(value: Any) -> str:
    """The API takes strings; chat message lists and dicts travel as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def iso_timestamp(value: datetime | float | int | str | None) -> str:
    """ISO 8601 in UTC; numbers are Unix seconds. Set at log time, so retries keep the real time."""
    if value is None:
        return datetime.now(UTC).isoformat()
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return datetime.fromtimestamp(float(value), UTC).isoformat()


def new_event_id(event_id: str | uuid.UUID | None) -> str:
    return str(event_id) if event_id is not None else str(uuid.uuid4())


def build_event(
    input: Any,
    output: Any,
    *,
    event_id: str,
    session_id: str | None,
    user_id: str | None,
    metadata: Mapping[str, Any] | None,
    timestamp: datetime | float | int | str | None,
    known: Mapping[str, Any],
) -> dict[str, Any]:
    """The wire event; keyword metadata (`model=`, `latency_ms=`…) wins over the same keys in `metadata`."""
    meta = dict(metadata or {})
    meta.update({k: v for k, v in known.items() if v is not None})
    if user_id is not None:
        meta["user_id"] = str(user_id)
    if "tags" in meta and isinstance(meta["tags"], str):
        meta["tags"] = [meta["tags"]]
    event: dict[str, Any] = {
        "event_id": event_id,
        "input": as_text(input),
        "output": as_text(output),
        "timestamp": iso_timestamp(timestamp),
        "metadata": meta,
    }
    if session_id is not None:
        event["session_id"] = str(session_id)
    return event


def build_feedback(event_id: str, flag: str, comment: str | None, source: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"event_id": str(event_id), "flag": flag, "source": source or "user"}
    if comment is not None:
        body["comment"] = comment
    return body


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def encode(body: Any) -> bytes:
    """Strict JSON: a NaN would make the server reject the whole batch."""
    try:
        return json.dumps(body, default=str, ensure_ascii=False, allow_nan=False).encode()
    except (ValueError, TypeError):  # NaN/inf, or dict keys json cannot write
        return json.dumps(_finite(body), default=str, ensure_ascii=False, allow_nan=False).encode()
