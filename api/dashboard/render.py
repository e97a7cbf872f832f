"""Server-side rendering for the dashboard: one autoescaping Jinja environment and its formatting filters.

Event content is untrusted LLM output: templates autoescape everything, nothing is marked safe except
markup built by our own code (charts) from escaped parts, and every page is sent with a strict CSP.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import phosphobs.dashboards
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

DASHBOARDS_DIR = Path(phosphobs.dashboards.__file__).parent
TEMPLATES_DIR = DASHBOARDS_DIR / "templates"
STATIC_DIR = DASHBOARDS_DIR / "static"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none';"
       " base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def fmt_time(us: int | None) -> str:
    if us is None:
        return "-"
    return datetime.fromtimestamp(us / 1e6, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_duration_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms < 10 and ms != 0:  # fast spans of a trace: keep their digits
        return f"{ms:.2g} ms" if ms < 1 else f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 120_000:
        return f"{ms / 1000:.1f} s"
    if ms < 7_200_000:
        return f"{ms / 60_000:.1f} min"
    return f"{ms / 3_600_000:.1f} h"


def fmt_cost(cents: float | None) -> str:
    """Dollars; below a cent, two significant digits ($0.000012), so tiny costs never read $0.0000."""
    if cents is None:
        return "-"
    if cents == 0:
        return "$0"
    if cents >= 100:
        return f"${cents / 100:,.2f}"
    if cents >= 1:
        return f"${cents / 100:,.4f}"
    digits = max(2, 1 - math.floor(math.log10(cents / 100)))  # two significant digits
    return f"${cents / 100:.{digits}f}"


def fmt_plural(count: int, noun: str) -> str:
    """`1 event`, `2 events`, `1,000 events`."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def fmt_int(n: int | float | None) -> str:
    return "-" if n is None else f"{n:,.0f}"


def fmt_rate(num: int, den: int, basis: str = "flagged") -> Markup:
    """A rate with what it is over ("0% (0 of 1 flagged)"): a session of seven calls with one detected
    failure and no other flag reads 0 %, which alone looks like seven failures."""
    if not den:
        return Markup("-")
    return Markup('{}% <span class="muted">({} of {} {})</span>').format(f"{100 * num / den:.0f}", num, den, basis)


def fmt_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=True)


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(time=fmt_time, duration=fmt_duration_ms, cost=fmt_cost, int=fmt_int, json=fmt_json,
                       plural=fmt_plural)
    env.globals.update(rate=fmt_rate)
    return env


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    env: Environment = request.app.state.templates
    html = env.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
