"""Charts drawn on the server as SVG: no script, no CDN, readable without JavaScript.

The geometry is computed here; templates/partials/chart.html lays it out. Each bucket also gets
an invisible hover target with a title, so the value shows on hover and to screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

WIDTH = 720
HEIGHT = 200
PAD_LEFT = 44
PAD_RIGHT = 8
PAD_TOP = 10
PAD_BOTTOM = 24


@dataclass(slots=True)
class Marker:
    """An anomaly marker on a chart."""

    x: float
    y: float
    title: str


@dataclass(slots=True)
class HoverBar:
    """The hover target of one bucket."""

    x: float
    width: float
    title: str


@dataclass(slots=True)
class Chart:
    """What a line chart with an expected band needs to be drawn."""

    width: int
    height: int
    line: str
    area: str
    band: str
    markers: list[Marker] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    hovers: list[HoverBar] = field(default_factory=list)
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


def line_chart(
    points: Sequence[Any],
    value: Callable[[Any], float],
    label: Callable[[datetime], str],
    title: Callable[[Any], str],
    band: Callable[[Any], tuple[float, float] | None] | None = None,
    anomalous: Callable[[Any], bool] | None = None,
    number: Callable[[float], str] = lambda v: f"{v:g}",
    width: int = WIDTH,
    height: int = HEIGHT,
    fixed_max: float | None = None,
) -> Chart:
    """The geometry of a line chart of `points` (objects with a `start`), with an optional band
    (low, high) per point and anomaly markers."""
    count = len(points)
    inner_w = width - PAD_LEFT - PAD_RIGHT
    inner_h = height - PAD_TOP - PAD_BOTTOM
    values = [value(p) for p in points]
    bands = [band(p) if band else None for p in points]
    top = max([*values, *[b[1] for b in bands if b is not None], 0.0])
    y_max = fixed_max if fixed_max is not None else nice_max(top)
    empty = not any(values)

    def x_of(index: int) -> float:
        return PAD_LEFT + (inner_w * index / (count - 1) if count > 1 else inner_w / 2)

    def y_of(amount: float) -> float:
        return PAD_TOP + inner_h * (1 - min(amount, y_max) / y_max)

    coords = [(x_of(i), y_of(v)) for i, v in enumerate(values)]
    line = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
    baseline = PAD_TOP + inner_h
    area = (
        f"{line} L{coords[-1][0]:.1f},{baseline:.1f} L{coords[0][0]:.1f},{baseline:.1f} Z"
        if coords
        else ""
    )
    band_path = ""
    spans = [(i, b) for i, b in enumerate(bands) if b is not None]
    if spans:
        upper = " ".join(
            f"{'M' if n == 0 else 'L'}{x_of(i):.1f},{y_of(b[1]):.1f}"
            for n, (i, b) in enumerate(spans)
        )
        lower = " ".join(f"L{x_of(i):.1f},{y_of(max(0.0, b[0])):.1f}" for i, b in reversed(spans))
        band_path = f"{upper} {lower} Z"
    markers = [
        Marker(coords[i][0], coords[i][1], title(p))
        for i, p in enumerate(points)
        if anomalous is not None and anomalous(p)
    ]
    y_ticks = [(y_of(y_max * f), number(y_max * f)) for f in (0.0, 0.5, 1.0)]
    step = max(1, count // 6)
    x_ticks = [(x_of(i), label(points[i].start)) for i in range(0, count, step)]
    slot = inner_w / max(1, count)
    hovers = [HoverBar(x_of(i) - slot / 2, slot, title(p)) for i, p in enumerate(points)]
    return Chart(width, height, line, area, band_path, markers, y_ticks, x_ticks, hovers, empty)


@dataclass(slots=True)
class Bar:
    """A segment of a stacked bar."""

    x: float
    y: float
    width: float
    height: float
    hue: int
    title: str


def stacked_bars(
    starts: Sequence[datetime],
    stacks: Sequence[tuple[str, int, Sequence[int]]],
    label: Callable[[datetime], str],
    title: Callable[[str, datetime, int], str],
    width: int = WIDTH,
    height: int = HEIGHT,
) -> tuple[list[Bar], list[tuple[float, str]], list[tuple[float, str]]]:
    """Stacked bars (one stack per bucket, one segment per brand: name, hue, values), with
    y ticks and x ticks."""
    count = len(starts)
    inner_w = width - PAD_LEFT - PAD_RIGHT
    inner_h = height - PAD_TOP - PAD_BOTTOM
    totals = [sum(values[i] for _name, _hue, values in stacks) for i in range(count)]
    y_max = nice_max(max(totals, default=0))
    slot = inner_w / max(1, count)
    bars: list[Bar] = []
    for i, start in enumerate(starts):
        base = float(PAD_TOP + inner_h)
        for name, hue, values in stacks:
            amount = values[i]
            if not amount:
                continue
            h = inner_h * amount / y_max
            base -= h
            bars.append(
                Bar(
                    PAD_LEFT + i * slot + slot * 0.15,
                    base,
                    slot * 0.7,
                    h,
                    hue,
                    title(name, start, amount),
                )
            )
    y_ticks = [(PAD_TOP + inner_h * (1 - f), f"{y_max * f:g}") for f in (0.0, 0.5, 1.0)]
    step = max(1, count // 6)
    x_ticks = [(PAD_LEFT + i * slot + slot / 2, label(starts[i])) for i in range(0, count, step)]
    return bars, y_ticks, x_ticks
