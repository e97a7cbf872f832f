"""Dashboard admins and their browser sessions on Postgres (only hashes are stored)."""

from __future__ import annotations

import psycopg
from phosphobs.storage.dashboard_records import AdminCredentials, WebSession


def get_admin(conn: psycopg.Connection, username: str) -> AdminCredentials | None:
    row = conn.execute("SELECT * FROM admin_users WHERE username = %s", (username,)).fetchone()
    if row is None:
        return None
    return AdminCredentials(row["username"], row["password_hash"], row["created_us"], row["updated_us"])


def count_admins(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT COUNT(*) AS n FROM admin_users").fetchone()["n"]


def set_admin_password(conn: psycopg.Connection, username: str, password_hash: str, now_us: int) -> None:
    conn.execute(
        "INSERT INTO admin_users (username, password_hash, created_us, updated_us) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,"
        " updated_us = excluded.updated_us",
        (username, password_hash, now_us, now_us),
    )
    conn.execute("DELETE FROM web_sessions WHERE username = %s", (username,))


def create_web_session(conn: psycopg.Connection, s: WebSession) -> None:
    conn.execute(
        "INSERT INTO web_sessions (token_hash, username, csrf_token, created_us, expires_us)"
        " VALUES (%s, %s, %s, %s, %s)",
        (s.token_hash, s.username, s.csrf_token, s.created_us, s.expires_us),
    )


def get_web_session(conn: psycopg.Connection, token_hash: str, now_us: int) -> WebSession | None:
    row = conn.execute(
        "SELECT * FROM web_sessions WHERE token_hash = %s AND expires_us > %s", (token_hash, now_us)
    ).fetchone()
    if row is None:
        return None
    return WebSession(row["token_hash"], row["username"], row["csrf_token"], row["created_us"], row["expires_us"])


def delete_web_session(conn: psycopg.Connection, token_hash: str, now_us: int) -> None:
    conn.execute("DELETE FROM web_sessions WHERE token_hash = %s OR expires_us <= %s", (token_hash, now_us))
