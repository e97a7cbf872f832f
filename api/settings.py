"""The one typed `Settings`, built at the process edge (CLI flags over PHOSPHOBS_* env vars)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from phosphobs.storage.open import sqlite_url

# `unlimited` is for self-hosting (your own apps, no quota; the first-start `default` project uses it);
# `free` and `pro` are for operators who host projects for others.
UNLIMITED_PLAN = "unlimited"
PLANS = (UNLIMITED_PLAN, "free", "pro")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "phosphobs"


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4318
    grpc_port: int = 4317  # 0 disables the gRPC receiver
    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str | None = None  # default: sqlite file in data_dir
    max_body_bytes: int = 5 * 1024 * 1024
    max_decompressed_bytes: int = 64 * 1024 * 1024
    rate_limit_free: int = 1_000  # events per minute
    rate_limit_pro: int = 10_000
    key_cache_seconds: float = 5.0  # how long a revoked key can still be accepted
    max_queued_items: int = 50_000
    max_queued_bytes: int = 256 * 1024 * 1024  # bytes of ingest requests in flight (read, decoded, queued)
    max_queue_wait_seconds: float = 1.0  # shed (503) when the queue holds more work than this
    max_spans_per_request: int = 10_000  # OTLP traces export; over → 413 (INVALID_ARGUMENT on gRPC)
    max_log_records_per_request: int = 10_000  # OTLP logs export; over → 413
    header_timeout_seconds: float = 15.0  # a request's headers must be complete within this
    body_timeout_seconds: float = 30.0  # a request's body must be complete within this (else 408)
    max_commit_items: int = 5_000
    sqlite_synchronous: str = "FULL"
    sqlite_writer_process: bool = True  # group commits in a child process, off the event loop's GIL
    workers: int = 1
    retention_days: int = 0  # 0 keeps events forever; otherwise older events are pruned periodically
    retention_check_seconds: float = 3600.0
    log_level: str = "info"
    admin_username: str = "admin"  # the dashboard login
    admin_password: str | None = None  # when set, (re)sets that login's password at start
    web_session_hours: int = 168  # how long a dashboard login lasts
    metrics_token: str | None = None  # GET /metrics needs 'Authorization: Bearer <token>' (default: generated once)
    metrics_public: bool = False  # true: GET /metrics needs no token
    metrics_max_series: int = 1000  # label combinations per metric before client-given labels become "other"
    detection: bool = True  # queue every new event for success/failure detection and run the worker
    detection_settle_seconds: float = 5.0  # wait before judging an event (late OTLP content joins it)
    judge_base_url: str | None = None  # OpenAI-compatible endpoint, e.g. https://api.openai.com/v1
    judge_model: str | None = None  # the judge runs only when both base URL and model are set
    judge_api_key: str | None = None
    judge_max_per_minute: int = 60  # judge calls per minute, per server (split evenly across workers)
    judge_timeout_seconds: float = 30.0
    judge_retries: int = 2  # attempts after the first, with exponential backoff

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)

    def rate_limit_for(self, plan: str, override: int | None) -> int | None:
        """Events per minute for a project, None for no limit (an override of 0, or the `unlimited` plan)."""
        if override is not None:
            return override if override > 0 else None
        if plan == UNLIMITED_PLAN:
            return None
        return {"free": self.rate_limit_free, "pro": self.rate_limit_pro}.get(plan, self.rate_limit_free)


ENV_PREFIX = "PHOSPHOBS_"


def settings_from(env: Mapping[str, str], overrides: Mapping[str, object | None]) -> Settings:
    """Flags (non-None overrides) win over PHOSPHOBS_<NAME> env vars, which win over defaults."""
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = overrides.get(f.name)
        if raw is None:
            raw = env.get(ENV_PREFIX + f.name.upper())
        if raw is None or raw == "":
            continue
        values[f.name] = _coerce(f.name, str(f.type), raw)
    return Settings(**values)  # type: ignore[arg-type]


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


_PARSERS = {"int": int, "float": float, "bool": _parse_bool}


def _coerce(name: str, annotation: str, raw: object) -> object:
    """Parse a flag or env value by the field's declared type (annotations are strings here)."""
    if annotation == "Path":
        return Path(str(raw)).expanduser()
    parse = _PARSERS.get(annotation)
    if parse is None:
        return str(raw)
    try:
        return parse(str(raw))
    except ValueError as exc:
        flag = "--" + name.replace("_", "-")
        raise ValueError(f"{ENV_PREFIX}{name.upper()} / {flag} must be {annotation}: {raw!r}") from exc
