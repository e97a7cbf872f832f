"""Registers the SQLite backend for `sqlite:///path/to/file.db`."""

from __future__ import annotations

from pathlib import Path

from phosphobs.storage.registry import BackendRegistry, OpenedStorage, StorageOptions, UnsupportedDatabaseUrl


def open_sqlite(url: str, options: StorageOptions) -> OpenedStorage:
    from phosphobs.storage.sqlite.store import SqliteStorage

    if not url.startswith("sqlite:///"):
        raise UnsupportedDatabaseUrl(f"a SQLite URL names a file: sqlite:///path/to/file.db, not {url!r}")
    store = SqliteStorage(Path(url.removeprefix("sqlite:///")), options.sqlite_synchronous,
                          writer_process=options.sqlite_writer_process)
    return OpenedStorage(store, store.commits_in_flight)


def register(registry: BackendRegistry) -> None:
    registry.register(("sqlite",), open_sqlite)
