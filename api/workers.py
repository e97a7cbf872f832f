"""`phosphobs serve --workers N`: N independent server processes on one port.

Each worker binds its own listening socket with SO_REUSEPORT, so the kernel spreads incoming
connections evenly across workers (with one shared socket, a single fast worker tends to accept
every keep-alive connection and the others idle). Workers share nothing but the database; the
supervisor forwards SIGTERM/SIGINT and restarts a worker that dies.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
from types import FrameType

from phosphobs.api.asgi import APP_FACTORY, SETTINGS_ENV, settings_to_json
from phosphobs.api.settings import Settings
from phosphobs.api.uvicorn_config import run_until_stopped, uvicorn_config


def _listen(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    return sock


def _worker(host: str, port: int, log_level: str, header_timeout: float) -> None:
    sock = _listen(host, port)
    config = uvicorn_config(APP_FACTORY, factory=True, log_level=log_level, header_timeout=header_timeout)
    run_until_stopped(config, sock)


def run_workers(settings: Settings) -> None:
    """Start the workers and supervise them until SIGTERM/SIGINT; then stop them gracefully."""
    os.environ[SETTINGS_ENV] = settings_to_json(settings)  # spawned workers build the app from it
    context = multiprocessing.get_context("spawn")
    args = (settings.host, settings.port, settings.log_level, settings.header_timeout_seconds)
    workers = [context.Process(target=_worker, args=args, name=f"phosphobs-worker-{i}")
               for i in range(settings.workers)]
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for proc in workers:
            if proc.pid is not None and proc.is_alive():
                os.kill(proc.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for proc in workers:
        proc.start()
    while not stopping:
        time.sleep(0.5)
        for i, proc in enumerate(workers):
            if not proc.is_alive() and not stopping:
                print(f"phosphobs: worker {proc.name} exited ({proc.exitcode}); restarting", flush=True)
                workers[i] = context.Process(target=_worker, args=args, name=proc.name)
                workers[i].start()
    for proc in workers:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
