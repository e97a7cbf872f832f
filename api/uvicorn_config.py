"""The one way a server process configures uvicorn (single process and each `--workers` process).

The event loop is asyncio's, not uvloop: libuv (under uvloop) accepts one connection per loop turn,
so while the loop is busy with ingest a burst of new connections waits seconds to be accepted (800
clients connecting at once: some were accepted only after the load ended). asyncio's loop accepts
every pending connection each turn, which keeps the time to an answer, or a fast 503, bounded.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

import uvicorn
from phosphobs.api.log_config import log_config
from phosphobs.api.slow_clients import protocol_class


def uvicorn_config(app: Any, *, log_level: str, header_timeout: float, factory: bool = False) -> uvicorn.Config:
    return uvicorn.Config(app, factory=factory, loop="asyncio", log_level=log_level, access_log=False,
                          timeout_graceful_shutdown=10, http=protocol_class(header_timeout),
                          log_config=log_config(log_level))


def run_until_stopped(config: uvicorn.Config, sock: socket.socket) -> None:
    """Serve on `sock` until SIGINT or SIGTERM. uvicorn shuts down gracefully, then re-raises the signal it
    caught; Ctrl+C so surfaces as a KeyboardInterrupt after the shutdown: the normal way to stop, not an error."""
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])
