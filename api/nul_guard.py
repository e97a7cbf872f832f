"""Refuse a NUL character in the URL with 400 before any route sees it.

No identifier, filter or search we serve can contain NUL (Postgres cannot even store one in text), so a
`%00` in the path or query string is always a malformed request, and passing it on would end as a
database error (a 500) on one backend and a silent no-match on the other.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

_BODY = json.dumps({"error": {"code": "bad_request", "message": "the URL contains a NUL character (%00)"}}).encode()


class RejectNulInUrl:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"%00" in scope["query_string"]):
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(_BODY)).encode())]})
            await send({"type": "http.response.body", "body": _BODY})
            return
        await self.app(scope, receive, send)
