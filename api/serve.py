"""`phosphobs serve`: bootstrap the database, say where things are, run uvicorn."""

from __future__ import annotations

import uvicorn
from phosphobs.api.app import create_app
from phosphobs.api.bootstrap import bootstrap
from phosphobs.api.settings import Settings
from phosphobs.storage.open import open_storage


def serve(settings: Settings) -> int:
    url = settings.resolved_database_url
    storage = open_storage(url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        created = bootstrap(storage)
    finally:
        storage.close()
    base = f"http://{settings.host}:{settings.port}"
    print(f"phosphobs: database {url}", flush=True)
    if created is not None:
        project, key = created
        print(f"phosphobs: created project '{project.name}'. Its API key (shown once, keep it):", flush=True)
        print(f"PHOSPHOBS_API_KEY={key}", flush=True)
    print(f"phosphobs: API and OTLP/HTTP on {base} (API docs: {base}/docs)", flush=True)
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level,
        access_log=False, timeout_graceful_shutdown=10,
    )
    return 0
