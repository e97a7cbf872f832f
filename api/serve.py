"""`phosphobs serve`: bootstrap the database, say where things are, run uvicorn."""

from __future__ import annotations

import uvicorn
from phosphobs.api.app import create_app
from phosphobs.api.bootstrap import bootstrap
from phosphobs.api.log_config import log_config
from phosphobs.api.settings import Settings
from phosphobs.api.slow_clients import protocol_class
from phosphobs.api.web_auth import ensure_admin
from phosphobs.api.workers import run_workers
from phosphobs.storage.open import open_storage


def serve(settings: Settings) -> int:
    url = settings.resolved_database_url
    storage = open_storage(url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        created = bootstrap(storage)
        admin_password = ensure_admin(storage, settings)
    finally:
        storage.close()
    base = f"http://{settings.host}:{settings.port}"
    print(f"phosphobs: database {url}", flush=True)
    if created is not None:
        project, key = created
        print(f"phosphobs: created project '{project.name}'. Its API key (shown once, keep it):", flush=True)
        print(f"PHOSPHOBS_API_KEY={key}", flush=True)
    print(f"phosphobs: API and OTLP/HTTP on {base} (API docs: {base}/docs)", flush=True)
    print(f"phosphobs: dashboard on {base}/ (Prometheus metrics: {base}/metrics)", flush=True)
    if admin_password is not None:
        print(f"phosphobs: dashboard login '{settings.admin_username}', one-time password (shown once; change it"
              " with 'phosphobs admin set-password'):", flush=True)
        print(f"PHOSPHOBS_ADMIN_PASSWORD={admin_password}", flush=True)
    if settings.workers > 1:
        print(f"phosphobs: {settings.workers} worker processes", flush=True)
        run_workers(settings)
        return 0
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level,
        access_log=False, timeout_graceful_shutdown=10, http=protocol_class(settings.header_timeout_seconds),
        log_config=log_config(settings.log_level),
    )
    return 0
