"""The CLI manages projects and keys on the same database as the server; revocation bites within seconds."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from phosphobs.api.cli import main
from phosphobs.api.keys import hash_key
from phosphobs.storage.sqlite.store import SqliteStorage

from tests.support.factories import api_event
from tests.support.server import ServerProcess


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "phosphobs.api.cli", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=60)


def test_projects_and_keys_lifecycle(tmp_path: Path) -> None:
    created = cli("projects", "create", "shop", "--plan", "pro", data_dir=tmp_path)
    assert created.returncode == 0 and "shop" in created.stdout
    assert cli("projects", "create", "shop", data_dir=tmp_path).returncode == 2
    listing = cli("projects", "list", data_dir=tmp_path).stdout
    assert re.search(r"shop\s+pro\s+10000", listing)

    made = cli("keys", "create", "--project", "shop", "--name", "production", data_dir=tmp_path)
    key = made.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"ph_[A-Za-z0-9_-]{43}", key)
    keys = cli("keys", "list", data_dir=tmp_path).stdout
    assert key[:11] in keys and "production" in keys and key not in keys

    store = SqliteStorage(tmp_path / "phosphobs.db")
    try:
        raw = store._runner.read(lambda conn: conn.execute("SELECT key_hash FROM api_keys").fetchall())
        assert [r[0] for r in raw] == [hash_key(key)]  # only the hash is stored
    finally:
        store.close()

    revoked = cli("keys", "revoke", key[:11], data_dir=tmp_path)
    assert revoked.returncode == 0
    assert re.search(r"production.*\d{4}-\d\d-\d\dT\S+Z\s*$", cli("keys", "list", data_dir=tmp_path).stdout, re.M)


def test_unknown_project_for_a_key_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["keys", "create", "--project", "ghost", "--name", "x", "--data-dir", str(tmp_path)]) == 2
    assert "no project 'ghost'" in capsys.readouterr().err


def test_first_start_prints_a_working_key_and_revocation_takes_effect(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, env={"PHOSPHOBS_KEY_CACHE_SECONDS": "2"}).start()
    try:
        assert server.api_key, "".join(server.output)
        headers = {"Authorization": f"Bearer {server.api_key}"}
        assert httpx.post(server.base_url + "/api/ingest", json=api_event(), headers=headers).status_code == 201
        assert cli("keys", "revoke", server.api_key[:11], data_dir=tmp_path).returncode == 0
        deadline = time.monotonic() + 10
        status = 201
        while time.monotonic() < deadline and status != 401:
            status = httpx.post(server.base_url + "/api/ingest", json=api_event(), headers=headers).status_code
            time.sleep(0.2)
        assert status == 401
        used = cli("keys", "list", data_dir=tmp_path).stdout.splitlines()[1]
        assert used.count("Z") >= 2  # created and last used are both stamped
    finally:
        server.stop()
    restarted = ServerProcess(tmp_path).start()
    try:
        assert restarted.api_key is None  # the default project exists: no new key is printed
    finally:
        restarted.stop()


def test_env_vars_configure_the_cli_and_flags_win(tmp_path: Path, monkeypatch) -> None:
    from phosphobs.api.settings import settings_from

    env = {"PHOSPHOBS_PORT": "5000", "PHOSPHOBS_DATA_DIR": str(tmp_path), "PHOSPHOBS_RATE_LIMIT_PRO": "7"}
    settings = settings_from(env, {"port": 6000, "host": None})
    assert (settings.port, settings.data_dir, settings.rate_limit_for("pro", None)) == (6000, tmp_path, 7)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'phosphobs.db'}"
    assert settings_from({"PHOSPHOBS_DATABASE_URL": "sqlite:///x.db"}, {}).resolved_database_url == "sqlite:///x.db"
    assert settings_from({"PHOSPHOBS_SQLITE_WRITER_PROCESS": "off"}, {}).sqlite_writer_process is False
    assert settings_from({"PHOSPHOBS_SQLITE_WRITER_PROCESS": "True"}, {}).sqlite_writer_process is True
    with pytest.raises(ValueError, match="PHOSPHOBS_SQLITE_WRITER_PROCESS"):
        settings_from({"PHOSPHOBS_SQLITE_WRITER_PROCESS": "maybe"}, {})
    monkeypatch.setenv("PHOSPHOBS_DATA_DIR", str(tmp_path / "from-env"))
    assert main(["projects", "create", "envproj"]) == 0
    assert (tmp_path / "from-env" / "phosphobs.db").exists()


def test_db_migrate_says_which_migrations_it_applied_then_that_none_were_left(tmp_path: Path) -> None:
    first = cli("db", "migrate", data_dir=tmp_path)
    conn = sqlite3.connect(tmp_path / "phosphobs.db")
    try:
        names = [row[0] for row in conn.execute("SELECT name FROM schema_migrations ORDER BY rowid")]
    finally:
        conn.close()
    assert first.returncode == 0 and len(names) > 1
    assert first.stdout.strip() == f"applied {len(names)} migrations: {', '.join(names)}"
    again = cli("db", "migrate", data_dir=tmp_path)
    assert again.returncode == 0 and again.stdout.strip() == "database already up to date; no migrations applied"
