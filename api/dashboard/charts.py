"""Charts as inline SVG built on the server: no chart library, no script, and every label escaped.

Only numbers we computed go into coordinates; text (titles, tooltips, axis labels) passes through
`markupsafe.escape`. Colours come from CSS classes (the CSP forbids inline styles).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT = 560, 180
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 12, 12, 24
LEGEND_H = 16  # room above the plot for the legend of a chart with several series
CHAR_W = 6.2  # width of one character of the 10px axis font, for fitting labels
LABEL_W = 200


@dataclass(slots=True, frozen=True)
class Series:
    name: str
    values: list[float | None]  # one per bucket; None draws a gap
    css: str = "s1"


def bucket_starts(since_us: int, until_us: int, bucket_us: int) -> list[int]:
    first = (since_us // bucket_us) * bucket_us
    return list(range(first, until_us, bucket_us))


def align(starts: list[int], points: dict[int, float | None], fill: float | None = 0.0) -> list[float | None]:
    return [points.get(s, fill) for s in starts]


def _label(us: int, bucket_us: int) -> str:
    fmt = "%H:%M" if bucket_us < 86_400_000_000 else "%m-%d"
    return datetime.fromtimestamp(us / 1e6, tz=UTC).strftime(fmt)


def plain(v: float) -> str:
    return f"{v:,.0f}" if v >= 10 or v == int(v) else f"{v:.1f}"


def line_chart(title: str, starts: list[int], bucket_us: int, series: Sequence[Series],
               fmt: Callable[[float], str] = plain, top: float | None = None) -> Markup:
    """A line chart over time buckets; hovering a point shows its bucket and value (SVG <title>)."""
    values = [v for s in series for v in s.values if v is not None]
    top = top or max(values, default=0.0) or 1.0
    pad_top = PAD_TOP + (LEGEND_H if len(series) > 1 else 0)
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - pad_top - PAD_BOTTOM
    n = max(len(starts), 1)

    def x(i: int) -> float:
        return PAD_LEFT + (plot_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return pad_top + plot_h * (1 - v / top)

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    if len(series) > 1:  # a legend: which colour is which series
        lx = float(PAD_LEFT)
        for s in series:
            parts.append(f'<g class="legend"><rect class="pt {s.css}" x="{lx:.1f}" y="3" width="10" height="10"/>'
                         f'<text class="axis" x="{lx + 14:.1f}" y="12">{escape(s.name)}</text></g>')
            lx += 24 + CHAR_W * len(s.name)
    for frac in (0.0, 0.5, 1.0):
        gy = y(top * frac)
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{gy:.1f}" y2="{gy:.1f}"/>')
        parts.append(f'<text class="axis" x="{PAD_LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end">'
                     f"{escape(fmt(top * frac))}</text>")
    step = max(1, n // 6)
    for i in range(0, len(starts), step):
        parts.append(f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
                     f"{escape(_label(starts[i], bucket_us))}</text>")
    for s in series:
        runs: list[list[str]] = [[]]
        for i, v in enumerate(s.values):
            if v is None:
                runs.append([])
                continue
            runs[-1].append(f"{x(i):.1f},{y(v):.1f}")
            parts.append(f'<circle class="pt {s.css}" cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5">'
                         f"<title>{escape(s.name)} {escape(_label(starts[i], bucket_us))}: {escape(fmt(v))}</title>"
                         "</circle>")
        for run in runs:
            if len(run) > 1:
                parts.append(f'<polyline class="line {s.css}" points="{" ".join(run)}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_list(rows: Sequence[tuple[str, float, str]]) -> Markup:
    """Horizontal bars for a ranking: (label, value, shown value). Long labels are cut with an ellipsis
    (the full one is the row's tooltip) and bars leave room for the widest shown value."""
    top = max((v for _, v, _ in rows), default=0.0) or 1.0
    height = 22 * max(len(rows), 1)
    value_room = max((len(shown) for _, _, shown in rows), default=0) * CHAR_W + 10
    bar_room = max(40.0, WIDTH - LABEL_W - value_room)
    parts = [f'<svg class="bars" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="ranking">']
    for i, (label, value, shown) in enumerate(rows):
        w = bar_room * value / top
        parts.append(f"<g><title>{escape(label)}: {escape(shown)}</title>"
                     f'<text class="axis" x="0" y="{22 * i + 15}">{escape(_fit(label, LABEL_W - 8))}</text>'
                     f'<rect class="bar" x="{LABEL_W}" y="{22 * i + 4}" width="{w:.1f}" height="14"/>'
                     f'<text class="axis" x="{LABEL_W + 5 + w:.1f}" y="{22 * i + 15}">{escape(shown)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _fit(text: str, width: float) -> str:
    most = int(width / CHAR_W)
    return text if len(text) <= most else text[: most - 1] + "…"
