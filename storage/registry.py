"""Backends by URL scheme. A backend registers a factory for its schemes; the built-ins register the way
a third backend would (`phosphobs.storage.<name>.store.register`), and nothing else names them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from phosphobs.storage.protocol import Storage


class UnsupportedDatabaseUrl(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class StorageOptions:
    """Backend-specific knobs from the process's settings; a backend ignores those that are not its own."""

    sqlite_synchronous: str = "FULL"
    sqlite_writer_process: bool = False  # servers: group commits run in a child process (no GIL contention)
    detect: bool = True  # queue every new event for detection in its ingest transaction


@dataclass(frozen=True, slots=True)
class OpenedStorage:
    storage: Storage
    commits_in_flight: int = 1  # how many group commits may usefully run at once (they commit in turn)


BackendFactory = Callable[[str, StorageOptions], OpenedStorage]


class BackendRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, BackendFactory] = {}

    def register(self, schemes: Iterable[str], factory: BackendFactory) -> None:
        for scheme in schemes:
            self._factories[scheme] = factory

    def open(self, url: str, options: StorageOptions | None = None) -> OpenedStorage:
        factory = self._factories.get(url.split(":", 1)[0] if ":" in url else "")
        if factory is None:
            raise UnsupportedDatabaseUrl(f"unsupported database URL {url.split(':', 1)[0]!r}: use "
                                         "sqlite:///path/to/file.db or postgresql://…")
        return factory(url, options or StorageOptions())


def builtin_backends() -> BackendRegistry:
    from phosphobs.storage.postgres import store as postgres
    from phosphobs.storage.sqlite import store as sqlite

    registry = BackendRegistry()
    for backend in (sqlite, postgres):
        backend.register(registry)
    return registry
