"""Checks of the import plan added by issue 17: BD-09 coordinates declared as WGS 84, the re-fit's vertex limit,
and the hand-over by spatial index giving the same owners as before."""
from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from layers.build.overlay import _hand_over
from layers.core import paths, settings
from layers.core.crs import geometry_wgs84_to_bd09, geometry_wgs84_to_gcj02, to_measure
from layers.imports.plan import plan_import


@pytest.fixture(scope="module")
def towns() -> gpd.GeoDataFrame:
    data = json.loads(paths.layer_file("towns.geojson").read_text(encoding="utf-8"))
    return gpd.GeoDataFrame([{"code": f["properties"]["code"], "name_zh": f["properties"]["name_zh"],
                              "geometry": shape(f["geometry"])} for f in data["features"]], crs=settings.WGS84)


def _frame(towns, move, name="moved.geojson") -> gpd.GeoDataFrame:
    part = towns.iloc[[0, 3, 6, 9]].copy()
    part = part.set_geometry([move(g) for g in part.geometry], crs=settings.WGS84)
    part.attrs.update(file_name=name, source_crs="EPSG:4326")
    return part


@pytest.mark.slow  # a re-fit of its own (inputs no other test shares)
def test_bd09_declared_as_wgs84_needs_confirmation(towns):
    report = plan_import(_frame(towns, geometry_wgs84_to_bd09))
    assert report.status == "needs_confirmation"
    assert [i.kind for i in report.issues if i.severity == "confirm"] == ["bd09"]
    assert "BD-09" in report.messages("confirm")[0]


@pytest.mark.slow  # a re-fit of its own (inputs no other test shares)
def test_gcj02_is_still_named_gcj02_not_bd09(towns):
    report = plan_import(_frame(towns, geometry_wgs84_to_gcj02))
    assert [i.kind for i in report.issues if i.severity == "confirm"] == ["gcj02"]


@pytest.mark.slow  # a re-fit of its own (inputs no other test shares)
def test_true_wgs84_is_neither(towns):
    report = plan_import(_frame(towns, lambda g: g))
    assert report.status == "ready"


def test_a_file_over_the_refit_vertex_limit_is_rejected_with_the_figure(towns, monkeypatch):
    monkeypatch.setattr(settings, "IMPORT_PLAN_MAX_VERTICES", 10)
    report = plan_import(_frame(towns, lambda g: g))
    assert report.rejected and "at most 10." in " ".join(report.messages("error"))


def test_the_indexed_hand_over_gives_the_longest_shared_boundary(towns):
    """Slivers along two units go to the one they share most boundary with, islands to the nearest."""
    a = to_measure(towns.geometry.iloc[0])
    b = to_measure(towns.geometry.iloc[1])
    a_dense, b_dense = shapely.segmentize(a, 5.0), shapely.segmentize(b, 5.0)
    edge = a_dense.exterior
    pieces = []
    for k in range(0, 200, 20):  # thin strips hugging a's boundary
        seg = shapely.LineString(np.asarray(edge.coords)[k:k + 10])
        pieces.append(seg.buffer(3.0, cap_style="flat").difference(a_dense))
    island = shapely.Point(*np.asarray(b_dense.exterior.coords)[0]).buffer(1e5).difference(
        shapely.Point(*np.asarray(b_dense.exterior.coords)[0]).buffer(99990))
    owners = _hand_over([*pieces, island], {"a": a_dense, "b": b_dense}, ["a", "b"])
    assert owners[:-1] == ["a"] * len(pieces)
    assert owners[-1] in ("a", "b")
