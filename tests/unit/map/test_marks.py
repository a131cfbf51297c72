"""Issue 13: figures that depend on schematic town geometry carry "≈" on every surface, and stop doing so per unit
once real boundaries are imported (the reference OSM towns; skipped without ../shared/data/reference/)."""
from __future__ import annotations

import io

import geopandas as gpd
import pytest

from layers.build.sources import read_inputs
from layers.core.catalog import get_catalog
from layers.core.upload import read_town_file
from layers.imports.apply import apply_import
from layers.imports.plan import plan_import
from layers.map.render import display_features
from layers.map.stats import town_contents, town_statistic_marks, town_statistics
from layers.map.style import layer_title
from layers.map.tables import (
    contents_heading,
    contents_table,
    town_comparison,
    town_statistic_table,
    towns_banner_text,
)

SIJING, SHESHAN, ZHONGSHAN = "310117102", "310117103", "310117004"


def _popup(layers, layer_id: str, feature_id: str, field: str, lang: str = "zh") -> str:
    spec = get_catalog().layer(layer_id)
    feats = display_features(spec, layers[layer_id], lang=lang)
    return next(f["properties"][field] for f in feats if f["id"] == feature_id)


def test_schematic_build_marks_every_geometry_figure(layers):
    marks = town_statistic_marks(layers)
    assert marks["area_km2"].all() and marks["rail_km_total"].all()
    assert not marks["employment_2023"].any()  # official facts are never approximate
    # 中山 counts stops computed on its schematic cell; 泗泾's two stations are both stated.
    assert marks.loc[ZHONGSHAN, "stations"] and not marks.loc[SIJING, "stations"]


def test_popups_tables_headings_and_banner_say_approximate(layers, catalog):
    assert _popup(layers, "towns", SIJING, "area_km2").startswith("≈")
    assert _popup(layers, "stations", "stn-sijing-metro", "town_zh") == "泗泾镇"  # stated: no mark
    computed = layers["stations"][layers["stations"]["town_basis"] == "computed_schematic"]["id"].iloc[0]
    assert _popup(layers, "stations", computed, "town_zh").startswith("≈")
    # An English popup names the unit in English, the mark kept.
    assert _popup(layers, "stations", "stn-sijing-metro", "town_zh", "en") == "Sijing Town"
    town_zh = layers["stations"].set_index("id").loc[computed, "town_zh"]
    english = layers["towns"].set_index("name_zh").loc[town_zh, "name_en"]
    assert _popup(layers, "stations", computed, "town_zh", "en") == f"≈ {english}"
    assert "≈" in _popup(layers, "stations", computed, "town_basis")
    table, marks = town_statistics(layers), town_statistic_marks(layers)
    shown = town_statistic_table(table, "stations", "n", catalog, "zh", marks)
    assert shown.loc[ZHONGSHAN, "≈"] == "≈" and shown.loc[SIJING, "≈"] == ""
    side = town_comparison(table, marks, [SIJING, ZHONGSHAN], "zh")
    assert side.loc["示意面积（平方公里）", SIJING].startswith("≈")
    contents = town_contents(layers, ZHONGSHAN)
    assert "示意" in contents_heading(contents, "zh")
    assert (contents_table(contents, "stations", catalog, "zh")["≈"] == "≈").any()
    assert "示意" in towns_banner_text(layers["towns"], "zh")
    assert "示意" in layer_title(get_catalog().layer("towns"), layers["towns"], "zh")


def test_employment_table_adds_the_development_zone_unit_and_the_total(layers, catalog):
    table = town_statistics(layers)
    shown = town_statistic_table(table, "employment_2023", "n", catalog, "en", town_statistic_marks(layers))
    assert shown.loc["310117501", "n"] == 148013
    assert "no territory of its own" in shown.loc["310117501"].iloc[0]
    assert shown.loc["310117", "n"] == 847812  # 17 units + the statistical unit (research notes §3a)


@pytest.fixture(scope="module")
def imported(reference_dir, tmp_path_factory) -> dict[str, gpd.GeoDataFrame]:
    """The layers rebuilt after importing the 10 reference OSM towns into a private geodata copy."""
    import shutil

    from layers.core import paths, settings
    from layers.core.store import open_store

    geo = tmp_path_factory.mktemp("imp") / "geodata"
    shutil.copytree(paths.GEODATA_DIR, geo, ignore=shutil.ignore_patterns("imports"))
    report = plan_import(read_town_file(reference_dir / "osm_towns_10_wgs84.geojson"), accuracy="osm",
                         geodata_dir=geo, inputs=read_inputs())
    store = open_store({settings.DATA_DIR_ENV: str(geo.parent / "var")})
    apply_import(report, geodata_dir=geo, store=store)
    return {k: gpd.read_file(io.StringIO(store.layer_text(f"{k}.geojson")))
            for k in ("towns", "zones", "stations", "parks", "rail_lines")}


@pytest.mark.slow  # an OSM import applied: a re-fit and a whole rebuild
def test_after_an_osm_import_the_marks_follow_each_unit(imported, catalog):
    towns = imported["towns"].set_index("code")
    real = set(towns.index[towns["accuracy"] == "osm"])
    assert len(real) == 10
    marks = town_statistic_marks(imported)
    assert not marks.loc[sorted(real), "area_km2"].any() and marks.drop(index=sorted(real))["area_km2"].all()
    assert not _popup(imported, "towns", SIJING, "area_km2").startswith("≈")
    # Points in imported units are computed on OSM boundaries (or stated), never approximate.
    st = imported["stations"]
    in_real = st[st["town_code"].isin(real) & (st["town_basis"] != "boundary")]
    assert len(in_real) and not in_real["town_approx"].any()
    assert set(in_real["town_basis"]) <= {"stated", "inferred", "computed_osm"}
    assert "示意" not in contents_heading(town_contents(imported, SHESHAN), "zh")
    assert "示意" in contents_heading(town_contents(imported, ZHONGSHAN), "zh")
    title = layer_title(get_catalog().layer("towns"), imported["towns"], "zh")
    assert title == "街镇（部分示意）"
    assert "7 个街镇" in towns_banner_text(imported["towns"], "zh")
    zones = imported["zones"].set_index("id")
    assert "示意" not in zones.loc["urban_rural_green", "accuracy_note"]
    assert zones.loc["new_town", "accuracy_note"].startswith("示意")
