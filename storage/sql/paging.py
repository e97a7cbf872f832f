"""Keyset pages: every listing asks for `limit + 1` rows and cuts them here, so "is there more" is one rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from phosphobs.storage.protocol import Page

T = TypeVar("T")


def keyset_page(rows: Sequence[Any], limit: int, record: Callable[[Any], T], cursor: Callable[[Any], Any]) -> Page[T]:
    """The first `limit` rows as records; the next cursor comes from the last of them, only when a row
    beyond them was read."""
    return Page(items=[record(r) for r in rows[:limit]],
                next_after=cursor(rows[limit - 1]) if len(rows) > limit else None)
