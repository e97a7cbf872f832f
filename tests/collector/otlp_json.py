"""An OTLP/JSON encoder for tests: protobuf messages as real OTLP/JSON senders write them.

Unlike stock proto3 JSON, OTLP/JSON writes trace/span ids as hex and enums as integers; int64 values
are decimal strings. `snake_case=True` writes the proto field names, which receivers must also accept.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

_ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}


def to_otlp_json(message: Message, *, snake_case: bool = False) -> bytes:
    """`message` as an OTLP/JSON document (UTF-8 bytes)."""
    document = MessageToDict(message, use_integers_for_enums=True, preserving_proto_field_name=snake_case)
    return json.dumps(_ids_to_hex(document)).encode("utf-8")


def _ids_to_hex(node: Any) -> Any:
    if isinstance(node, list):
        return [_ids_to_hex(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: base64.b64decode(value).hex() if key in _ID_KEYS and isinstance(value, str) else _ids_to_hex(value)
        for key, value in node.items()
    }
