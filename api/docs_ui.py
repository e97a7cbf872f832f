"""GET /docs: Swagger UI 5 (OpenAPI 3.1) from the installed `swagger-ui-bundle-v2` package, never from a CDN.

It works offline and loads nothing from other origins, and it is sent with the dashboard's security
headers (strict CSP: our own scripts only, none inline).
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI
from phosphobs.api.dashboard.render import SECURITY_HEADERS
from phosphobs.api.dashboard.router import SecureStaticFiles
from starlette.responses import HTMLResponse

ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>phosphobs API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/static/swagger-init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    app.mount("/docs/assets", SecureStaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(PAGE, headers=SECURITY_HEADERS)
