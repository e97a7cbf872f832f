"""Shared benchmark plumbing: a real server process, its RSS, realistic event bodies."""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

WORDS = [
    "the", "model", "answered", "with", "a", "detailed", "explanation", "of", "quantum", "computing",
    "billing", "refunds", "travel", "itinerary", "python", "error", "stack", "trace", "summary",
    "translation", "poem", "recipe", "weather", "contract",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def text(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)


def event_body(rng: random.Random, n_sessions: int = 1000, size: int = 1000) -> dict:
    """~`size` bytes of JSON: a realistic LLM call with a session, user, model and tokens."""
    session = rng.randrange(n_sessions)
    return {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "input": text(rng, size // 3),
        "output": text(rng, size // 2),
        "session_id": f"bench-session-{session}",
        "metadata": {"model": rng.choice(["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet"]), "provider": "openai",
                     "latency_ms": rng.randrange(100, 4000), "token_count_input": rng.randrange(10, 2000),
                     "token_count_output": rng.randrange(10, 800), "user_id": f"user-{session % 300}",
                     "tags": [rng.choice(["prod", "beta", "eval"])]},
    }


class Server:
    def __init__(self, data_dir: Path, extra: list[str] | None = None, env: dict[str, str] | None = None,
                 python: str = sys.executable) -> None:
        """`python`: the interpreter (so the phosphobs build) that runs the server."""
        self.port = free_port()
        self.data_dir = data_dir
        self.log = open(data_dir / "server.log", "w")  # noqa: SIM115 - lives as long as the server
        cmd = [python, "-m", "phosphobs.api.cli", "serve", "--port", str(self.port), "--grpc-port", "0",
               "--data-dir", str(data_dir), "--log-level", "warning", *(extra or [])]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     env={**os.environ, **(env or {})})
        self.key = None
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            found = re.search(r"PHOSPHOBS_API_KEY=(ph_\S+)", line)
            if found:
                self.key = found.group(1)
            if "API and OTLP/HTTP on" in line:
                break
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def processes(self) -> list[int]:
        """The server's process tree: supervisor, workers (`--workers N`), SQLite writer children."""
        pids, found = [self.proc.pid], []
        while pids:
            pid = pids.pop()
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            found.append(pid)
            pids += [int(child) for child in children]
        return found

    def rss_mb(self) -> float:
        """Resident memory of the server and its worker processes, summed."""
        total = 0
        for pid in self.processes():
            try:
                total += int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))
            except OSError:
                continue
        return total / 1024

    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU seconds so far of every process in the tree, by pid."""
        tick = os.sysconf("SC_CLK_TCK")
        out: dict[int, float] = {}
        for pid in self.processes():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[pid] = (int(fields[11]) + int(fields[12])) / tick
        return out

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown cpu")
    mem = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) // 1024 // 1024
    return f"{os.cpu_count()} cores, {cpu}, {mem} GiB RAM, Python {sys.version.split()[0]}"


def dumps(obj: object) -> bytes:
    return json.dumps(obj).encode()
