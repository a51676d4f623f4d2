"""Server-rendered SVG charts: no script, no library, nothing fetched (the CSP allows none).

Each function returns SVG markup built from numbers and our own labels only; labels are
escaped all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD = 640, 220, 36
PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#c53030")


def _frame(body: str, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
        f"{body}</svg>"
    )


def _axis(top: float) -> str:
    base = HEIGHT - PAD
    return (
        f'<line x1="{PAD}" y1="{base}" x2="{WIDTH - 8}" y2="{base}" stroke="#999"/>'
        f'<text x="4" y="{PAD - 8}" font-size="11" fill="#555">{top:g}</text>'
        f'<text x="4" y="{base}" font-size="11" fill="#555">0</text>'
    )


def stacked_bars(title: str, days: Sequence[str], series: dict[str, Sequence[float]]) -> str:
    """One bar per day, one colour per series (e.g. emails per day by route)."""
    if not days:
        return _frame('<text x="20" y="40" font-size="13">no data yet</text>', title)
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    top = max(totals) or 1.0
    step = (WIDTH - PAD - 8) / len(days)
    scale = (HEIGHT - 2 * PAD) / top
    parts = [_axis(top)]
    for i, day in enumerate(days):
        y = float(HEIGHT - PAD)
        for k, (name, values) in enumerate(series.items()):
            h = values[i] * scale
            y -= h
            colour = PALETTE[k % len(PALETTE)]
            parts.append(
                f'<rect x="{PAD + i * step + 2:.1f}" y="{y:.1f}" width="{max(step - 4, 1):.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(name)} {escape(day)}: '
                f"{values[i]:g}</title></rect>"
            )
        parts.append(
            f'<text x="{PAD + i * step + 2:.1f}" y="{HEIGHT - PAD + 14}" font-size="10" '
            f'fill="#555">{escape(day[5:])}</text>'
        )
    legend_x = PAD
    for k, name in enumerate(series):
        parts.append(
            f'<rect x="{legend_x}" y="6" width="10" height="10" '
            f'fill="{PALETTE[k % len(PALETTE)]}"/>'
            f'<text x="{legend_x + 14}" y="15" font-size="11">{escape(name)}</text>'
        )
        legend_x += 24 + 7 * len(name)
    return _frame("".join(parts), title)


def lines(title: str, days: Sequence[str], series: dict[str, Sequence[float]]) -> str:
    """One polyline per series over the days (e.g. p50 and p95 seconds)."""
    if not days:
        return _frame('<text x="20" y="40" font-size="13">no data yet</text>', title)
    top = max((v for values in series.values() for v in values), default=0.0) or 1.0
    step = (WIDTH - 2 * PAD) / max(len(days) - 1, 1)
    scale = (HEIGHT - 2 * PAD) / top
    parts = [_axis(round(top, 3))]
    for k, (name, values) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join(
            f"{PAD + i * step:.1f},{HEIGHT - PAD - v * scale:.1f}" for i, v in enumerate(values)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(
            f'<rect x="{PAD + k * 90}" y="6" width="10" height="10" fill="{colour}"/>'
            f'<text x="{PAD + k * 90 + 14}" y="15" font-size="11">{escape(name)}</text>'
        )
    for i, day in enumerate(days):
        parts.append(
            f'<text x="{PAD + i * step:.1f}" y="{HEIGHT - PAD + 14}" font-size="10" '
            f'text-anchor="middle" fill="#555">{escape(day[5:])}</text>'
        )
    return _frame("".join(parts), title)


def histogram(title: str, buckets: Sequence[tuple[str, float]]) -> str:
    """Bars for labelled buckets (e.g. the confidence distribution)."""
    return stacked_bars(
        title,
        [f"     {label}" for label, _ in buckets],
        {"emails": [value for _, value in buckets]},
    )
