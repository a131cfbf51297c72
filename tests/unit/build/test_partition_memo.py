"""The partition memo: a remembered fit is the fresh fit, bit for bit, and any change of input fits afresh."""
from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Point, Polygon, box

from layers.build.partition import clear_partition_memo, partition_polygon
from layers.core import settings

OUTLINE = box(0, 0, 10_000, 10_000)
ANCHORS = [Point(2500, 2500), Point(7500, 2500), Point(5000, 7500)]


def _targets(weights=(1, 1, 1)) -> list[float]:
    w = np.asarray(weights, dtype=float)
    return list(w / w.sum() * OUTLINE.area)


@pytest.fixture
def memo(monkeypatch):
    """An empty memo of the product's size before and after the test."""
    monkeypatch.setattr(settings, "PARTITION_MEMO_SIZE", 32)
    clear_partition_memo()
    yield
    clear_partition_memo()


def test_a_remembered_fit_is_identical_to_a_fresh_fit(memo, monkeypatch):
    with monkeypatch.context() as off:
        off.setattr(settings, "PARTITION_MEMO_SIZE", 0)
        fresh = partition_polygon(OUTLINE, ANCHORS, _targets())
    first = partition_polygon(OUTLINE, ANCHORS, _targets())
    again = partition_polygon(OUTLINE, ANCHORS, _targets())
    assert all(a is b for a, b in zip(first, again)), "the second call should come from the memo"
    assert [c.wkb for c in again] == [c.wkb for c in fresh] == [c.wkb for c in first]
    again.pop()  # the caller's list is its own
    assert len(partition_polygon(OUTLINE, ANCHORS, _targets())) == len(ANCHORS)


@pytest.mark.parametrize("change", ["outline", "anchor", "target", "tolerance", "max_iter", "order"])
def test_any_change_of_input_fits_afresh(memo, change):
    first = partition_polygon(OUTLINE, ANCHORS, _targets())
    outline, anchors, targets, options = OUTLINE, list(ANCHORS), _targets(), {}
    if change == "outline":  # one vertex moved by a millimetre, same area to 1e-9
        outline = Polygon([(0, 0), (10_000, 0), (10_000, 10_000), (0.001, 10_000)])
        targets = list(np.asarray(targets) / OUTLINE.area * outline.area)
    elif change == "anchor":
        anchors[2] = Point(5000, 7500.001)
    elif change == "target":
        targets[0] = np.nextafter(targets[0], np.inf)
    elif change == "tolerance":
        options = {"tolerance": 0.004}
    elif change == "max_iter":
        options = {"max_iter": 1999}
    else:
        anchors, targets = anchors[::-1], targets[::-1]
    cells = partition_polygon(outline, anchors, targets, **options)
    assert not any(c is f for c in cells for f in first), f"a changed {change} must not hit the memo"


def test_the_memo_keeps_only_its_size(memo, monkeypatch):
    monkeypatch.setattr(settings, "PARTITION_MEMO_SIZE", 1)
    first = partition_polygon(OUTLINE, ANCHORS, _targets())
    partition_polygon(OUTLINE, ANCHORS, _targets((2, 1, 1)))
    assert not any(c is f for c in partition_polygon(OUTLINE, ANCHORS, _targets()) for f in first)
