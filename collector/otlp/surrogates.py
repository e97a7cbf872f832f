"""Lone UTF-16 surrogates in decoded text: JSON escapes allow them, no UTF-8 encoder (protobuf, SQLite,
Postgres) takes them. They become U+FFFD; a well-formed pair becomes its character."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
