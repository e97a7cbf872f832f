"""The worker thread that decodes and normalizes ingest requests, off the event loop.

One thread, not a pool: the work is pure Python and holds the GIL, so more threads would not run it
faster, only take more turns of the GIL from the event loop, which must stay free to answer health
checks, refuse overload and read other requests. Requests waiting for this thread count as in flight
in the pipeline's admission, so their wait is bounded like the queue's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Offloader:
    def __init__(self, threads: int = 1) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="phosphobs-decode")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))
