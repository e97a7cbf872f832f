"""Reading a live phosphobs server back through its public API."""

from __future__ import annotations

from typing import Any

import httpx


class Backend:
    """A phosphobs server seen through its public API with one project's key."""

    def __init__(self, url: str, api_key: str, timeout: float = 10) -> None:
        self.url = url
        self.api_key = api_key
        self.timeout = timeout

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params,
                         headers={"authorization": f"Bearer {self.api_key}"}, timeout=self.timeout)

    def events(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """Every stored event of a session (of the whole project without one), following `next_cursor`."""
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 100}
        if session_id is not None:
            params["session_id"] = session_id
        while True:
            response = self.get("/api/events", **params)
            response.raise_for_status()
            page = response.json()
            found.extend(page["data"])
            if not page.get("next_cursor"):
                return found
            params["cursor"] = page["next_cursor"]

    def otlp_http_available(self) -> bool:
        """False while the server has no OTLP/HTTP receiver (POST /v1/traces answers 404)."""
        response = httpx.post(f"{self.url}/v1/traces", content=b"", timeout=10, headers={
            "authorization": f"Bearer {self.api_key}", "content-type": "application/x-protobuf"})
        return response.status_code != 404
