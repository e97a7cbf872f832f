"""Start-up: taken ports fail at once and use nothing up; the banner names every port; CLI without a terminal."""

from __future__ import annotations

import errno
import signal
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from tests.support.server import ServerProcess, free_port


def serve(data_dir: Path, port: int, grpc_port: int) -> subprocess.CompletedProcess[str]:
    """A second `serve` that is expected to exit by itself (a server that starts would hit the timeout)."""
    return subprocess.run([sys.executable, "-m", "phosphobs.api.cli", "serve", "--port", str(port),
                           "--grpc-port", str(grpc_port), "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.fixture
def running(tmp_path: Path):
    proc = ServerProcess(tmp_path / "first", grpc_port=free_port()).start()
    yield proc
    proc.stop()


@pytest.mark.parametrize("taken", ["http", "grpc"])
def test_a_taken_port_fails_at_once_without_using_up_the_first_start_secrets(
        running: ServerProcess, tmp_path: Path, taken: str) -> None:
    fresh = tmp_path / "second"
    port, grpc_port = (running.port, free_port()) if taken == "http" else (free_port(), running.grpc_port)
    failed = serve(fresh, port, grpc_port)
    assert failed.returncode != 0
    taken_port = port if taken == "http" else grpc_port
    assert f":{taken_port}" in failed.stderr and "already in use" in failed.stderr
    assert "Traceback" not in failed.stderr + failed.stdout
    assert "PHOSPHOBS_API_KEY" not in failed.stdout and "PHOSPHOBS_ADMIN_PASSWORD" not in failed.stdout
    # nothing was consumed: the next start on free ports still creates and prints both
    second = ServerProcess(fresh, grpc_port=free_port()).start()
    try:
        printed = "".join(second.output)
        assert second.api_key and "PHOSPHOBS_ADMIN_PASSWORD=" in printed
    finally:
        second.stop()


def test_the_first_server_keeps_its_grpc_port_to_itself(running: ServerProcess, tmp_path: Path) -> None:
    """No silent sharing (SO_REUSEPORT): exports to the port always reach the one server that owns it."""
    assert serve(tmp_path / "second", free_port(), running.grpc_port).returncode != 0
    with socket.socket() as intruder, pytest.raises(OSError) as refused:  # even one that asks to share
        intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        intruder.bind(("127.0.0.1", running.grpc_port))
    assert refused.value.errno == errno.EADDRINUSE
    with grpc.insecure_channel(f"127.0.0.1:{running.grpc_port}") as channel:
        export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        for _ in range(10):
            export(b"", metadata=(("authorization", f"Bearer {running.api_key}"),), timeout=10)


def test_startup_text_names_the_http_and_grpc_ports(running: ServerProcess) -> None:
    printed = "".join(running.output)
    assert f"OTLP/gRPC on 127.0.0.1:{running.grpc_port}" in printed
    assert f"http://127.0.0.1:{running.port}" in printed


@pytest.mark.parametrize("payload", [b"\xff\xff\xff\xff", b"\x0a\x05abc", b"\x0a" + b"\xff" * 12])
def test_an_undecodable_grpc_payload_is_invalid_argument(running: ServerProcess, payload: bytes) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{running.grpc_port}") as channel:
        for service in ("trace.v1.TraceService", "logs.v1.LogsService", "metrics.v1.MetricsService"):
            export = channel.unary_unary(f"/opentelemetry.proto.collector.{service}/Export")
            with pytest.raises(grpc.RpcError) as raised:
                export(payload, metadata=(("authorization", f"Bearer {running.api_key}"),), timeout=10)
            assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()


def test_set_password_without_a_terminal_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "phosphobs.api.cli", "admin", "set-password", "--data-dir",
                           str(tmp_path)], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert "--password-stdin" in done.stderr and "Traceback" not in done.stderr
    piped = subprocess.run([sys.executable, "-m", "phosphobs.api.cli", "admin", "set-password", "--password-stdin",
                            "--data-dir", str(tmp_path)], input="a-long-password\n", capture_output=True, text=True,
                           timeout=60)
    assert piped.returncode == 0, piped.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_stops_the_server_gracefully_without_a_traceback(tmp_path: Path, workers: int) -> None:
    proc = ServerProcess(tmp_path, args=["--workers", str(workers)]).start(timeout=60)
    assert proc.proc is not None
    proc.proc.send_signal(signal.SIGINT)  # what Ctrl+C in a terminal sends
    code = proc.proc.wait(30)
    output = "".join(proc.output)
    assert code == 0 and "Traceback" not in output and "KeyboardInterrupt" not in output, output
