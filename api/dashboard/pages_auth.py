"""Login, logout and the landing redirect."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from phosphobs.api.dashboard.render import SECURITY_HEADERS, render
from phosphobs.api.web_auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    AdminDep,
    checked_form,
    checked_login_form,
    safe_next,
    set_session_cookie,
    start_session,
    token_hash,
    verify_password,
)
from phosphobs.storage.clock import now_us
from phosphobs.storage.protocol import ProjectsAndKeys, WebAdmins
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

router = APIRouter(include_in_schema=False)
_NO_SUCH_ADMIN = "scrypt$16384$8$1$" + "A" * 24 + "$" + "A" * 44


def _login_page(request: Request, next_url: str, error: str | None = None, status: int = 200) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "login.html", status=status, next_url=next_url, csrf=token, error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login",
                        secure=request.url.scheme == "https")
    return response


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await checked_login_form(request)
    storage: WebAdmins = request.app.state.storage
    username = form.get("username").strip()
    admin = await run_in_threadpool(storage.get_admin, username)
    stored = admin.password_hash if admin else _NO_SUCH_ADMIN  # same work whether the admin exists or not
    ok = await run_in_threadpool(verify_password, form.get("password"), stored)
    if admin is None or not ok:
        return _login_page(request, safe_next(form.get("next")), "Wrong username or password.", status=401)
    settings = request.app.state.settings
    token = await start_session(storage, settings, admin.username)
    response = RedirectResponse(safe_next(form.get("next")), status_code=303, headers=SECURITY_HEADERS)
    set_session_cookie(request, response, token, settings.web_session_hours * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, session: AdminDep) -> Response:
    await checked_form(request, session)
    storage: WebAdmins = request.app.state.storage
    token = request.cookies.get(SESSION_COOKIE, "")
    await run_in_threadpool(storage.delete_web_session, token_hash(token), now_us())
    response = RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/")
async def home(request: Request, session: AdminDep) -> Response:
    storage: ProjectsAndKeys = request.app.state.storage
    projects = await run_in_threadpool(storage.list_projects)
    if not projects:
        return render(request, "empty.html", username=session.username, csrf=session.csrf_token)
    return RedirectResponse(f"/p/{projects[0].id}/overview", status_code=303, headers=SECURITY_HEADERS)
