"""`phosphobs` command line: serve, projects, keys, db. Every command acts on the same database."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from typing import cast

from phosphobs.api.bootstrap import create_key
from phosphobs.api.serialize import iso
from phosphobs.api.settings import PLANS, Settings, settings_from
from phosphobs.storage.clock import now_us
from phosphobs.storage.open import UnsupportedDatabaseUrl, open_storage
from phosphobs.storage.protocol import DetectionStore, Storage


def _database_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data directory for the SQLite file [PHOSPHOBS_DATA_DIR]")
    parser.add_argument("--database-url", help="sqlite:///path or postgresql://… [PHOSPHOBS_DATABASE_URL]")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phosphobs", description="LLM observability collector and store")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server (HTTP API + OTLP/HTTP, OTLP/gRPC)")
    serve.add_argument("--host", help="bind address [PHOSPHOBS_HOST, default 127.0.0.1]")
    serve.add_argument("--port", type=int, help="HTTP port [PHOSPHOBS_PORT, default 4318]")
    serve.add_argument("--grpc-port", type=int, help="OTLP/gRPC port, 0 disables [PHOSPHOBS_GRPC_PORT, default 4317]")
    serve.add_argument("--workers", type=int, help="worker processes [PHOSPHOBS_WORKERS, default 1]")
    serve.add_argument("--retention-days", type=int,
                       help="prune events older than N days, hourly [PHOSPHOBS_RETENTION_DAYS, default 0: keep]")
    serve.add_argument("--max-body-bytes", type=int, help="request body limit [PHOSPHOBS_MAX_BODY_BYTES]")
    serve.add_argument("--log-level", help="uvicorn log level [PHOSPHOBS_LOG_LEVEL, default info]")
    _database_flags(serve)

    projects = sub.add_parser("projects", help="manage projects").add_subparsers(dest="action", required=True)
    create = projects.add_parser("create", help="create a project")
    create.add_argument("name")
    create.add_argument("--plan", choices=PLANS, default="free")
    _database_flags(create)
    _database_flags(projects.add_parser("list", help="list projects"))
    plan = projects.add_parser("set-plan", help="change a project's plan or rate limit")
    plan.add_argument("name")
    plan.add_argument("--plan", choices=PLANS, required=True)
    plan.add_argument("--rate-limit", type=int, help="events/min overriding the plan (0 = unlimited)")
    judge = projects.add_parser("judge", help="turn the LLM judge on or off for a project (its content then "
                                              "leaves the server only when on)")
    judge.add_argument("name")
    judge.add_argument("state", choices=["on", "off", "status"])
    _database_flags(judge)
    _database_flags(plan)

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True)
    kcreate = keys.add_parser("create", help="create a key; prints it once")
    kcreate.add_argument("--project", required=True)
    kcreate.add_argument("--name", required=True)
    _database_flags(kcreate)
    klist = keys.add_parser("list", help="list keys (never the secret)")
    klist.add_argument("--project")
    _database_flags(klist)
    krevoke = keys.add_parser("revoke", help="revoke a key by id or prefix")
    krevoke.add_argument("key", help="key id or its ph_xxxxxxxx prefix")
    _database_flags(krevoke)

    admin = sub.add_parser("admin", help="dashboard login").add_subparsers(dest="action", required=True)
    setpw = admin.add_parser("set-password", help="set the dashboard admin password (logs out its sessions)")
    setpw.add_argument("--username", help="login name [PHOSPHOBS_ADMIN_USERNAME, default admin]", dest="admin_username")
    setpw.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _database_flags(setpw)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="action", required=True)
    _database_flags(db.add_parser("migrate", help="apply pending schema migrations"))
    prune = db.add_parser("prune", help="delete events older than a duration; sessions are recomputed")
    prune.add_argument("--older-than", required=True, type=parse_duration_us, help="e.g. 30d, 12h, 90m")
    _database_flags(prune)
    return parser


_UNITS_US = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000, "w": 604_800_000_000}


def parse_duration_us(text: str) -> int:
    """'30d' → microseconds (units s, m, h, d, w)."""
    number, unit = text[:-1], text[-1:].lower()
    if unit not in _UNITS_US or not number.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30d, 12h or 90m")
    return int(number) * _UNITS_US[unit]


def _settings(args: argparse.Namespace) -> Settings:
    return settings_from(os.environ, vars(args))


def _open(settings: Settings, *, migrate: bool = True) -> Storage:
    storage = open_storage(settings.resolved_database_url, sqlite_synchronous=settings.sqlite_synchronous)
    if migrate:
        storage.migrate()
    return storage


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
        if args.command == "serve":
            from phosphobs.api.serve import serve

            return serve(settings)
        # `db migrate` migrates itself, so it can say what it did; every other command needs the schema first
        storage = _open(settings, migrate=(args.command, args.action) != ("db", "migrate"))
    except (ValueError, UnsupportedDatabaseUrl) as exc:
        return _fail(str(exc))
    try:
        return _COMMANDS[args.command](args, storage, settings)
    finally:
        storage.close()


def _db(args: argparse.Namespace, storage: Storage, settings: Settings) -> int:
    if args.action == "prune":
        cutoff = now_us() - args.older_than
        print(f"pruned {storage.prune(cutoff)} events older than {iso(cutoff)}")
        return 0
    applied = storage.migrate()
    if applied:
        print(f"applied {len(applied)} migration{'s' if len(applied) != 1 else ''}: {', '.join(applied)}")
    else:
        print("database already up to date; no migrations applied")
    return 0


def _projects(args: argparse.Namespace, storage: Storage, settings: Settings) -> int:
    if args.action == "create":
        if storage.get_project(args.name):
            return _fail(f"project {args.name!r} already exists")
        project = storage.create_project(args.name, args.plan, now_us())
        print(f"created project {project.name} ({project.id}) on plan {project.plan}")
    elif args.action == "set-plan":
        project = storage.get_project(args.name)
        if project is None:
            return _fail(f"no project {args.name!r}")
        storage.set_project_plan(project.id, args.plan, args.rate_limit)
        print(f"project {project.name}: plan {args.plan}, rate limit "
              f"{settings.rate_limit_for(args.plan, args.rate_limit) or 'unlimited'} events/min")
    elif args.action == "judge":
        return _judge_switch(args, storage, settings)
    else:
        print(f"{'NAME':<24} {'PLAN':<9} {'EVENTS/MIN':>10}  ID")
        for p in storage.list_projects():
            limit = settings.rate_limit_for(p.plan, p.rate_limit_per_min)
            print(f"{p.name:<24} {p.plan:<9} {limit or 'unlimited':>10}  {p.id}")
    return 0


def _keys(args: argparse.Namespace, storage: Storage, settings: Settings) -> int:
    if args.action == "create":
        project = storage.get_project(args.project)
        if project is None:
            return _fail(f"no project {args.project!r}; create it with: phosphobs projects create {args.project}")
        key, record = create_key(storage, project, args.name)
        print(f"created key {record.name!r} for project {project.name} (shown once, store it now):")
        print(key)
        return 0
    if args.action == "list":
        project_id = None
        if args.project:
            project = storage.get_project(args.project)
            if project is None:
                return _fail(f"no project {args.project!r}")
            project_id = project.id
        names = {p.id: p.name for p in storage.list_projects()}
        print(f"{'PREFIX':<12} {'NAME':<16} {'PROJECT':<16} {'CREATED':<28} {'LAST USED':<28} REVOKED")
        for k in storage.list_keys(project_id):
            print(f"{k.prefix:<12} {k.name:<16} {names.get(k.project_id, '?'):<16} {iso(k.created_us):<28} "
                  f"{iso(k.last_used_us) or '-':<28} {iso(k.revoked_us) or '-'}")
        return 0
    revoked = storage.revoke_key(args.key, now_us())
    if revoked is None:
        return _fail(f"no single key matches {args.key!r} (use the key id or its prefix from 'keys list')")
    print(f"revoked key {revoked.prefix} ({revoked.name}); rejected everywhere within "
          f"{settings.key_cache_seconds:g}s")
    return 0


def _judge_switch(args: argparse.Namespace, storage: Storage, settings: Settings) -> int:
    project = storage.get_project(args.name)
    if project is None:
        return _fail(f"no project {args.name!r}")
    store = cast(DetectionStore, storage)
    if args.state != "status":
        store.set_judge_enabled(project.id, args.state == "on")
    enabled = store.judge_enabled(project.id)
    configured = bool(settings.judge_base_url and settings.judge_model)
    print(f"project {project.name}: judge {'on' if enabled else 'off'}"
          + ("" if configured else " (no judge configured: set PHOSPHOBS_JUDGE_BASE_URL and PHOSPHOBS_JUDGE_MODEL)"))
    return 0


def _set_admin_password(args: argparse.Namespace, storage: Storage, settings: Settings) -> int:
    from phosphobs.api.web_auth import hash_password

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            return _fail("no terminal to type the password on: pipe it in with --password-stdin"
                         " (e.g. printf '%s\\n' \"$PW\" | phosphobs admin set-password --password-stdin)")
        try:
            password = getpass.getpass("new dashboard password: ")
            again = getpass.getpass("again: ")
        except (EOFError, KeyboardInterrupt):
            return _fail("no password given; nothing changed")
        if again != password:
            return _fail("the two passwords differ")
    if len(password) < 8:
        return _fail("use at least 8 characters")
    storage.set_admin_password(settings.admin_username, hash_password(password), now_us())
    print(f"dashboard password set for {settings.admin_username!r}; its browser sessions were logged out")
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace, Storage, Settings], int]] = {
    "admin": _set_admin_password, "db": _db, "projects": _projects, "keys": _keys,
}


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
