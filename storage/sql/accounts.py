"""Projects, API keys, dashboard admins and their browser sessions. Keys and tokens are stored only as hashes."""

from __future__ import annotations

import uuid
from typing import Any

from phosphobs.storage.dashboard_records import AdminCredentials, WebSession
from phosphobs.storage.protocol import ApiKey, KeyMatch, Project
from phosphobs.storage.sql.dialect import Conn


def _project(row: Any) -> Project:
    return Project(row["id"], row["name"], row["plan"], row["rate_limit_per_min"], row["created_us"])


def _key(row: Any) -> ApiKey:
    return ApiKey(row["id"], row["project_id"], row["name"], row["prefix"], row["created_us"],
                  row["last_used_us"], row["revoked_us"])


def create_project(conn: Conn, name: str, plan: str, now_us: int) -> Project:
    project = Project(str(uuid.uuid4()), name, plan, None, now_us)
    conn.execute("INSERT INTO projects (id, name, plan, created_us) VALUES (?, ?, ?, ?)",
                 (project.id, name, plan, now_us))
    return project


def get_project(conn: Conn, name_or_id: str) -> Project | None:
    row = conn.execute("SELECT * FROM projects WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1",
                       (name_or_id, name_or_id, name_or_id)).fetchone()
    return _project(row) if row else None


def list_projects(conn: Conn) -> list[Project]:
    return [_project(r) for r in conn.execute("SELECT * FROM projects ORDER BY created_us, name").fetchall()]


def set_project_plan(conn: Conn, project_id: str, plan: str, rate_limit_per_min: int | None) -> None:
    conn.execute("UPDATE projects SET plan = ?, rate_limit_per_min = ? WHERE id = ?",
                 (plan, rate_limit_per_min, project_id))


def create_key(conn: Conn, project_id: str, name: str, prefix: str, key_hash: str, now_us: int) -> ApiKey:
    key = ApiKey(str(uuid.uuid4()), project_id, name, prefix, now_us, None, None)
    conn.execute("INSERT INTO api_keys (id, project_id, name, prefix, key_hash, created_us) VALUES (?, ?, ?, ?, ?, ?)",
                 (key.id, project_id, name, prefix, key_hash, now_us))
    return key


def find_key(conn: Conn, key_hash: str) -> KeyMatch | None:
    row = conn.execute(
        "SELECT k.*, p.id AS p_id, p.name AS p_name, p.plan AS p_plan, p.rate_limit_per_min AS p_limit,"
        " p.created_us AS p_created FROM api_keys k JOIN projects p ON p.id = k.project_id WHERE k.key_hash = ?",
        (key_hash,),
    ).fetchone()
    if row is None:
        return None
    project = Project(row["p_id"], row["p_name"], row["p_plan"], row["p_limit"], row["p_created"])
    return KeyMatch(key=_key(row), key_hash=row["key_hash"], project=project)


def list_keys(conn: Conn, project_id: str | None = None) -> list[ApiKey]:
    if project_id is None:
        return [_key(r) for r in conn.execute("SELECT * FROM api_keys ORDER BY created_us").fetchall()]
    rows = conn.execute("SELECT * FROM api_keys WHERE project_id = ? ORDER BY created_us", (project_id,)).fetchall()
    return [_key(r) for r in rows]


def revoke_key(conn: Conn, key_id_or_prefix: str, now_us: int) -> ApiKey | None:
    """Revoke the one key with this id or display prefix (None when none or several match)."""
    rows = conn.execute("SELECT id FROM api_keys WHERE id = ? OR prefix = ?",
                        (key_id_or_prefix, key_id_or_prefix)).fetchall()
    if len(rows) != 1:
        return None
    return _key(conn.execute("UPDATE api_keys SET revoked_us = COALESCE(revoked_us, ?) WHERE id = ? RETURNING *",
                             (now_us, rows[0]["id"])).fetchone())


def get_admin(conn: Conn, username: str) -> AdminCredentials | None:
    row = conn.execute("SELECT * FROM admin_users WHERE username = ?", (username,)).fetchone()
    if row is None:
        return None
    return AdminCredentials(row["username"], row["password_hash"], row["created_us"], row["updated_us"])


def count_admins(conn: Conn) -> int:
    return conn.execute("SELECT COUNT(*) AS n FROM admin_users").fetchone()["n"]


def set_admin_password(conn: Conn, username: str, password_hash: str, now_us: int) -> None:
    conn.execute(
        "INSERT INTO admin_users (username, password_hash, created_us, updated_us) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,"
        " updated_us = excluded.updated_us",
        (username, password_hash, now_us, now_us),
    )
    conn.execute("DELETE FROM web_sessions WHERE username = ?", (username,))


def create_web_session(conn: Conn, session: WebSession) -> None:
    conn.execute("INSERT INTO web_sessions (token_hash, username, csrf_token, created_us, expires_us)"
                 " VALUES (?, ?, ?, ?, ?)", (session.token_hash, session.username, session.csrf_token,
                                             session.created_us, session.expires_us))


def get_web_session(conn: Conn, token_hash: str, now_us: int) -> WebSession | None:
    row = conn.execute("SELECT * FROM web_sessions WHERE token_hash = ? AND expires_us > ?",
                       (token_hash, now_us)).fetchone()
    if row is None:
        return None
    return WebSession(row["token_hash"], row["username"], row["csrf_token"], row["created_us"], row["expires_us"])


def delete_web_session(conn: Conn, token_hash: str, now_us: int) -> None:
    conn.execute("DELETE FROM web_sessions WHERE token_hash = ? OR expires_us <= ?", (token_hash, now_us))
