"""Replay captures into a throwaway server and print what differs from their truth (a developer's loop).

    .venv/bin/python -m tests.interop.check [NAME ...] [--reverse]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.conftest import new_api_project
from tests.interop.captures import capture_names, load_capture
from tests.interop.replay import replay, settled_problems
from tests.support.server import ServerProcess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="capture folders (default: all)")
    parser.add_argument("--reverse", action="store_true", help="replay the requests in reverse order")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = ServerProcess(Path(data)).start()
        try:
            for name in args.names or capture_names():
                capture = load_capture(name)
                project = new_api_project(server)
                requests = list(reversed(capture.requests)) if args.reverse else capture.requests
                replay(server.base_url, project.key, requests)
                found = settled_problems(server.base_url, project.key, capture.truth)
                print(f"{name}: {'ok' if not found else f'{len(found)} problem(s)'}")
                for problem in found:
                    print(f"  - {problem}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
