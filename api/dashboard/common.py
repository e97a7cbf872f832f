"""What every project page shares: the logged-in admin, the project from the URL, the switcher, cursors."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from phosphobs.api.dashboard.render import render
from phosphobs.api.web_auth import AdminDep
from phosphobs.storage.dashboard_records import WebSession
from phosphobs.storage.protocol import AdminConsole, Project
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

NAV = (("overview", "Overview"), ("sessions", "Sessions"), ("events", "Events"), ("users", "Users"),
       ("settings", "Settings"))


class PageError(Exception):
    """An error shown as a dashboard page (the API's errors stay JSON)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class ProjectPage:
    session: WebSession
    project: Project
    projects: list[Project]
    storage: AdminConsole


async def _project_page(request: Request, project: str, session: AdminDep) -> ProjectPage:
    storage: AdminConsole = request.app.state.storage
    found = await run_in_threadpool(storage.get_project, project)
    if found is None:
        raise PageError(404, f"no project {project!r}")
    projects = await run_in_threadpool(storage.list_projects)
    return ProjectPage(session, found, projects, storage)


ProjectDep = Annotated[ProjectPage, Depends(_project_page)]


def page(request: Request, ctx: ProjectPage, template: str, active: str, status: int = 200,
         **context: Any) -> HTMLResponse:
    return render(request, template, status=status, nav=NAV, active=active, project=ctx.project,
                  projects=ctx.projects, csrf=ctx.session.csrf_token, username=ctx.session.username, **context)


def encode_cursor(key: Any) -> str | None:
    if key is None:
        return None
    raw = list(key) if isinstance(key, tuple | list) else [key]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """A cursor from one of our links, or None (a tampered cursor just restarts at the first page)."""
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return raw if isinstance(raw, list) else None


def parse_time(value: str | None) -> int | None:
    """`<input type=datetime-local>` values (and ISO 8601) as UTC microseconds; junk is ignored."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1_000_000)


def clean(value: str | None, limit: int = 512) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None
