"""`AsyncClient`: the same API for asyncio apps; the sender is a task on the app's event loop.

`log()` stays a plain, non-blocking method (no await on the hot path). The task starts with the first
`log()` made inside a running loop. Events still queued at interpreter exit (the loop is gone by then)
are sent by a blocking exit hook; call `await aclose()` to settle them on the loop instead.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import time
from typing import Any

from phosphobs.exporters.client_base import ClientBase
from phosphobs.exporters.delivery import deliver
from phosphobs.exporters.transport import AsyncTransport, SyncTransport


class AsyncClient(ClientBase):
    def __init__(self, api_key: str | None = None, base_url: str | None = None, *,
                 exit_timeout: float = 5.0, **options: Any) -> None:
        super().__init__(api_key, base_url, **options)
        self.exit_timeout = exit_timeout
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._progress: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._deadline: float | None = None
        atexit.register(self._at_exit)

    # -- lifecycle -----------------------------------------------------------------------------------
    def _ensure_task(self) -> bool:
        """Starts the sender on the running loop; False when called outside one."""
        if self._task is not None and not self._task.done():
            return True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        self._loop = loop
        self._wake, self._progress, self._stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self._task = loop.create_task(self._run(), name="phosphobs-sender")
        return True

    def _before_enqueue(self) -> None:
        if not self._outbox.closed:
            self._ensure_task()

    def _after_enqueue(self) -> None:
        if self._outbox.ready():
            self._poke()

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    async def flush(self, timeout: float | None = 10.0) -> bool:
        """Send everything queued so far; True when it was all settled within `timeout`."""
        target = self._outbox.request_flush()
        if self._outbox.drained(target) or not self._ensure_task():
            return self._outbox.drained(target)
        assert self._wake is not None and self._progress is not None
        self._wake.set()
        end = None if timeout is None else time.monotonic() + timeout
        while not self._outbox.drained(target):
            self._progress.clear()
            try:
                async with asyncio.timeout(None if end is None else max(0.0, end - time.monotonic())):
                    await self._progress.wait()
            except TimeoutError:
                return self._outbox.drained(target)
        return True

    async def aclose(self, timeout: float | None = 10.0) -> bool:
        """Stop accepting events, send what is queued within `timeout`, drop the rest (True if none was)."""
        atexit.unregister(self._at_exit)
        dropped_before = self._outbox.stats().dropped
        if self._outbox.pending:
            self._ensure_task()
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._outbox.close()
        task = self._task
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            assert self._wake is not None and self._stop is not None
            self._stop.set()
            self._wake.set()
            # On timeout wait_for cancels the sender, which counts its batch as dropped.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task, timeout)
        self._outbox.drop_queued()
        return self._outbox.stats().dropped == dropped_before

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the sender task -----------------------------------------------------------------------------------
    async def _sleep(self, seconds: float) -> bool:
        """Backoff sleep that aclose can cut short; False once aclose's deadline has passed."""
        assert self._stop is not None
        end = time.monotonic() + seconds
        while True:
            now = time.monotonic()
            deadline = self._deadline
            if deadline is not None and now >= deadline:
                return False
            stop = end if deadline is None else min(end, deadline)
            if now >= stop:
                return True
            if self._stop.is_set():  # the deadline is final now: plain sleep
                await asyncio.sleep(stop - now)
                continue
            try:
                async with asyncio.timeout(stop - now):
                    await self._stop.wait()
            except TimeoutError:
                pass

    async def _run(self) -> None:
        assert self._wake is not None and self._progress is not None
        outbox = self._outbox
        transport = AsyncTransport(self.base_url, self.api_key, self.timeout)
        try:
            while True:
                if not (outbox.ready() or outbox.closed):
                    try:
                        async with asyncio.timeout(self.flush_interval):
                            await self._wake.wait()
                    except TimeoutError:
                        pass
                self._wake.clear()
                while items := outbox.take():
                    try:
                        await transport.run(deliver(items, outbox, self.retry, self._warn), self._sleep)
                    except asyncio.CancelledError:  # aclose ran out of time mid-delivery
                        outbox.drop_in_flight()
                        raise
                    except Exception as exc:  # keep the task alive whatever happens
                        outbox.record(failed=len(items))
                        self._warn("sender", f"phosphobs: sender error: {exc!r}")
                    finally:
                        outbox.release()
                        self._progress.set()
                self._progress.set()
                if outbox.closed:
                    return
        finally:
            await transport.aclose()

    # -- interpreter exit ------------------------------------------------------------------------------------
    def _at_exit(self) -> None:
        """The loop is gone: deliver leftovers with a blocking transport, bounded by `exit_timeout`."""
        self._outbox.close()
        self._outbox.drop_in_flight()  # a batch the dead task held; its fate is unknown
        deadline = time.monotonic() + self.exit_timeout

        def time_left() -> float:
            return deadline - time.monotonic()

        def sleep(seconds: float) -> bool:
            left = time_left()
            if left <= 0:
                return False
            time.sleep(min(seconds, left))
            return seconds <= left

        transport = SyncTransport(self.base_url, self.api_key, self.timeout)
        try:
            while time_left() > 0 and (items := self._outbox.take()):
                try:
                    transport.run(deliver(items, self._outbox, self.retry, self._warn), sleep, time_left)
                finally:
                    self._outbox.release()
        finally:
            transport.close()
            self._outbox.drop_queued()
