"""The load bench's statistics (bench/load_stats.py): the p95, and where the ramp stops and what it reports."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

from load_stats import Level, capacity, next_level, p95, summary  # noqa: E402  (bench/ is not a package)


def _level(concurrency: int, steps: list[float], sessions: int = 10, wall_s: float = 60.0,
           errors: list[str] | None = None) -> Level:
    return Level(concurrency, steps=steps, sessions=sessions, wall_s=wall_s, errors=errors or [])


def test_p95_is_the_nearest_rank():
    assert p95([0.5]) == 0.5
    assert p95(list(range(1, 101))) == 95  # 95 of 100 values at or below it
    assert p95(list(range(1, 21))) == 19
    assert p95([3.0, 1.0, 2.0]) == 3.0  # unordered input; with 3 values the p95 is the largest
    with pytest.raises(ValueError):
        p95([])


def test_summary_of_nothing_and_of_values():
    assert summary([]) == {"n": 0, "p50_s": None, "p95_s": None, "max_s": None}
    assert summary([0.1, 0.2, 0.3, 0.4]) == {"n": 4, "p50_s": 0.25, "p95_s": 0.4, "max_s": 0.4}


def test_a_level_passes_only_below_the_limit_without_errors():
    assert _level(1, [0.2] * 19 + [5.0]).passes()  # one slow step in 20 is the 5 % the p95 allows
    assert not _level(1, [0.2] * 18 + [5.0, 5.0]).passes()
    assert not _level(1, [0.2] * 20, errors=["SessionError: wrong page"]).passes()
    assert not _level(1, [], sessions=0).passes()
    level = Level(2)
    level.record("open", 0.4)
    level.record("town", 0.2)
    assert level.steps == [0.4, 0.2] and level.by_step == {"open": [0.4], "town": [0.2]}


def test_the_ramp_rises_until_a_level_fails_then_stops():
    levels = (1, 2, 4)
    assert next_level([], levels=levels) == 1
    assert next_level([], levels=levels, time_left_s=0, level_s=20) == 1  # the first level always runs
    assert next_level([_level(1, [0.3])], levels=levels) == 2
    assert next_level([_level(1, [0.3]), _level(2, [1.4])], levels=levels) is None  # p95 passed 1 s
    assert next_level([_level(4, [0.3])], levels=levels) is None  # no level left
    assert next_level([_level(1, [0.3])], levels=levels, time_left_s=5, level_s=20) is None  # no time left


def test_capacity_is_the_busiest_level_that_held():
    done = [_level(1, [0.3], sessions=5), _level(2, [0.6], sessions=9), _level(3, [1.2], sessions=11)]
    assert capacity(done).concurrency == 2 and capacity(done).sessions_per_min == 9.0
    assert capacity([_level(1, [1.5])]) is None
