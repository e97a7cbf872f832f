"""The machine's Postgres (127.0.0.1:5432, user postgres, trust auth) for tests: throwaway databases.

Unreachable Postgres is a failure, not a skip, whenever CI=true or Postgres was asked for explicitly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

ADMIN_URL = os.environ.get("PHOSPHOBS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLES = ("events", "event_tags", "feedback", "sessions", "rate_windows", "event_bases", "event_patches",
          "usage_hourly", "latency_hourly", "web_sessions", "admin_users",
          "trace_context", "spans", "api_keys", "projects", "detection_queue", "detections", "evaluations",
          "response_events", "detection_settings")


def url_for(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def unreachable_reason() -> str | None:
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"Postgres at {ADMIN_URL} is not reachable: {exc}"


def require_postgres(explicit: bool) -> None:
    reason = unreachable_reason()
    if reason is None:
        return
    if explicit or os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason + " (start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)",
                    pytrace=False)
    pytest.skip(reason)


def create_database(prefix: str = "phosphobs_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url_for(name)


@contextmanager
def fresh_database(backend: str, prefix: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database for a test parametrized by backend: a throwaway Postgres database
    (dropped afterwards) when `backend` is "postgres", else a SQLite file in `folder`."""
    if backend != "postgres":
        yield f"sqlite:///{folder / f'{prefix}.db'}"
        return
    require_postgres(explicit=False)
    url = create_database(prefix)
    try:
        yield url
    finally:
        drop_database(url)


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def truncate_all(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
