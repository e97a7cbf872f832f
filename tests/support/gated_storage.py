"""A real storage whose writer waits at a gate, so tests can fill the pipeline's queue (or one commit)
deterministically before anything is written."""

from __future__ import annotations

import threading
from typing import Any

from phosphobs.storage.protocol import Storage


class GatedStorage:
    """`write` waits until `gate` is set (at most 10 s), then writes through to the real storage."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.gate = threading.Event()

    def write(self, ops: Any, now_us: int) -> Any:
        self.gate.wait(10)
        return self.inner.write(ops, now_us)
