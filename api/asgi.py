"""Import-string app factory for uvicorn worker processes (`--workers N`).

Worker processes are spawned fresh and import the app by name, so the parent hands them its
`Settings` as JSON in one environment variable; nothing is configured at import time.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields

from fastapi import FastAPI
from phosphobs.api.app import create_app
from phosphobs.api.settings import Settings, settings_from

SETTINGS_ENV = "PHOSPHOBS_SETTINGS_JSON"
APP_FACTORY = "phosphobs.api.asgi:app_from_env"


def settings_to_json(settings: Settings) -> str:
    return json.dumps({f.name: str(getattr(settings, f.name)) for f in fields(Settings)
                       if getattr(settings, f.name) is not None})


def settings_from_json(text: str) -> Settings:
    return settings_from({}, json.loads(text))


def app_from_env() -> FastAPI:
    """Called by uvicorn in each worker process."""
    raw = os.environ.get(SETTINGS_ENV)
    if not raw:
        raise RuntimeError(f"{SETTINGS_ENV} is not set: start workers with `phosphobs serve --workers N`")
    return create_app(settings_from_json(raw))
