"""What the readers of other tools' evaluations share (Langfuse scores, Phoenix annotations): text limits, and
keeping the good items of a batch while naming why each other one was refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from phosphobs.collector.errors import TOO_LARGE, ApiError
from phosphobs.storage.models import Evaluation
from pydantic import ValidationError

MAX_LABEL = 200
MAX_TEXT = 2000
MAX_ITEMS = 10_000  # per request: one group commit stays short (the SDKs send a few dozen at a time)


def first_problem(exc: ValidationError, what: str) -> str:
    """A validation error as one line: the first bad field's path and what is wrong with it."""
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc']) or what}: {first['msg']}"


def partition(items: list[Any], convert: Callable[[Any], Evaluation]) -> tuple[list[Evaluation], list[tuple[int, str]]]:
    """The items `convert` keeps, and (index, reason) for each it refuses with a ValueError. More than
    `MAX_ITEMS` is refused whole (413), before any is read."""
    if len(items) > MAX_ITEMS:
        raise ApiError(TOO_LARGE, f"{len(items):,} items in one request; send at most {MAX_ITEMS:,} at a time")
    kept: list[Evaluation] = []
    refused: list[tuple[int, str]] = []
    for index, item in enumerate(items):
        try:
            kept.append(convert(item))
        except ValueError as exc:
            refused.append((index, str(exc)))
    return kept, refused
