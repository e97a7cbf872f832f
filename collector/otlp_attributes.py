"""OTLP attribute values as plain Python, and the reshaping every dialect needs.

Instrumentations disagree on shape: the same data arrives as AnyValue trees, as JSON strings, or
flattened into indexed keys (`llm.input_messages.0.message.role`). These helpers make all three
look alike and never raise on bad input, because one odd attribute must not cost a span.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

Attrs = dict[str, Any]


def any_value(value: AnyValue) -> Any:
    """One AnyValue as str/int/float/bool/list/dict/None; bytes become base64 text (JSON-safe)."""
    which = value.WhichOneof("value")
    if which is None or which == "string_value_strindex":  # empty AnyValue means null
        return None
    if which == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return key_values(value.kvlist_value.values)
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, which)


def key_values(items: Iterable[KeyValue]) -> Attrs:
    """A KeyValue list as a dict; a repeated key keeps its last value, as OTel SDKs do."""
    return {item.key: any_value(item.value) for item in items}


def parse_json(value: Any) -> Any:
    """`value` parsed if it is a JSON string, else `value` unchanged; truncated JSON stays a string."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text or (text[0] not in '[{"' and text not in ("null", "true", "false")):
        return value
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # truncated by SDK limits, or absurdly deep
        return value


def json_scalar(value: Any) -> Any:
    """Unwrap a JSON-encoded scalar (Langfuse v5 encodes even strings: `"\\"abc\\""`)."""
    parsed = parse_json(value)
    return parsed if isinstance(parsed, str | int | float | bool) else value


def as_text(value: Any) -> str | None:
    """A value as display text: strings as-is, structures as compact JSON, None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        return str(value)


def as_int(value: Any) -> int | None:
    """An integer from an int, an integral float or a numeric string; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return None
    return None


def as_float(value: Any) -> float | None:
    """A float from a number or numeric string; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def as_str_list(value: Any) -> list[str]:
    """Tags-like values: a list, a JSON-array string, or a comma-separated string."""
    parsed = parse_json(value)
    if isinstance(parsed, list):
        return [str(item) for item in parsed if item is not None and str(item)]
    if isinstance(parsed, str):
        return [part.strip() for part in parsed.split(",") if part.strip()]
    return []


def unflatten(attrs: Mapping[str, Any], prefix: str) -> Any:
    """Rebuild the structure flattened under `prefix.`; numeric path segments become list items.

    `{"p.0.message.role": "user"}` with prefix `p` gives `[{"message": {"role": "user"}}]`.
    Returns None when no key lives under the prefix. Gaps in indices are dropped, order kept.
    """
    root: dict[str, Any] = {}
    lead = prefix + "."
    for key, value in attrs.items():
        if not key.startswith(lead) or len(key) == len(lead):
            continue
        node = root
        parts = key[len(lead) :].split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):  # a deeper key wins over a conflicting leaf
                child = node[part] = {}
            node = child
        if not isinstance(node.get(parts[-1]), dict):
            node[parts[-1]] = value
    return _listify(root) if root else None


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def strip_prefix(attrs: Mapping[str, Any], prefix: str) -> Attrs:
    """The keys under `prefix.` with the prefix removed (one level, not unflattened)."""
    lead = prefix + "."
    return {key[len(lead) :]: value for key, value in attrs.items() if key.startswith(lead) and len(key) > len(lead)}


class SpanAttrs:
    """A span's attributes (plus its resource's) that remembers which keys were mapped.

    Whatever no reader asked for is "unmapped" and goes to metadata verbatim (rule 9: keep raw data).
    """

    def __init__(self, attrs: Mapping[str, Any], resource: Mapping[str, Any] | None = None) -> None:
        self.attrs = dict(attrs)
        self.resource = dict(resource or {})
        self.used: set[str] = set()

    def get(self, key: str, *, resource: bool = False) -> Any:
        """The value under `key` (None when absent or empty), optionally falling back to the resource."""
        self.used.add(key)
        value = self.attrs.get(key)
        if _empty(value) and resource:
            value = self.resource.get(key)
        return None if _empty(value) else value

    def first(self, *keys: str) -> Any:
        """The first present, non-empty value among `keys`; every key counts as mapped."""
        found = None
        for key in keys:
            value = self.get(key)
            if found is None and value is not None:
                found = value
        return found

    def has(self, key: str) -> bool:
        return not _empty(self.attrs.get(key))

    def unflatten(self, prefix: str) -> Any:
        """`unflatten` over the span attributes, marking the prefix's keys as mapped."""
        lead = prefix + "."
        self.used.update(key for key in self.attrs if key.startswith(lead))
        return unflatten(self.attrs, prefix)

    def prefixed(self, prefix: str) -> Attrs:
        lead = prefix + "."
        self.used.update(key for key in self.attrs if key.startswith(lead))
        return strip_prefix(self.attrs, prefix)

    def unmapped(self) -> Attrs:
        return {key: value for key, value in self.attrs.items() if key not in self.used}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []
