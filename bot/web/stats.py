"""Rates with their sample size and a 95 % interval, so "50 %" from two reviews reads as such."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959964  # two-sided 95 % normal quantile


@dataclass(frozen=True)
class Rate:
    """`hits` of `n`, with the Wilson score interval (sound for small n and for 0 % or 100 %)."""

    hits: int
    n: int

    @property
    def value(self) -> float | None:
        return self.hits / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        if not self.n:
            return None
        return wilson(self.hits, self.n)

    def describe(self) -> str:
        """'50 % (1 of 2; 95 % CI 9–91 %)', or 'no data' when nothing was judged."""
        if not self.n or self.value is None or self.interval is None:
            return "no data"
        low, high = self.interval
        return (
            f"{self.value * 100:.0f} % ({self.hits} of {self.n}; "
            f"95 % CI {low * 100:.0f}–{high * 100:.0f} %)"
        )


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    if n <= 0:
        raise ValueError("an interval needs at least one observation")
    if not 0 <= hits <= n:
        raise ValueError(f"hits must be within 0..{n}")
    p = hits / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
