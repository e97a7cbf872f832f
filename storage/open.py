"""Choosing a backend from a database URL (`sqlite:///path`, `postgresql://…`)."""

from __future__ import annotations

from pathlib import Path

from phosphobs.storage.protocol import Storage


class UnsupportedDatabaseUrl(ValueError):
    pass


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'phosphobs.db').resolve()}"


def open_storage(url: str, *, sqlite_synchronous: str = "FULL", sqlite_writer_process: bool = False,
                 detect: bool = True) -> Storage:
    """`sqlite_writer_process` is for servers: group commits run in a child process (no GIL contention).
    `detect`: new events are queued for detection in their ingest transaction."""
    if url.startswith("sqlite:///"):
        from phosphobs.storage.sqlite.store import SqliteStorage

        return SqliteStorage(Path(url.removeprefix("sqlite:///")), sqlite_synchronous,
                             writer_process=sqlite_writer_process, detect=detect)
    if url.startswith(("postgresql://", "postgres://")):
        from phosphobs.storage.postgres.store import PostgresStorage

        return PostgresStorage(url, detect=detect)
    raise UnsupportedDatabaseUrl(
        f"unsupported database URL {url.split(':', 1)[0]!r}: use sqlite:///path/to/file.db or postgresql://…"
    )
