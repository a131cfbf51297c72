"""Per-town statistics on the real layers, classification schemes and the detail view of one town."""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from layers.core.crs import to_measure
from layers.core.errors import ClassificationError, SongjiangMapError, UnknownTownError
from layers.map.stats import SCHEMES, STATISTICS, classify, compare_towns, town_contents, town_statistics

JIUTING = "310117107"
MAOGANG = "310117109"


@pytest.fixture(scope="module")
def table(layers) -> pd.DataFrame:
    return town_statistics(layers)


def test_one_row_per_town_indexed_by_code(table, layers):
    assert list(table.index) == list(layers["towns"]["code"].astype(str))
    assert len(table) == 17
    assert set(STATISTICS) <= set(table.columns)


def test_every_statistic_has_metadata_with_source(table):
    for name, meta in STATISTICS.items():
        assert meta.label_zh and meta.label_en and meta.unit and meta.source, name
        if meta.on_schematic_geometry:
            assert meta.computed and meta.note_en, name
    assert STATISTICS["employment_density"].on_schematic_geometry
    assert not STATISTICS["employment_2023"].computed


def test_missing_official_figures_stay_missing(table, layers):
    # population_2020 has no town figures in the data: it must stay NaN, never be filled or estimated.
    assert layers["towns"]["population_2020"].isna().all()
    assert table["population_2020"].isna().all()


def test_official_facts_are_copied_unchanged(table, layers):
    towns = layers["towns"].set_index(layers["towns"]["code"].astype(str))
    for field in ("employment_2023", "villages_2022", "area_official_km2"):
        assert (table[field] == towns[field]).all(), field


def test_cell_areas_add_up_to_the_district(table, outline_m):
    assert table["area_km2"].sum() == pytest.approx(outline_m.area / 1e6, rel=1e-3)


def test_employment_density_uses_the_computed_area(table):
    jt = table.loc[JIUTING]
    assert jt["employment_density"] == pytest.approx(jt["employment_2023"] / jt["area_km2"])


def test_station_counts_add_up_to_the_stations_inside_the_district(table, layers):
    district = layers["district"].geometry.iloc[0]
    inside = int(layers["stations"].geometry.covered_by(district).sum())
    assert int(table["stations"].sum()) == inside
    assert inside > 50


def test_park_counts_add_up_to_the_located_parks(table, layers):
    parks = layers["parks"]
    located = parks.geometry.notna() & ~parks.geometry.is_empty
    assert int(table["parks"].sum()) == int(located.sum())


def test_rail_km_adds_up_to_the_total_within_01_percent(table, layers, outline_m):
    lines = layers["rail_lines"]
    total = sum(to_measure(g).intersection(outline_m).length for g in lines.geometry) / 1000
    assert table["rail_km_total"].sum() == pytest.approx(total, rel=1e-3)
    is_open = lines["status"] == "open"
    open_total = sum(to_measure(g).intersection(outline_m).length for g in lines.geometry[is_open]) / 1000
    assert table["rail_km_open"].sum() == pytest.approx(open_total, rel=1e-3)
    assert (table["rail_km_open"] <= table["rail_km_total"] + 1e-9).all()


def test_compare_a_rail_town_with_a_rural_town(table):
    both = compare_towns(table, [JIUTING, MAOGANG])
    assert list(both.columns) == [JIUTING, MAOGANG]
    # Line 9 runs through Jiuting; no rail line crosses Maogang (south of the Huangpu).
    assert both.loc["stations", JIUTING] >= 1 and both.loc["stations", MAOGANG] == 0
    assert both.loc["rail_km_open", JIUTING] > 1.0 and both.loc["rail_km_total", MAOGANG] == 0
    with pytest.raises(UnknownTownError):
        compare_towns(table, [JIUTING, "999"])


def test_town_contents_of_jiuting(layers, table):
    jt = town_contents(layers, JIUTING)
    assert jt["name_zh"] == "九亭镇"
    assert "stn-jiuting-metro" in {s["id"] for s in jt["stations"]}
    # Listed: every point attributed to the town (a park spanning units in each); counted: once, in one unit.
    assert sum(s["counted_here"] for s in jt["stations"]) == table.loc[JIUTING, "stations"]
    assert sum(p["counted_here"] for p in jt["parks"]) == table.loc[JIUTING, "parks"]
    l9 = next(line for line in jt["lines"] if line["id"] == "L9")
    assert l9["status"] == "open" and l9["km"] > 1.0
    assert sum(line["km"] for line in jt["lines"]) == pytest.approx(table.loc[JIUTING, "rail_km_total"])
    assert [line["km"] for line in jt["lines"]] == sorted((line["km"] for line in jt["lines"]), reverse=True)


@pytest.mark.parametrize("code", ["999999999", "", "<script>", None, "310117107; DROP", 3.5])
def test_unknown_town_code_raises_a_clear_project_error(layers, code):
    with pytest.raises(UnknownTownError, match="Unknown town code"):
        town_contents(layers, code)


def test_town_code_given_as_int_is_accepted(layers):
    assert town_contents(layers, int(JIUTING))["code"] == JIUTING


# ---------------------------------------------------------------------------------------------------------------
# A tiny synthetic district: a point on the shared edge and a line crossing it.
@pytest.fixture
def two_cells_with_point_on_shared_edge():
    towns = gpd.GeoDataFrame({"code": ["A", "B"], "name_zh": ["甲", "乙"], "name_en": ["A", "B"],
                              "employment_2023": [100, None]},
                             geometry=[box(121.20, 31.00, 121.21, 31.01), box(121.21, 31.00, 121.22, 31.01)],
                             crs="EPSG:4326")
    stations = gpd.GeoDataFrame({"id": ["s1", "s2"], "name_zh": ["一", "二"], "name_en": ["1", "2"],
                                 "lines": ["x", "x"], "status": ["open", "open"]},
                                geometry=[Point(121.21, 31.005), Point(121.215, 31.005)], crs="EPSG:4326")
    lines = gpd.GeoDataFrame({"id": ["x", "y"], "name_zh": ["x", "y"], "name_en": ["x", "y"], "mode": ["metro"] * 2,
                              "status": ["open", "planned"]},
                             geometry=[LineString([(121.205, 31.005), (121.215, 31.005)]),
                                       LineString([(121.215, 31.002), (121.215, 31.008)])], crs="EPSG:4326")
    return {"towns": towns, "stations": stations, "rail_lines": lines}


def test_point_on_shared_edge_is_counted_once(two_cells_with_point_on_shared_edge):
    t = town_statistics(two_cells_with_point_on_shared_edge)
    # After projection the edge point may fall a hair inside either cell; it must never count for both.
    assert t["stations"].sum() == 2 and t.loc["B", "stations"] >= 1
    assert t["parks"].tolist() == [0, 0]  # no parks layer: zeros, not an error
    assert math.isnan(t.loc["B", "employment_2023"]) and math.isnan(t.loc["B", "employment_density"])


def test_line_is_split_between_cells(two_cells_with_point_on_shared_edge):
    t = town_statistics(two_cells_with_point_on_shared_edge)
    line_m = to_measure(two_cells_with_point_on_shared_edge["rail_lines"].geometry.iloc[0])
    assert t["rail_km_open"].sum() == pytest.approx(line_m.length / 1000)
    assert t.loc["A", "rail_km_open"] == pytest.approx(t.loc["B", "rail_km_open"], rel=0.01)
    assert t.loc["B", "rail_km_total"] > t.loc["B", "rail_km_open"] > 0
    assert t.loc["A", "rail_km_total"] == pytest.approx(t.loc["A", "rail_km_open"])


def test_no_towns_layer_is_a_project_error():
    with pytest.raises(SongjiangMapError):
        town_statistics({})


# ---------------------------------------------------------------------------------------------------------------
# Classification
def test_equal_interval_bins_on_a_known_array():
    bins, classes = classify(list(range(1, 11)), scheme="equal_interval", k=5)
    assert bins == pytest.approx((2.8, 4.6, 6.4, 8.2, 10.0))
    assert classes.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_quantiles_put_equal_counts_in_each_class():
    bins, classes = classify(np.arange(100.0), scheme="quantiles", k=4)
    assert len(bins) == 4
    assert np.bincount(classes).tolist() == [25, 25, 25, 25]


def test_natural_breaks_find_obvious_clusters():
    values = [1, 2, 3, 50, 51, 52, 100, 101]
    bins, classes = classify(values, scheme="natural_breaks", k=3)
    assert bins == (3.0, 52.0, 101.0)
    assert classes.tolist() == [0, 0, 0, 1, 1, 1, 2, 2]


def test_natural_breaks_are_deterministic(table):
    runs = {classify(table["employment_density"], scheme="natural_breaks", k=5)[0] for _ in range(3)}
    assert len(runs) == 1


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_nan_values_get_class_minus_one_and_do_not_shift_bins(scheme):
    clean = [1.0, 2.0, 3.0, 10.0, 20.0, 30.0]
    with_gaps = [1.0, None, 2.0, float("nan"), 3.0, 10.0, float("inf"), 20.0, 30.0]
    bins_clean, classes_clean = classify(clean, scheme=scheme, k=3)
    bins, classes = classify(with_gaps, scheme=scheme, k=3)
    assert bins == bins_clean
    assert classes.tolist() == [classes_clean[0], -1, classes_clean[1], -1, classes_clean[2], classes_clean[3], -1,
                                classes_clean[4], classes_clean[5]]


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_fewer_distinct_values_than_classes(scheme):
    bins, classes = classify([5, 5, 5, 7, 7], scheme=scheme, k=5)
    assert len(bins) <= 2 and bins[-1] == 7
    assert classes.tolist() == [0, 0, 0, len(bins) - 1, len(bins) - 1]
    assert classify([4, 4, 4], scheme=scheme, k=5) == ((4.0,), pytest.approx([0, 0, 0]))


def test_all_missing_population_classifies_as_missing(table):
    bins, classes = classify(table["population_2020"], scheme="quantiles", k=5)
    assert bins == () and (classes == -1).all() and len(classes) == 17


def test_every_value_falls_in_a_class_bounded_by_the_bins(table):
    values = table["employment_2023"].to_numpy(dtype=float)
    bins, classes = classify(values, scheme="quantiles", k=5)
    for v, c in zip(values, classes, strict=False):
        assert v <= bins[c] and (c == 0 or v > bins[c - 1])


@pytest.mark.parametrize("scheme, k", [("jenks; rm -rf /", 5), ("quantiles", 0), ("quantiles", 99),
                                       ("quantiles", 2.5), ("quantiles", True)])
def test_bad_scheme_or_k_is_a_project_error(scheme, k):
    with pytest.raises(ClassificationError):
        classify([1, 2, 3], scheme=scheme, k=k)
