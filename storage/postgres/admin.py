"""Projects and API keys on Postgres. Keys are stored only as hashes."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from phosphobs.storage.protocol import ApiKey, KeyMatch, Project


def _project(row: dict[str, Any]) -> Project:
    return Project(row["id"], row["name"], row["plan"], row["rate_limit_per_min"], row["created_us"])


def _key(row: dict[str, Any]) -> ApiKey:
    return ApiKey(row["id"], row["project_id"], row["name"], row["prefix"], row["created_us"],
                  row["last_used_us"], row["revoked_us"])


def create_project(conn: psycopg.Connection, name: str, plan: str, now_us: int) -> Project:
    project = Project(str(uuid.uuid4()), name, plan, None, now_us)
    conn.execute("INSERT INTO projects (id, name, plan, created_us) VALUES (%s, %s, %s, %s)",
                 (project.id, name, plan, now_us))
    return project


def get_project(conn: psycopg.Connection, name_or_id: str) -> Project | None:
    row = conn.execute(
        "SELECT * FROM projects WHERE id = %s OR name = %s ORDER BY id = %s DESC LIMIT 1",
        (name_or_id, name_or_id, name_or_id),
    ).fetchone()
    return _project(row) if row else None


def list_projects(conn: psycopg.Connection) -> list[Project]:
    return [_project(r) for r in conn.execute("SELECT * FROM projects ORDER BY created_us, name").fetchall()]


def set_project_plan(conn: psycopg.Connection, project_id: str, plan: str, limit: int | None) -> None:
    conn.execute("UPDATE projects SET plan = %s, rate_limit_per_min = %s WHERE id = %s", (plan, limit, project_id))


def create_key(conn: psycopg.Connection, project_id: str, name: str, prefix: str, key_hash: str,
               now_us: int) -> ApiKey:
    key = ApiKey(str(uuid.uuid4()), project_id, name, prefix, now_us, None, None)
    conn.execute(
        "INSERT INTO api_keys (id, project_id, name, prefix, key_hash, created_us) VALUES (%s, %s, %s, %s, %s, %s)",
        (key.id, project_id, name, prefix, key_hash, now_us),
    )
    return key


def find_key(conn: psycopg.Connection, key_hash: str) -> KeyMatch | None:
    row = conn.execute(
        "SELECT k.*, p.id AS p_id, p.name AS p_name, p.plan AS p_plan,"
        " p.rate_limit_per_min AS p_limit, p.created_us AS p_created"
        " FROM api_keys k JOIN projects p ON p.id = k.project_id WHERE k.key_hash = %s",
        (key_hash,),
    ).fetchone()
    if row is None:
        return None
    project = Project(row["p_id"], row["p_name"], row["p_plan"], row["p_limit"], row["p_created"])
    return KeyMatch(key=_key(row), key_hash=row["key_hash"], project=project)


def list_keys(conn: psycopg.Connection, project_id: str | None) -> list[ApiKey]:
    if project_id is None:
        rows = conn.execute("SELECT * FROM api_keys ORDER BY created_us").fetchall()
    else:
        rows = conn.execute("SELECT * FROM api_keys WHERE project_id = %s ORDER BY created_us",
                            (project_id,)).fetchall()
    return [_key(r) for r in rows]


def revoke_key(conn: psycopg.Connection, key_id_or_prefix: str, now_us: int) -> ApiKey | None:
    rows = conn.execute("SELECT * FROM api_keys WHERE id = %s OR prefix = %s",
                        (key_id_or_prefix, key_id_or_prefix)).fetchall()
    if len(rows) != 1:
        return None
    row = conn.execute(
        "UPDATE api_keys SET revoked_us = COALESCE(revoked_us, %s) WHERE id = %s RETURNING *", (now_us, rows[0]["id"])
    ).fetchone()
    return _key(row)
