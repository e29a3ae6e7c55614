"""A small line chart drawn on the server as SVG geometry (no chart library, no CDN, no script)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from comments_server.health import Point

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 36, 12, 12, 28


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    line: str            # the polyline's points
    area: str            # the polygon under it
    dots: list[tuple[float, float, Point]]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    plot_left: float
    plot_right: float
    plot_bottom: float
    maximum: int


def _nice_max(value: int) -> int:
    """A round top for the y axis: 1, 2, 5, 10, 20, 50, ..."""
    if value <= 1:
        return 1
    magnitude = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def line_chart(points: Sequence[Point]) -> Chart:
    """The unanswered count over time, scaled into the plot area."""
    top_value = _nice_max(max((p.unanswered for p in points), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + plot_w * i / count, 1)

    def y(v: int) -> float:
        return round(TOP + plot_h * (1 - v / top_value), 1)

    coords = [(x(i), y(p.unanswered), p) for i, p in enumerate(points)]
    line = " ".join(f"{cx},{cy}" for cx, cy, _ in coords)
    bottom = TOP + plot_h
    area = f"{LEFT},{bottom} {line} {x(len(points) - 1)},{bottom}" if coords else ""
    steps = sorted({0, top_value // 2, top_value}) if top_value > 1 else [0, 1]
    y_ticks = [Tick(y(v), str(v)) for v in steps]
    marks = sorted({0, len(points) // 2, len(points) - 1}) if points else []
    x_ticks = [Tick(x(i), points[i].day.strftime("%-d %b")) for i in marks]
    return Chart(WIDTH, HEIGHT, line, area, coords, y_ticks, x_ticks, LEFT, WIDTH - RIGHT, bottom, top_value)
