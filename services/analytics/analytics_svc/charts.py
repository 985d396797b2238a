"""Small, dependency-free SVG charts for the HTML reports: time series as bars or lines, and
horizontal bars. Every label is escaped; every chart carries a <title> for screen readers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape

PALETTE = ("#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6", "#dd4477", "#66aa00")
_WIDTH, _HEIGHT = 720, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 36, 56


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is >= ``value`` (axis maximum)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def _frame(title: str, body: list[str], legend: Sequence[str]) -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'width="{_WIDTH}" height="{_HEIGHT}" role="img" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="{_LEFT}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
        *body,
    ]
    x = _WIDTH - _RIGHT
    for index, name in reversed(list(enumerate(legend))):
        x -= 12 + 7 * len(name) + 10
        parts.append(
            f'<rect x="{x}" y="8" width="10" height="10" fill="{PALETTE[index % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="17">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _y_axis(maximum: float, unit: str) -> list[str]:
    plot_height = _HEIGHT - _TOP - _BOTTOM
    parts = []
    for tick in range(5):
        value = maximum * tick / 4
        y = _HEIGHT - _BOTTOM - plot_height * tick / 4
        parts.append(
            f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(value)}</text>'
        )
    middle = _TOP + plot_height / 2
    parts.append(
        f'<text x="14" y="{middle:.0f}" transform="rotate(-90 14 {middle:.0f})" '
        f'text-anchor="middle">{escape(unit)}</text>'
    )
    return parts


def time_series_bars(
    title: str, buckets: Sequence[datetime], series: dict[str, Sequence[float]], unit: str, label_format: str
) -> str:
    """Grouped bars: one group per bucket, one bar per series (all series as long as ``buckets``)."""
    if not buckets or not series:
        return _frame(title, [f'<text x="{_LEFT}" y="{_HEIGHT / 2:.0f}">no data in this period</text>'], [])
    maximum = nice_ceiling(max((v for values in series.values() for v in values), default=0.0))
    plot_width = _WIDTH - _LEFT - _RIGHT
    plot_height = _HEIGHT - _TOP - _BOTTOM
    group = plot_width / len(buckets)
    bar = max(1.0, group * 0.8 / len(series))
    body = _y_axis(maximum, unit)
    label_every = max(1, math.ceil(len(buckets) / 12))
    for index, bucket in enumerate(buckets):
        x0 = _LEFT + group * index + group * 0.1
        for position, (name, values) in enumerate(series.items()):
            height = plot_height * values[index] / maximum
            body.append(
                f'<rect x="{x0 + bar * position:.1f}" y="{_HEIGHT - _BOTTOM - height:.1f}" '
                f'width="{bar:.1f}" height="{height:.1f}" fill="{PALETTE[position % len(PALETTE)]}">'
                f"<title>{escape(name)} {escape(bucket.strftime(label_format))}: "
                f"{_number(values[index])}</title></rect>"
            )
        if index % label_every == 0:
            x = _LEFT + group * (index + 0.5)
            body.append(
                f'<text x="{x:.1f}" y="{_HEIGHT - _BOTTOM + 14}" text-anchor="middle">'
                f"{escape(bucket.strftime(label_format))}</text>"
            )
    return _frame(title, body, list(series))


def horizontal_bars(title: str, labels: Sequence[str], series: dict[str, Sequence[float]], unit: str) -> str:
    """One row per label, one bar per series in each row (e.g. p50 and p90 seconds per step)."""
    if not labels or not series:
        return _frame(title, [f'<text x="{_LEFT}" y="{_HEIGHT / 2:.0f}">no data in this period</text>'], [])
    left = 16 + 6.5 * max(len(label) for label in labels)
    row = 14 * len(series) + 8
    height = _TOP + row * len(labels) + 30
    maximum = nice_ceiling(max((v for values in series.values() for v in values), default=0.0))
    width = _WIDTH - left - _RIGHT - 50
    body = []
    for index, label in enumerate(labels):
        y0 = _TOP + row * index
        body.append(
            f'<text x="{left - 6:.0f}" y="{y0 + row / 2 + 3:.0f}" text-anchor="end">{escape(label)}</text>'
        )
        for position, (name, values) in enumerate(series.items()):
            length = width * values[index] / maximum
            y = y0 + 4 + 14 * position
            body.append(
                f'<rect x="{left:.0f}" y="{y}" width="{length:.1f}" height="12" '
                f'fill="{PALETTE[position % len(PALETTE)]}"><title>{escape(label)} {escape(name)}: '
                f"{_number(values[index])} {escape(unit)}</title></rect>"
                f'<text x="{left + length + 4:.1f}" y="{y + 10}">{_number(values[index])}</text>'
            )
    body.append(f'<text x="{left:.0f}" y="{height - 8}">{escape(unit)} (axis 0 to {_number(maximum)})</text>')
    svg = _frame(title, body, list(series))
    return svg.replace(f'viewBox="0 0 {_WIDTH} {_HEIGHT}"', f'viewBox="0 0 {_WIDTH} {height}"').replace(
        f'height="{_HEIGHT}"', f'height="{height}"', 1
    )
