"""The server runs on asyncio's event loop: uvloop (libuv) accepts one connection per loop turn, which
under ingest load left a burst of new connections unaccepted for seconds (bench/overload.py)."""

from __future__ import annotations

from phosphobs.api.uvicorn_config import uvicorn_config


def test_the_event_loop_accepts_every_pending_connection_each_turn() -> None:
    config = uvicorn_config("phosphobs.api.asgi:app_from_env", factory=True, log_level="warning",
                            header_timeout=15.0)
    assert config.loop == "asyncio" and config.access_log is False and config.factory
