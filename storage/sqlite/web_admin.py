"""Dashboard admins and their browser sessions in SQLite (only hashes are stored)."""

from __future__ import annotations

import sqlite3

from phosphobs.storage.dashboard_records import AdminCredentials, WebSession


def get_admin(conn: sqlite3.Connection, username: str) -> AdminCredentials | None:
    row = conn.execute("SELECT * FROM admin_users WHERE username = ?", (username,)).fetchone()
    if row is None:
        return None
    return AdminCredentials(row["username"], row["password_hash"], row["created_us"], row["updated_us"])


def count_admins(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM admin_users").fetchone()[0]


def set_admin_password(conn: sqlite3.Connection, username: str, password_hash: str, now_us: int) -> None:
    conn.execute(
        "INSERT INTO admin_users (username, password_hash, created_us, updated_us) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,"
        " updated_us = excluded.updated_us",
        (username, password_hash, now_us, now_us),
    )
    conn.execute("DELETE FROM web_sessions WHERE username = ?", (username,))


def create_web_session(conn: sqlite3.Connection, s: WebSession) -> None:
    conn.execute(
        "INSERT INTO web_sessions (token_hash, username, csrf_token, created_us, expires_us) VALUES (?, ?, ?, ?, ?)",
        (s.token_hash, s.username, s.csrf_token, s.created_us, s.expires_us),
    )


def get_web_session(conn: sqlite3.Connection, token_hash: str, now_us: int) -> WebSession | None:
    row = conn.execute(
        "SELECT * FROM web_sessions WHERE token_hash = ? AND expires_us > ?", (token_hash, now_us)
    ).fetchone()
    if row is None:
        return None
    return WebSession(row["token_hash"], row["username"], row["csrf_token"], row["created_us"], row["expires_us"])


def delete_web_session(conn: sqlite3.Connection, token_hash: str, now_us: int) -> None:
    conn.execute("DELETE FROM web_sessions WHERE token_hash = ? OR expires_us <= ?", (token_hash, now_us))
