"""OTLP attribute values as plain Python, and the reshaping every dialect needs.

Instrumentations disagree on shape: the same data arrives as AnyValue trees, as JSON strings, or
flattened into indexed keys (`llm.input_messages.0.message.role`). These helpers make all three
look alike and never raise on bad input, because one odd attribute must not cost a span.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

try:
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson ships with the server extra
    _fast_loads = json.loads

Attrs = dict[str, Any]
_SCALARS = frozenset({"bool_value", "int_value", "double_value"})
# What readers treat as "no value"; `value in _EMPTY` is an inline test (no call) for every attribute type.
_EMPTY = (None, "", [])
# isinstance tuples, not `int | float`: a union in a function body is a new object on every call.
_JSON_SCALARS = (str, int, float, bool)
_NUMBERS = (int, float)


def any_value(value: AnyValue) -> Any:
    """One AnyValue as str/int/float/bool/list/dict/None; bytes become base64 text (JSON-safe)."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    return _other_value(value, which)


def _other_value(value: AnyValue, which: str | None) -> Any:
    """Every AnyValue case but a string (the hot path, handled inline by callers)."""
    if which in _SCALARS:
        return getattr(value, which)
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
    out: Attrs = {}
    for item in items:
        value = item.value
        text = value.string_value  # most attributes are non-empty strings: no oneof check, no call
        if text:
            out[item.key] = text
        else:
            which = value.WhichOneof("value")
            out[item.key] = value.int_value if which == "int_value" else _other_value(value, which)
    return out


def parse_json(value: Any) -> Any:
    """`value` parsed if it is a JSON string, else `value` unchanged; truncated JSON stays a string."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text or (text[0] not in '[{"' and text not in ("null", "true", "false")):
        return value
    try:
        return _fast_loads(text)  # orjson when installed: same results, it only refuses more
    except (ValueError, RecursionError):
        pass
    try:  # what orjson refuses but json reads (NaN, huge ints, lone surrogates), or truly bad JSON
        return json.loads(text)
    except (ValueError, RecursionError):  # truncated by SDK limits, or absurdly deep
        return value


def json_scalar(value: Any) -> Any:
    """Unwrap a JSON-encoded scalar (Langfuse v5 encodes even strings: `"\\"abc\\""`)."""
    parsed = parse_json(value)
    return parsed if isinstance(parsed, _JSON_SCALARS) else value


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
    if isinstance(value, _NUMBERS):
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


class KeyShape:
    """Facts about which keys a span has (never their values), worked out once per distinct key tuple.

    An instrumentation sends the same attribute keys span after span, so the key-only questions that
    readers ask (which keys sit under a prefix, which of a dialect's sources are present) are answered
    for the first span of a shape and looked up for the rest.
    """

    __slots__ = ("_present", "_suffixes", "_under", "keys", "plans")

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys
        self.plans: dict[Hashable, Any] = {}  # readers' own key-only answers, keyed by the reader
        self._present: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._under: dict[str, tuple[str, ...]] = {}
        self._suffixes: dict[str, bool] = {}

    def plan(self, reader: Hashable, make: Callable[[KeyShape], Any]) -> Any:
        """`make(self)`, memoized per `reader`: a reader's key-only preparation for this shape."""
        found = self.plans.get(reader, _MISSING)
        if found is _MISSING:
            found = self.plans[reader] = make(self)
        return found

    def present(self, keys: tuple[str, ...]) -> tuple[str, ...]:
        """Those of `keys` that spans of this shape have, in the order given."""
        found = self._present.get(keys)
        if found is None:
            have = set(self.keys)
            found = self._present[keys] = tuple(key for key in keys if key in have)
        return found

    def under(self, prefix: str) -> tuple[str, ...]:
        """Keys that start with `prefix.` (including the bare `prefix.`), in attribute order."""
        found = self._under.get(prefix)
        if found is None:
            lead = prefix + "."
            found = self._under[prefix] = tuple(key for key in self.keys if key.startswith(lead))
        return found

    def ends_with(self, suffix: str) -> bool:
        """True when some key ends with `suffix`."""
        found = self._suffixes.get(suffix)
        if found is None:
            found = self._suffixes[suffix] = any(key.endswith(suffix) for key in self.keys)
        return found


_MISSING = object()
_SHAPES: dict[tuple[str, ...], KeyShape] = {}
_MAX_SHAPES = 1024  # distinct key sets are few in practice; a flood of them only costs recomputation


def key_shape(attrs: Mapping[str, Any]) -> KeyShape:
    """The shared KeyShape of `attrs`' keys."""
    keys = tuple(attrs)
    shape = _SHAPES.get(keys)
    if shape is None:
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        shape = _SHAPES[keys] = KeyShape(keys)
    return shape


class SpanAttrs:
    """A span's attributes (plus its resource's) that remembers which keys were mapped.

    Whatever no reader asked for is "unmapped" and goes to metadata verbatim (rule 9: keep raw data).
    Readers probe many keys of many dialects, most of them absent, so a probe of an absent key
    costs one dict lookup and only present keys are recorded in `used`.
    """

    __slots__ = ("_present", "attrs", "resource", "shape", "used")

    def __init__(self, attrs: Attrs, resource: Mapping[str, Any] | None = None) -> None:
        self.attrs = attrs  # read-only here, like `resource`: no copy of the caller's dict
        self.resource: Mapping[str, Any] = resource or {}  # callers copy before handing out
        self.shape = shape = key_shape(attrs)
        self._present = shape._present  # `first` reads the shape's cache directly: it runs ~15 times a span
        self.used: set[str] = set()

    def get(self, key: str, resource: bool = False) -> Any:
        """The value under `key` (None when absent or empty), optionally falling back to the resource."""
        attrs = self.attrs
        if key in attrs:
            self.used.add(key)
            value = attrs[key]
            if value not in _EMPTY:
                return value
        if resource:
            value = self.resource.get(key)
            if value not in _EMPTY:
                return value
        return None

    def first(self, *keys: str) -> Any:
        """The first present, non-empty value among `keys`; every present key counts as mapped."""
        present = self._present.get(keys)
        if present is None:
            present = self.shape.present(keys)
        if not present:  # the usual case: other dialects' keys are absent
            return None
        found = None
        attrs, used = self.attrs, self.used
        for key in present:
            used.add(key)
            if found is None:
                value = attrs[key]
                if value not in _EMPTY:
                    found = value
        return found

    def has(self, key: str) -> bool:
        return self.attrs.get(key) not in _EMPTY

    def has_any(self, keys: Iterable[str]) -> bool:
        """True when one of `keys` is present (even empty): a cheap gate before a dialect's reader."""
        return not self.attrs.keys().isdisjoint(keys)

    def unflatten(self, prefix: str) -> Any:
        """`unflatten` over the span attributes, marking the prefix's keys as mapped."""
        keys = self.shape.under(prefix)
        if not keys:
            return None
        self.used.update(keys)
        return unflatten({key: self.attrs[key] for key in keys}, prefix)

    def prefixed(self, prefix: str) -> Attrs:
        """`strip_prefix` over the span attributes, marking the prefix's keys as mapped."""
        found: Attrs = {}
        keys = self.shape.under(prefix)
        if keys:
            self.used.update(keys)
            start, attrs = len(prefix) + 1, self.attrs
            for key in keys:
                if len(key) > start:
                    found[key[start:]] = attrs[key]
        return found

    def unmapped(self) -> Attrs:
        used, found = self.used, {}
        for key, value in self.attrs.items():  # a loop, not a comprehension: no extra frame
            if key not in used:
                found[key] = value
        return found
