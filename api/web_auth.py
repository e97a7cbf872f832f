"""Dashboard login: scrypt password hashes, server-side sessions behind an HttpOnly cookie, CSRF tokens.

The cookie holds 256 random bits; the database keeps only their SHA-256, so a leaked database opens no
session and logout or a password change ends sessions at once (a signed-only cookie could not be revoked).
Every state-changing form carries the session's CSRF token; the login form uses a double-submit cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl, quote

from fastapi import Depends, Request
from phosphobs.api.settings import Settings
from phosphobs.storage.clock import now_us
from phosphobs.storage.dashboard_records import WebSession
from phosphobs.storage.protocol import WebAdmins
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

SESSION_COOKIE = "phosphobs_session"
LOGIN_CSRF_COOKIE = "phosphobs_login_csrf"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MAX_FORM_BYTES = 64 * 1024


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    b64 = base64.urlsafe_b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.urlsafe_b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_admin(storage: WebAdmins, settings: Settings) -> str | None:
    """Apply PHOSPHOBS_ADMIN_PASSWORD, or on a database with no admin create one with a generated password.

    Returns the generated password (the only time it exists in clear), else None.
    """
    username = settings.admin_username
    if settings.admin_password:
        current = storage.get_admin(username)
        if current is None or not verify_password(settings.admin_password, current.password_hash):
            storage.set_admin_password(username, hash_password(settings.admin_password), now_us())
        return None
    if storage.count_admins() > 0:
        return None
    password = secrets.token_urlsafe(15)
    storage.set_admin_password(username, hash_password(password), now_us())
    return password


class LoginRequired(Exception):
    """Raised by the admin dependency; the app answers with a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class CsrfRejected(Exception):
    """A state-changing form without the right token, or from another origin."""


def login_redirect_url(next_url: str) -> str:
    return "/login?next=" + quote(next_url, safe="/")


def safe_next(value: str | None) -> str:
    """Only same-site paths: '//evil.example' or 'https://…' would make the login an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


async def current_session(request: Request) -> WebSession:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        storage: WebAdmins = request.app.state.storage
        session = await run_in_threadpool(storage.get_web_session, token_hash(token), now_us())
        if session is not None:
            return session
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise LoginRequired(target)


AdminDep = Annotated[WebSession, Depends(current_session)]


async def start_session(storage: WebAdmins, settings: Settings, username: str) -> str:
    """Create a session; returns the cookie token."""
    token = secrets.token_urlsafe(32)
    now = now_us()
    session = WebSession(token_hash(token), username, secrets.token_urlsafe(32), now,
                         now + settings.web_session_hours * 3_600_000_000)
    await run_in_threadpool(storage.create_web_session, session)
    return token


def set_session_cookie(request: Request, response: Response, token: str, max_age_s: int) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age_s, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")


@dataclass(slots=True)
class Form:
    fields: dict[str, str]

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)


async def read_form(request: Request) -> Form:
    """URL-encoded forms only (all our forms are); parsed here to avoid a multipart dependency."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if media != "application/x-www-form-urlencoded" or len(body) > MAX_FORM_BYTES:
        raise CsrfRejected("unsupported form")
    return Form(dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None  # 'null' comes from sandboxed/opaque contexts: never ours
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


async def checked_form(request: Request, session: WebSession) -> Form:
    """The form, once its CSRF token matches the session's and the request is not cross-origin."""
    form = await read_form(request)
    if not _same_origin(request) or not hmac.compare_digest(form.get("csrf"), session.csrf_token):
        raise CsrfRejected("invalid CSRF token")
    return form


async def checked_login_form(request: Request) -> Form:
    form = await read_form(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not _same_origin(request) or not cookie or not hmac.compare_digest(form.get("csrf"), cookie):
        raise CsrfRejected("invalid CSRF token")
    return form
