"""Server-wide secrets, only their hashes (e.g. the Prometheus scrape token), written once for both backends.

The first start creates the secret and prints it once; later starts and other workers find the stored
hash, the way the first API key works.
"""

from __future__ import annotations

from phosphobs.storage.sql.dialect import Conn


def get_server_secret(conn: Conn, name: str) -> str | None:
    """The stored hash of a server-wide secret (e.g. 'metrics_token'), None if never created."""
    row = conn.execute("SELECT secret_hash FROM server_secrets WHERE name = ?", (name,)).fetchone()
    return None if row is None else row["secret_hash"]


def add_server_secret(conn: Conn, name: str, secret_hash: str, now_us: int) -> bool:
    """Store the hash unless one is stored already; True when this call stored it (a racing worker gets False)."""
    cursor = conn.execute("INSERT INTO server_secrets (name, secret_hash, created_us) VALUES (?, ?, ?)"
                          " ON CONFLICT (name) DO NOTHING", (name, secret_hash, now_us))
    return cursor.rowcount == 1
