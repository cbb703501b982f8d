"""Bar charts as inline SVG, drawn on the server: no JavaScript, no external file, no font.

Why SVG from Python rather than a vendored JS library: the pages work without JS, the
Content-Security-Policy allows no inline script or style, and a bar chart is a few
rectangles. Everything here is a presentation attribute (fill, stroke, x, y, width,
height, font-size, transform), never a `style` attribute, so the CSP holds; the page's
CSS (`.chart`) only sizes the picture.

Accessibility: each chart is `role="img"`, named by its `<title>` (aria-labelledby) and
described by its `<desc>` (aria-describedby; by default the figures themselves, "label:
value; …"); pages put the same figures in a real table next to it. Series differ by fill
pattern as well as colour (solid, hatched, dotted) and carry a legend; bars are at least
3:1 against white and the page's paper colour, texts at least 4.5:1. The viewBox is drawn
for a 360 px phone and scales with the width (text stays about 12 px there).

Values are counts or durations: negative, NaN or infinite values are drawn as 0 (never an
error page), and the scale's top is a "nice" number (1, 2, 2.5 or 5 × 10ⁿ steps).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 340  # viewBox units; about the width of a 360 px phone's content column
FONT = 13  # viewBox units: ~12.8 px on that phone
CHAR = 0.6  # average advance of a character, in ems (a generous estimate: no clipping)
INK = "#1b1f1e"  # 16:1 on white
MUTED = "#4a5553"  # 7.7:1 on white
GRID = "#c5cbc8"  # decorative lines only
# (colour, pattern): each ≥ 3:1 against #fff and #f7f7f2; the pattern tells series apart
# without colour (WCAG 1.4.1).
PALETTE: tuple[tuple[str, str], ...] = (
    ("#0b5d57", "solid"),
    ("#b35c00", "hatched"),
    ("#5b3fa0", "dotted"),
)

Number = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    """One named row of values, one value per label."""

    name: str
    values: Sequence[float]


def _clean(value: float | None) -> float:
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    return max(float(value), 0.0)


def _default_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _text_width(text: str, size: float = FONT) -> float:
    return len(text) * size * CHAR


def _fit(text: str, width: float, size: float = FONT) -> str:
    """`text` cut with an ellipsis so that it fits in `width` (the table has it whole)."""
    most = max(int(width / (size * CHAR)), 1)
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def _safe_id(chart_id: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", chart_id) or "chart"
    return cleaned if cleaned[0].isalpha() else f"c-{cleaned}"


def _n(value: float) -> str:
    """A coordinate, short and exact enough."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_ticks(top: float, count: int = 4, *, integers: bool = True) -> list[float]:
    """Grid values from 0 to at least `top`, about `count` steps of 1, 2, 2.5 or 5 × 10ⁿ."""
    top = _clean(top)
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = 10 * magnitude
    for multiple in (1, 2, 2.5, 5, 10):
        candidate = multiple * magnitude
        if candidate >= raw and not (integers and not float(candidate).is_integer()):
            step = candidate
            break
    if integers:
        step = max(step, 1.0)
    steps = math.ceil(top / step - 1e-9)
    return [round(float(index * step), 10) for index in range(steps + 1)]


def _open(chart_id: str, height: float, title: str, desc: str, kind: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" id="{chart_id}" '
        f'viewBox="0 0 {WIDTH} {_n(height)}" preserveAspectRatio="xMinYMin meet" '
        f'role="img" aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc" '
        f'font-family="system-ui, sans-serif" font-size="{FONT}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _patterns(chart_id: str, count: int) -> list[str]:
    """The fills of the series past the first (hatched, dotted), in a <defs>."""
    defs = []
    for index in range(1, min(count, len(PALETTE))):
        colour, kind = PALETTE[index]
        pattern_id = f"{chart_id}-p{index}"
        if kind == "hatched":
            shape = (
                f'<path d="M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2" stroke="{colour}" stroke-width="2"/>'
            )
        else:
            shape = f'<circle cx="3" cy="3" r="1.6" fill="{colour}"/>'
        defs.append(
            f'<pattern id="{pattern_id}" width="6" height="6" patternUnits="userSpaceOnUse">'
            f"{shape}</pattern>"
        )
    return [f"<defs>{''.join(defs)}</defs>"] if defs else []


def _fill(chart_id: str, index: int) -> str:
    colour, kind = PALETTE[index % len(PALETTE)]
    if kind == "solid" or index >= len(PALETTE):
        return f'fill="{colour}"'
    return f'fill="url(#{chart_id}-p{index})" stroke="{colour}" stroke-width="1.5"'


def _empty(chart_id: str, title: str, desc: str, empty: str) -> Markup:
    parts = _open(chart_id, 40, title, desc or empty, "empty")
    parts.append(f'<text x="0" y="25" fill="{MUTED}">{escape(empty)}</text></svg>')
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def _describe(labels: Sequence[str], series: Sequence[Series], number: Number) -> str:
    if len(series) == 1:
        return "; ".join(
            f"{label}: {number(_clean(value))}"
            for label, value in zip(labels, series[0].values, strict=False)
        )
    return "; ".join(
        f"{label}: "
        + ", ".join(f"{one.name} {number(_clean(one.values[index]))}" for one in series)
        for index, label in enumerate(labels)
    )


def columns(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    desc: str | None = None,
    number: Number = _default_number,
    empty: str = "—",
    height: float = 220,
) -> Markup:
    """Vertical bars: one group per label (e.g. 12 months), one bar per series."""
    chart_id = _safe_id(chart_id)
    series = [one for one in series if one.values is not None][: len(PALETTE)]
    if not labels or not series:
        return _empty(chart_id, title, desc or "", empty)
    values = [
        [_clean(one.values[i]) if i < len(one.values) else 0.0 for i in range(len(labels))]
        for one in series
    ]
    text = desc if desc is not None else _describe(labels, series, number)
    integers = all(value.is_integer() for row in values for value in row)
    ticks = nice_ticks(max(max(row) for row in values), integers=integers)
    tick_labels = [number(tick) for tick in ticks]

    legend = len(series) > 1
    top = (FONT + 14 if legend else 0) + FONT  # room for the legend and the top tick's text
    left = max(_text_width(label) for label in tick_labels) + 6
    slot = (WIDTH - left) / len(labels)
    rotate = max(_text_width(label) for label in labels) > slot - 2
    longest = min(max(_text_width(label) for label in labels), 70)
    if rotate:  # the first label, turned 45°, reaches left of its bar: keep it in the box
        left = max(left, longest * 0.71 - slot / 2 + 2)
        slot = (WIDTH - left) / len(labels)
    bottom = (longest * 0.71 + FONT) if rotate else FONT + 8
    plot = height - top - bottom
    scale = plot / ticks[-1]
    base = top + plot

    parts = _open(chart_id, height, title, text, "columns")
    parts += _patterns(chart_id, len(series))
    if legend:
        x = left
        for index, one in enumerate(series):
            parts.append(
                f'<rect x="{_n(x)}" y="2" width="12" height="12" {_fill(chart_id, index)}/>'
                f'<text x="{_n(x + 16)}" y="13" fill="{INK}">{escape(one.name)}</text>'
            )
            x += 16 + _text_width(one.name) + 14
    for tick, tick_label in zip(ticks, tick_labels, strict=True):
        y = base - tick * scale
        parts.append(
            f'<line x1="{_n(left)}" x2="{WIDTH}" y1="{_n(y)}" y2="{_n(y)}" stroke="{GRID}" '
            'stroke-width="1"/>'
            f'<text x="{_n(left - 4)}" y="{_n(y + FONT * 0.35)}" text-anchor="end" '
            f'fill="{MUTED}">{escape(tick_label)}</text>'
        )
    group = slot * 0.8
    bar = group / len(series)
    for position, label in enumerate(labels):
        x0 = left + slot * position + (slot - group) / 2
        for index in range(len(series)):
            value = values[index][position]
            bar_height = value * scale
            if bar_height > 0:
                parts.append(
                    f'<rect x="{_n(x0 + bar * index)}" y="{_n(base - bar_height)}" '
                    f'width="{_n(max(bar - 1, 1))}" height="{_n(bar_height)}" '
                    f"{_fill(chart_id, index)}/>"
                )
            shown = number(value)
            if len(series) == 1 and _text_width(shown, FONT - 2) <= slot:
                parts.append(
                    f'<text x="{_n(x0 + bar / 2)}" y="{_n(base - bar_height - 3)}" '
                    f'text-anchor="middle" font-size="{FONT - 2}" fill="{INK}">'
                    f"{escape(shown)}</text>"
                )
        centre = left + slot * (position + 0.5)
        if rotate:
            y = base + FONT
            parts.append(
                f'<text x="{_n(centre)}" y="{_n(y)}" text-anchor="end" fill="{INK}" '
                f'transform="rotate(-45 {_n(centre)} {_n(y)})">'
                f"{escape(_fit(label, 70))}</text>"
            )
        else:
            parts.append(
                f'<text x="{_n(centre)}" y="{_n(base + FONT + 3)}" text-anchor="middle" '
                f'fill="{INK}">{escape(label)}</text>'
            )
    parts.append(
        f'<line x1="{_n(left)}" x2="{WIDTH}" y1="{_n(base)}" y2="{_n(base)}" stroke="{MUTED}" '
        'stroke-width="1.5"/></svg>'
    )
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def bars(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, float]],
    *,
    desc: str | None = None,
    number: Number = _default_number,
    empty: str = "—",
) -> Markup:
    """Horizontal bars for categories: the label on its own line, the bar and its value
    below it (long labels stay readable on a phone; cut with "…" past the width)."""
    chart_id = _safe_id(chart_id)
    if not rows:
        return _empty(chart_id, title, desc or "", empty)
    labels = [label for label, _value in rows]
    values = [_clean(value) for _label, value in rows]
    text = desc if desc is not None else _describe(labels, [Series("", values)], number)
    shown = [number(value) for value in values]
    room = max(_text_width(value) for value in shown) + 6
    longest = max(max(values), 0.0) or 1.0
    scale = (WIDTH - room) / longest
    row_height, bar_height = FONT + 26, 14
    height = row_height * len(rows) + 4
    parts = _open(chart_id, height, title, text, "bars")
    for index, (label, value, value_text) in enumerate(zip(labels, values, shown, strict=True)):
        y = index * row_height
        width = value * scale
        parts.append(
            f'<text x="0" y="{_n(y + FONT)}" fill="{INK}">{escape(_fit(label, WIDTH))}</text>'
        )
        bar_top = y + FONT + 5
        if width > 0:
            parts.append(
                f'<rect x="0" y="{_n(bar_top)}" width="{_n(width)}" height="{bar_height}" '
                f"{_fill(chart_id, 0)}/>"
            )
        parts.append(
            f'<line x1="0" x2="0" y1="{_n(bar_top - 2)}" y2="{_n(bar_top + bar_height + 2)}" '
            f'stroke="{MUTED}" stroke-width="1.5"/>'
            f'<text x="{_n(width + 4)}" y="{_n(bar_top + bar_height - 2)}" fill="{INK}" '
            f'font-weight="600">{escape(value_text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()
