"""Server-rendered SVG chart geometry (the CSP allows no chart script, and none is needed)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.records import DayCount


def last_days(today: datetime, days: int) -> list[str]:
    return [(today - timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days - 1, -1, -1)]


def per_day(rows: Iterable[DayCount], days: list[str]) -> list[int]:
    """Sum `rows` into one count per day of `days` (0 where none)."""
    totals = dict.fromkeys(days, 0)
    for row in rows:
        if row.day in totals:
            totals[row.day] += row.n
    return [totals[d] for d in days]


LABELLED_MIN_H = 80


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    series: str
    title: str


@dataclass(frozen=True)
class Trend:
    """Daily bars for one or more series, stacked; `label` names what is counted."""

    w: int
    h: int
    bars: list[Bar]
    ticks: list[tuple[float, str, str]]  # (x, MM-DD, text-anchor) under a few days
    peak: int
    total: int
    days: int
    label: str
    baseline: float  # y of the axis

    @property
    def labelled(self) -> bool:
        """Big enough for day ticks and a scale (a sparkline is not)."""
        return self.h >= LABELLED_MIN_H


def trend(
    series: Mapping[str, list[int]],
    days: list[str],
    *,
    label: str,
    w: int = 560,
    h: int = 120,
    tick_every: int = 7,
) -> Trend:
    peak = max((sum(col) for col in zip(*series.values(), strict=True)), default=0) or 1
    slot = w / max(1, len(days))
    # A labelled chart keeps room for the day ticks below and the scale above.
    below, above = (16, 14) if h >= LABELLED_MIN_H else (1, 1)
    plot_h = h - below - above
    bars: list[Bar] = []
    for i, day in enumerate(days):
        y = float(h - below)
        for name, counts in series.items():
            n = counts[i]
            if not n:
                continue
            bar_h = plot_h * n / peak
            y -= bar_h
            bars.append(
                Bar(
                    x=round(i * slot + slot * 0.15, 1),
                    y=round(y, 1),
                    w=round(slot * 0.7, 1),
                    h=round(bar_h, 1),
                    series=name,
                    title=f"{day}: {n} {name}",
                )
            )
    # Weekly ticks counted back from today; today's is right-aligned so it is not cut.
    ticks = [
        (round(i * slot + slot / 2, 1), day[5:], "middle")
        for i, day in enumerate(days[:-1])
        if (len(days) - 1 - i) % tick_every == 0
    ]
    if days:
        ticks.append((float(w - 2), days[-1][5:], "end"))
    total = sum(sum(c) for c in series.values())
    return Trend(w, h, bars, ticks, peak, total, len(days), label, float(h - below))
