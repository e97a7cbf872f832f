"""A real `phosphobs serve` process on a free port, for end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """Starts the CLI exactly as a user would; collects stdout so the first API key can be read."""

    def __init__(self, data_dir: Path, *, args: list[str] | None = None, env: dict[str, str] | None = None,
                 port: int | None = None, grpc_port: int = 0) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.grpc_port = grpc_port
        self.args = args or []
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self.api_key: str | None = None
        self.metrics_token: str | None = None  # printed once, at the first start of a data dir

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self.output = []
        cmd = [sys.executable, "-m", "phosphobs.api.cli", "serve", "--port", str(self.port),
               "--grpc-port", str(self.grpc_port), "--data-dir", str(self.data_dir), *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env)
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited early:\n" + "".join(self.output))
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not become healthy:\n" + "".join(self.output))

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            found = re.search(r"PHOSPHOBS_API_KEY=(ph_\S+)", line)
            if found:
                self.api_key = found.group(1)
            token = re.search(r"PHOSPHOBS_METRICS_TOKEN=(\S+)", line)
            if token:
                self.metrics_token = token.group(1)

    @property
    def metrics_headers(self) -> dict[str, str]:
        """What a Prometheus scrape of this server sends (GET /metrics needs the token by default)."""
        return {"Authorization": f"Bearer {self.metrics_token}"} if self.metrics_token else {}

    def stop(self) -> int:
        """SIGTERM and wait: the graceful path (commits what was accepted)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs at all."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
