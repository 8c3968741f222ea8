"""web.api.chart: the SVG line chart's geometry."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from warehouse.web.api.chart import HEIGHT, LEFT, RIGHT, TOP, WIDTH, line_chart

DAY = date(2026, 12, 1)


def series(*values: int) -> list[tuple[date, Decimal]]:
    return [(DAY + timedelta(days=i), Decimal(v)) for i, v in enumerate(values)]


def test_the_line_spans_the_plot_from_the_highest_value_down_to_zero() -> None:
    chart = line_chart(series(0, 5, 10))
    assert chart is not None
    points = [tuple(map(float, p.split(","))) for p in chart.line.split()]
    assert points[0] == (LEFT, HEIGHT - 28)  # 0 at the bottom of the plot, first day left
    assert points[-1] == (WIDTH - RIGHT, TOP)  # the highest at the top, last day right
    assert points[1][1] == (TOP + HEIGHT - 28) / 2
    assert [label for _, label in chart.ticks] == ["10", "5", "0"]
    assert (chart.first, chart.last) == (DAY, DAY + timedelta(days=2))


def test_negative_stock_goes_below_the_zero_line_and_flat_series_still_draw() -> None:
    chart = line_chart(series(-4, 4))
    assert chart is not None
    assert (chart.low, chart.high) == (Decimal(-4), Decimal(4))
    assert [label for _, label in chart.ticks] == ["4", "0", "-4"]
    flat = line_chart(series(0, 0, 0))
    assert flat is not None
    assert flat.line.count(",") == 3


def test_one_point_is_no_chart() -> None:
    assert line_chart(series(3)) is None
    assert line_chart([]) is None
