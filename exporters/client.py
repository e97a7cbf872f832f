"""`Client`: the native REST API from any Python app, with a daemon sender thread.

Events are sent in batches of up to 100 when a batch is full, every `flush_interval` seconds, on
`flush()`, and at interpreter exit. Forked children (gunicorn, multiprocessing) get a fresh queue and
thread; the parent keeps sending what was queued before the fork.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from typing import Any

from phosphobs.exporters.client_base import ClientBase
from phosphobs.exporters.delivery import deliver
from phosphobs.exporters.outbox import Outbox
from phosphobs.exporters.transport import SyncTransport


class Client(ClientBase):
    """Thread-safe. `log()` returns the event id at once; see `ClientBase.log`."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None, *,
                 exit_timeout: float = 5.0, **options: Any) -> None:
        super().__init__(api_key, base_url, **options)
        self.exit_timeout = exit_timeout
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._deadline: float | None = None  # set by shutdown: give up sending at this monotonic time
        self._wake = threading.Event()
        self._pid = os.getpid()
        atexit.register(self._at_exit)
        _register_fork_handler(self)

    # -- lifecycle -----------------------------------------------------------------------------------
    def _before_enqueue(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None and not self._outbox.closed:
                    self._thread = threading.Thread(target=self._run, name="phosphobs-sender", daemon=True)
                    self._thread.start()

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Send everything queued so far; True when it was all settled (sent or rejected) within `timeout`."""
        target = self._outbox.request_flush()
        if self._thread is None:
            return self._outbox.drained(target)
        return self._outbox.wait_drained(target, timeout)

    def shutdown(self, timeout: float | None = 10.0) -> bool:
        """Stop accepting events, send what is queued within `timeout`, drop the rest (True if none was).

Idempotent."""
        atexit.unregister(self._at_exit)
        dropped_before = self._outbox.stats().dropped
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._outbox.close()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():  # stuck in a request: settle the books ourselves
                self._deadline = time.monotonic()
                self._wake.set()
                thread.join(1.0)
        self._outbox.drop_queued()
        return self._outbox.stats().dropped == dropped_before

    close = shutdown

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def _at_exit(self) -> None:
        self.shutdown(self.exit_timeout)

    def _after_fork_in_child(self) -> None:
        self._outbox = Outbox(self._outbox.capacity, self.batch_size)
        self._start_lock = threading.Lock()
        self._thread = None
        self._wake = threading.Event()
        self._pid = os.getpid()

    # -- the sender thread ---------------------------------------------------------------------------------
    def _time_left(self) -> float | None:
        deadline = self._deadline
        return None if deadline is None else deadline - time.monotonic()

    def _sleep(self, seconds: float) -> bool:
        """Backoff sleep that shutdown can cut short; False once the shutdown deadline has passed."""
        end = time.monotonic() + seconds
        while True:
            left = self._time_left()
            if left is not None and left <= 0:
                return False
            now = time.monotonic()
            stop = end if left is None else min(end, now + left)
            if now >= stop:
                return True
            self._wake.wait(stop - now)
            self._wake.clear()

    def _run(self) -> None:
        outbox = self._outbox
        transport = SyncTransport(self.base_url, self.api_key, self.timeout)
        try:
            while True:
                outbox.wait_for_work(self.flush_interval)
                while items := outbox.take():
                    try:
                        plan = deliver(items, outbox, self.retry, self._warn)
                        transport.run(plan, self._sleep, self._time_left)
                    except Exception as exc:  # keep the thread alive whatever happens
                        outbox.record(failed=len(items))
                        self._warn("sender", f"phosphobs: sender error: {exc!r}")
                    finally:
                        outbox.release()
                    left = self._time_left()
                    if left is not None and left <= 0:
                        break
                if outbox.closed:
                    return
        finally:
            transport.close()


def _register_fork_handler(client: Client) -> None:
    if not hasattr(os, "register_at_fork"):
        return
    ref = weakref.ref(client)

    def reset() -> None:
        alive = ref()
        if alive is not None:
            alive._after_fork_in_child()

    os.register_at_fork(after_in_child=reset)
