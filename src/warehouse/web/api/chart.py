"""A line chart drawn as SVG on the server: no chart library, no script, nothing the
Content-Security-Policy has to allow; the page shows the same numbers as a table beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


@dataclass(frozen=True, slots=True)
class Chart:
    """What the template draws: the line, the area under it, and the axis labels."""

    width: int
    height: int
    line: str  # SVG points "x,y x,y …"
    area: str
    ticks: list[tuple[float, str]]  # (y, label) on the value axis
    first: date
    last: date
    low: Decimal
    high: Decimal


def line_chart(series: Sequence[tuple[date, Decimal]]) -> Chart | None:
    """The chart of ``series`` (oldest first); None for fewer than two points."""
    if len(series) < 2:
        return None
    values = [v for _, v in series]
    low, high = min(*values, Decimal(0)), max(values)
    span = (high - low) or Decimal(1)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + inner_w * i / (len(series) - 1)

    def y(v: Decimal) -> float:
        return TOP + inner_h * float((high - v) / span)

    points = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values)]
    base = y(low)
    area = f"{x(0):.1f},{base:.1f} " + " ".join(points) + f" {x(len(values) - 1):.1f},{base:.1f}"
    ticks = [(y(v), _label(v)) for v in (high, low + span / 2, low)]
    return Chart(
        WIDTH, HEIGHT, " ".join(points), area, ticks, series[0][0], series[-1][0], low, high
    )


def _label(value: Decimal) -> str:
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
