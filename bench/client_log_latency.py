"""How long `Client.log()` takes on the app's thread while the server is down.

    python bench/client_log_latency.py [--calls 20000]

Nothing listens at the client's URL, so every event stays queued (or is dropped once the queue is full)
and the sender thread keeps failing and backing off in the background. Prints microseconds per call:
while the queue fills, once it is full (the drop path), and inside `session()`.
"""

from __future__ import annotations

import argparse
import platform
import socket
import statistics
import time

from phosphobs.exporters import Client, session


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed_calls(client: Client, calls: int) -> list[float]:
    """Microseconds per call, one realistic event each."""
    samples = []
    for n in range(calls):
        start = time.perf_counter_ns()
        client.log(f"question {n} about quantum computing", "an answer of a few words " * 8, session_id="bench",
                   model="gpt-4o-mini", provider="openai", latency_ms=812.5, token_count_input=42,
                   token_count_output=96, metadata={"route": "/chat"})
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    pct = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    print(f"{name:<28} calls={len(samples):>6}  mean={statistics.fmean(samples):7.2f}us  p50={pct(0.5):7.2f}us  "
          f"p99={pct(0.99):7.2f}us  max={ordered[-1]:9.2f}us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}; server down")

    url = f"http://127.0.0.1:{closed_port()}"
    client = Client("ph_bench", url, max_queue=args.calls)
    report("queue filling", timed_calls(client, args.calls))
    report("queue full (dropping)", timed_calls(client, args.calls))
    with session("bench-session", user_id="u-1"):
        report("queue full, inside session()", timed_calls(client, args.calls))
    stats = client.stats
    client.shutdown(timeout=0)
    print(f"stats: queued={stats.queued} dropped={stats.dropped} retried={stats.retried} sent={stats.sent}")


if __name__ == "__main__":
    main()
