"""Charts drawn on the server as SVG: no script, no CDN, readable without JavaScript.

The geometry is computed here; templates/partials/radar_charts.html lays it out. The SVG holds
the plot alone (grid, band, area, line, bars, shaded spans) and stretches to the width of its
card at a fixed height in CSS pixels; lines keep their width whatever the stretch
(`vector-effect: non-scaling-stroke`). Axis labels and markers are HTML placed in percent of
the plot, so their text stays at the page's font size on a phone as on a desktop, as a charting
library drawing at the real size would do. Each bucket also gets an invisible hover target with
a title, so the value shows on hover and to screen readers.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The plot's coordinates: 1000 units across whatever the width on screen, and as many units
# down as CSS pixels, so that vertical sizes read as pixels.
WIDTH = 1000
HEIGHT = 176
# Past this share of the width an x label would spill out of the card: it is left out.
LAST_LABEL_AT = 94.0


@dataclass(slots=True)
class Marker:
    """A marked bucket (an anomaly, a rule's threshold crossed), in percent of the plot."""

    left: float
    top: float
    title: str


@dataclass(slots=True)
class HoverBar:
    """The hover target of one bucket, in plot units."""

    x: float
    width: float
    title: str


@dataclass(slots=True)
class Span:
    """A shaded stretch of time (an alert's window), in plot units."""

    x: float
    width: float
    title: str


@dataclass(slots=True)
class Guide:
    """A horizontal reference line (a rule's threshold): y in plot units, top in percent."""

    y: float
    top: float
    text: str


@dataclass(slots=True)
class Tick:
    """An axis label, at `at` percent of the plot (from the left for x, from the top for y)."""

    at: float
    text: str


@dataclass(slots=True)
class Chart:
    """What a line chart with an expected band needs to be drawn."""

    width: int
    height: int
    line: str
    area: str
    band: str
    markers: list[Marker] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    hovers: list[HoverBar] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    guides: list[Guide] = field(default_factory=list)
    grid: list[float] = field(default_factory=list)
    empty: bool = False


def nice_max(value: float) -> float:
    """A round upper bound for an axis (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        bound = step * 10**exponent
        if bound >= value:
            return float(bound)
    return float(10 ** (exponent + 1))


def _x_ticks(count: int, x_of: Callable[[int], float], text: Callable[[int], str]) -> list[Tick]:
    """About six x labels, none so close to the right edge that it would spill out."""
    step = max(1, count // 6)
    ticks = [Tick(100 * x_of(i) / WIDTH, text(i)) for i in range(0, count, step)]
    return [t for t in ticks if t.at <= LAST_LABEL_AT]


def line_chart(
    points: Sequence[Any],
    value: Callable[[Any], float],
    label: Callable[[datetime], str],
    title: Callable[[Any], str],
    band: Callable[[Any], tuple[float, float] | None] | None = None,
    anomalous: Callable[[Any], bool] | None = None,
    number: Callable[[float], str] = lambda v: f"{v:g}",
    height: int = HEIGHT,
    fixed_max: float | None = None,
    spans: Sequence[tuple[datetime, datetime, str]] = (),
    guides: Sequence[tuple[float, str]] = (),
) -> Chart:
    """The geometry of a line chart of `points` (objects with a `start`, in time order), with
    an optional band (low, high) per point, markers on the points `anomalous` picks, shaded
    spans of time (start, end, title) and horizontal guides (value, text)."""
    width = WIDTH
    count = len(points)
    values = [value(p) for p in points]
    bands = [band(p) if band else None for p in points]
    top = max([*values, *[b[1] for b in bands if b is not None], *[g[0] for g in guides], 0.0])
    y_max = fixed_max if fixed_max is not None else nice_max(top)
    empty = not any(values)

    def x_of(index: int) -> float:
        return width * index / (count - 1) if count > 1 else width / 2

    def y_of(amount: float) -> float:
        return height * (1 - max(0.0, min(amount, y_max)) / y_max)

    coords = [(x_of(i), y_of(v)) for i, v in enumerate(values)]
    line = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
    area = f"{line} L{coords[-1][0]:.1f},{height} L{coords[0][0]:.1f},{height} Z" if coords else ""
    band_path = ""
    stretches = [(i, b) for i, b in enumerate(bands) if b is not None]
    if stretches:
        upper = " ".join(
            f"{'M' if n == 0 else 'L'}{x_of(i):.1f},{y_of(b[1]):.1f}"
            for n, (i, b) in enumerate(stretches)
        )
        lower = " ".join(f"L{x_of(i):.1f},{y_of(b[0]):.1f}" for i, b in reversed(stretches))
        band_path = f"{upper} {lower} Z"
    markers = [
        Marker(100 * coords[i][0] / width, 100 * coords[i][1] / height, title(p))
        for i, p in enumerate(points)
        if anomalous is not None and anomalous(p)
    ]
    starts = [p.start for p in points]
    shaded = []
    for begin, end, text in spans:
        left, right = _x_at(starts, begin, x_of), _x_at(starts, end, x_of)
        left, right = max(0.0, left), min(float(width), right)
        if right > left:
            shaded.append(Span(left, right - left, text))
    lines = [Guide(y_of(amount), 100 * y_of(amount) / height, text) for amount, text in guides]
    fractions = (0.0, 0.5, 1.0)
    y_ticks = [Tick(100 * y_of(y_max * f) / height, number(y_max * f)) for f in fractions]
    x_ticks = _x_ticks(count, x_of, lambda i: label(points[i].start))
    slot = width / max(1, count)
    hovers = [HoverBar(x_of(i) - slot / 2, slot, title(p)) for i, p in enumerate(points)]
    return Chart(
        width,
        height,
        line,
        area,
        band_path,
        markers,
        y_ticks,
        x_ticks,
        hovers,
        shaded,
        lines,
        [y_of(y_max * f) for f in fractions],
        empty,
    )


def _x_at(starts: Sequence[datetime], moment: datetime, x_of: Callable[[int], float]) -> float:
    """Where a moment falls on the x axis of points at `starts` (between two points in
    proportion, past the ends at the pace of the nearest step)."""
    count = len(starts)
    if count < 2:
        return x_of(0)
    index = min(max(bisect_right(starts, moment) - 1, 0), count - 2)
    step = (starts[index + 1] - starts[index]).total_seconds()
    fraction = (moment - starts[index]).total_seconds() / step if step else 0.0
    return x_of(index) + fraction * (x_of(index + 1) - x_of(index))


@dataclass(slots=True)
class Bar:
    """A segment of a stacked bar, in plot units."""

    x: float
    y: float
    width: float
    height: float
    hue: int
    title: str


@dataclass(slots=True)
class BarChart:
    """What a stacked bar chart needs to be drawn."""

    width: int
    height: int
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    grid: list[float]


def stacked_bars(
    starts: Sequence[datetime],
    stacks: Sequence[tuple[str, int, Sequence[int]]],
    label: Callable[[datetime], str],
    title: Callable[[str, datetime, int], str],
    height: int = HEIGHT,
) -> BarChart:
    """Stacked bars (one stack per bucket, one segment per brand: name, hue, values), with
    y ticks and x ticks."""
    width = WIDTH
    count = len(starts)
    totals = [sum(values[i] for _name, _hue, values in stacks) for i in range(count)]
    y_max = nice_max(max(totals, default=0))
    slot = width / max(1, count)
    bars: list[Bar] = []
    for i, start in enumerate(starts):
        base = float(height)
        for name, hue, values in stacks:
            amount = values[i]
            if not amount:
                continue
            h = height * amount / y_max
            base -= h
            bars.append(
                Bar(i * slot + slot * 0.15, base, slot * 0.7, h, hue, title(name, start, amount))
            )
    fractions = (0.0, 0.5, 1.0)
    grid = [height * (1 - f) for f in fractions]
    y_ticks = [Tick(100 * (1 - f), f"{y_max * f:g}") for f in fractions]
    x_ticks = _x_ticks(count, lambda i: i * slot + slot / 2, lambda i: label(starts[i]))
    return BarChart(width, height, bars, y_ticks, x_ticks, grid)
