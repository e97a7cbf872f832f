"""Server-wide secrets (only their hashes), e.g. the Prometheus scrape token: queries shared by both backends.

The first start creates the secret and prints it once; later starts and other workers find the stored hash,
the way the first API key works. `mark` is the driver's placeholder ("?" sqlite3, "%s" psycopg).
"""

from __future__ import annotations

from typing import Any


def get_secret_hash(conn: Any, name: str, mark: str) -> str | None:
    row = conn.execute(f"SELECT secret_hash FROM server_secrets WHERE name = {mark}", (name,)).fetchone()
    return None if row is None else row["secret_hash"]


def add_secret_hash(conn: Any, name: str, secret_hash: str, now_us: int, mark: str) -> bool:
    """Stores the hash unless one exists; True when this call stored it (so its caller may print the secret)."""
    cursor = conn.execute(
        f"INSERT INTO server_secrets (name, secret_hash, created_us) VALUES ({mark}, {mark}, {mark})"
        " ON CONFLICT (name) DO NOTHING", (name, secret_hash, now_us))
    return cursor.rowcount == 1
