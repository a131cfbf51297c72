"""The load bench's statistics: percentiles, step summaries, and the ramp (raise concurrency until the p95 step
latency passes its limit; the capacity is the best level below it). Pure functions, tested without a server."""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

#: The ramp's concurrency levels (sessions at once, each a closed loop: a new session as soon as one ends).
LEVELS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32)
#: The step latency the capacity is measured at (p95, seconds).
P95_LIMIT_S = 1.0


def p95(values: Sequence[float]) -> float:
    """The 95th percentile, nearest rank (the smallest value with at least 95 % of the values at or below it)."""
    if not values:
        raise ValueError("p95 of no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """Count, median, p95 and maximum (seconds, 3 decimals); None for an empty list."""
    if not values:
        return {"n": 0, "p50_s": None, "p95_s": None, "max_s": None}
    return {"n": len(values), "p50_s": round(statistics.median(values), 3), "p95_s": round(p95(values), 3),
            "max_s": round(max(values), 3)}


@dataclass
class Level:
    """One level of the ramp: what ``concurrency`` closed-loop sessions did in ``wall_s`` seconds."""

    concurrency: int
    steps: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)
    sessions: int = 0
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    generator_cpu_s: float = 0.0
    rss_mb: float = 0.0
    peak_rss_mb: float = 0.0

    def record(self, step: str, seconds: float) -> None:
        """One step's latency."""
        self.steps.append(seconds)
        self.by_step.setdefault(step, []).append(seconds)

    @property
    def sessions_per_min(self) -> float:
        return 60.0 * self.sessions / self.wall_s if self.wall_s else 0.0

    @property
    def step_p95_s(self) -> float | None:
        return p95(self.steps) if self.steps else None

    def passes(self, limit_s: float = P95_LIMIT_S) -> bool:
        """Whether this level held the limit: sessions finished, no error, p95 step latency at or below it."""
        p = self.step_p95_s
        return self.sessions > 0 and not self.errors and p is not None and p <= limit_s


def next_level(done: Sequence[Level], *, limit_s: float = P95_LIMIT_S, levels: Sequence[int] = LEVELS,
               time_left_s: float = math.inf, level_s: float = 0.0) -> int | None:
    """The next concurrency to try, or None when the ramp stops: the last level passed its limit (or had errors),
    the levels are used up, or another level would not fit in the time left. The first level always runs."""
    if not done:
        return levels[0]
    if not done[-1].passes(limit_s):
        return None
    higher = [c for c in levels if c > done[-1].concurrency]
    if not higher or time_left_s < level_s:
        return None
    return higher[0]


def capacity(done: Sequence[Level], *, limit_s: float = P95_LIMIT_S) -> Level | None:
    """The level with the most sessions per minute among those that held the limit (None: not even one)."""
    good = [level for level in done if level.passes(limit_s)]
    return max(good, key=lambda level: level.sessions_per_min) if good else None
