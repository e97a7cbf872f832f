"""Claiming the listening ports before anything else happens at start-up.

A second `phosphobs serve` on a taken port must fail at once with a clear message, before it creates
(and prints, and so uses up) the one-time API key and dashboard password. The HTTP socket is bound here
and handed to uvicorn; the gRPC port is probed (bound without SO_REUSEPORT, then released) because gRPC
binds its own socket, with SO_REUSEPORT off, a moment later.
"""

from __future__ import annotations

import errno
import socket


class PortTaken(Exception):
    """A port this server needs is in use (or cannot be bound); the message says which and what to do."""


def _bind(host: str, port: int, what: str, flag: str) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise PortTaken(f"cannot resolve the bind address {host!r}: {exc}") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # only skips TIME_WAIT leftovers
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = ("it is already in use (is another phosphobs or collector running?)"
                  if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc))
        raise PortTaken(f"cannot listen for {what} on {host}:{port}: {reason}. Stop the other process or choose "
                        f"another port with {flag}.") from exc
    return sock


def claim_http(host: str, port: int) -> socket.socket:
    """The bound, listening HTTP socket (the caller hands it to uvicorn or closes it)."""
    return _bind(host, port, "HTTP", "--port / PHOSPHOBS_PORT")


def check_grpc(host: str, port: int) -> None:
    """Raises PortTaken when the OTLP/gRPC port is in use; 0 means gRPC is disabled."""
    if port:
        _bind(host, port, "OTLP/gRPC", "--grpc-port / PHOSPHOBS_GRPC_PORT (0 disables gRPC)").close()
