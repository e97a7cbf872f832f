"""`install_dashboard(app)`: the web dashboard's pages, static files and error pages, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from phosphobs.api.dashboard import (
    pages_auth,
    pages_events,
    pages_overview,
    pages_quality,
    pages_sessions,
    pages_settings,
    pages_users,
)
from phosphobs.api.dashboard.common import PageError
from phosphobs.api.dashboard.render import SECURITY_HEADERS, STATIC_DIR, build_environment, render
from phosphobs.api.web_auth import MAX_FORM_BYTES, CsrfRejected, FormTooLarge, LoginRequired, login_redirect_url
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


class SecureStaticFiles(StaticFiles):
    """Our vendored CSS/JS, sent with the same security headers as the pages."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update({k: v for k, v in SECURITY_HEADERS.items() if k != "Cache-Control"})
        return response


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(login_redirect_url(exc.next_url), status_code=303, headers=SECURITY_HEADERS)


async def _csrf_rejected(request: Request, exc: Exception) -> Response:
    return render(request, "error.html", status=403, status_code=403,
                  message="This form was stale or came from another site. Reload the page and try again.")


async def _form_too_large(request: Request, exc: Exception) -> Response:
    return render(request, "error.html", status=413, status_code=413,
                  message=f"This form is larger than {MAX_FORM_BYTES // 1024} KB.")


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return render(request, "error.html", status=exc.status, status_code=exc.status, message=exc.message)


def install_dashboard(app: FastAPI) -> None:
    app.state.templates = build_environment()
    for module in (pages_auth, pages_overview, pages_quality, pages_sessions, pages_events, pages_users,
                   pages_settings):
        app.include_router(module.router)
    app.mount("/static", SecureStaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(FormTooLarge, _form_too_large)
