"""`phosphobs serve`: claim the ports, bootstrap the database, say where things are, run uvicorn."""

from __future__ import annotations

import sys

from phosphobs.api.app import create_app
from phosphobs.api.bootstrap import bootstrap
from phosphobs.api.metrics_auth import ensure_metrics_token
from phosphobs.api.ports import PortTaken, check_grpc, claim_http
from phosphobs.api.settings import Settings
from phosphobs.api.uvicorn_config import run_until_stopped, uvicorn_config
from phosphobs.api.web_auth import ensure_admin
from phosphobs.api.workers import run_workers
from phosphobs.storage.open import open_storage


def serve(settings: Settings) -> int:
    try:  # ports first: a start that cannot listen must not use up the one-time key and password
        http_socket = claim_http(settings.host, settings.port)
        try:
            check_grpc(settings.host, settings.grpc_port)
        except PortTaken:
            http_socket.close()
            raise
    except PortTaken as exc:
        print(f"phosphobs: error: {exc}", file=sys.stderr, flush=True)
        return 1
    url = settings.resolved_database_url
    try:
        storage = open_storage(url, sqlite_synchronous=settings.sqlite_synchronous)
        try:
            created = bootstrap(storage)
            admin_password = ensure_admin(storage, settings)
            metrics_token = ensure_metrics_token(storage, settings)
        finally:
            storage.close()
    except BaseException:
        http_socket.close()
        raise
    base = f"http://{settings.host}:{settings.port}"
    print(f"phosphobs: database {url}", flush=True)
    if created is not None:
        project, key = created
        print(f"phosphobs: created project '{project.name}' (plan {project.plan}). Its API key (shown once, keep it):",
              flush=True)
        print(f"PHOSPHOBS_API_KEY={key}", flush=True)
    print(f"phosphobs: API and OTLP/HTTP on {base} (API docs: {base}/docs)", flush=True)
    if settings.grpc_port:
        print(f"phosphobs: OTLP/gRPC on {settings.host}:{settings.grpc_port}", flush=True)
    else:
        print("phosphobs: OTLP/gRPC disabled (--grpc-port 0)", flush=True)
    print(f"phosphobs: dashboard on {base}/ (Prometheus metrics: {base}/metrics)", flush=True)
    if admin_password is not None:
        print(f"phosphobs: dashboard login '{settings.admin_username}', one-time password (shown once; change it"
              " with 'phosphobs admin set-password'):", flush=True)
        print(f"PHOSPHOBS_ADMIN_PASSWORD={admin_password}", flush=True)
    if metrics_token is not None:
        print("phosphobs: Prometheus scrape token for /metrics (shown once; send it as 'Authorization: Bearer …',"
              " or set your own with PHOSPHOBS_METRICS_TOKEN):", flush=True)
        print(f"PHOSPHOBS_METRICS_TOKEN={metrics_token}", flush=True)
    elif settings.metrics_public:
        print("phosphobs: /metrics is public (PHOSPHOBS_METRICS_PUBLIC=true)", flush=True)
    if settings.workers > 1:
        http_socket.close()  # each worker binds its own socket with SO_REUSEPORT
        print(f"phosphobs: {settings.workers} worker processes", flush=True)
        run_workers(settings)
        return 0
    config = uvicorn_config(create_app(settings), log_level=settings.log_level,
                            header_timeout=settings.header_timeout_seconds)
    run_until_stopped(config, http_socket)
    return 0
