"""The map below the browser: folium objects and fragments of rendered HTML (random ids stripped)."""
import re

import folium
import folium.plugins
import pytest

from layers.core.crs import wgs84_to_gcj02
from layers.map.basemaps import BASEMAPS
from layers.map.elements import VectorLayer
from layers.map.render import build_map, display_frame

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


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_layer_control_groups_layers_by_catalogue_group(layers, catalog, lang):
    fmap = build_map(layers, lang=lang)
    controls = [c for c in fmap._children.values() if isinstance(c, folium.plugins.GroupedLayerControl)]
    assert len(controls) == 1
    grouped = controls[0].grouped_overlays
    expected = {}
    for spec in catalog.layers:
        expected.setdefault(catalog.groups[spec.group][lang], []).append(spec.title(lang))
    assert {g: list(v) for g, v in grouped.items()} == expected
    assert list(grouped)[:1] == [catalog.groups[catalog.layers[0].group][lang]]
    if lang == "zh":
        assert set(grouped) == {"规划结构", "片区", "行政区划", "交通", "产业"}
    # No basemap → no second (basemap) control; a basemap brings Leaflet's own control for its tiles.
    assert not any(isinstance(c, folium.LayerControl) for c in fmap._children.values())
    online = build_map(layers, lang=lang, basemap="osm")
    assert sum(isinstance(c, folium.LayerControl) for c in online._children.values()) == 1


def test_hidden_layers_start_unticked_in_the_grouped_control(layers):
    fmap = build_map(layers, visible=("towns",))
    control = next(c for c in fmap._children.values() if isinstance(c, folium.plugins.GroupedLayerControl))
    shown = [g.get_name() for g in _groups(fmap) if g.layer_name in ("街镇（示意）",) or g.show]
    assert control.layers_untoggle == {g.get_name() for g in _groups(fmap)} - set(shown)


def test_explorer_map_has_measure_full_screen_and_scale(zh_map):
    kinds = {type(c).__name__ for c in zh_map._children.values()}
    assert {"Fullscreen", "MeasureControl"} <= kinds
    assert zh_map.control_scale is True
    html = _html(zh_map)
    assert "new L.Control.Measure(" in html and "\"localization\": \"cn\"" in html
    assert "L.control.fullscreen(" in html and "L.control.scale(" in html


def test_no_basemap_means_no_tile_layer_and_no_tile_host(zh_map):
    assert not any(isinstance(c, folium.TileLayer) for c in zh_map._children.values())
    html = _html(zh_map)
    for host in ("tile.openstreetmap.org", "basemaps.cartocdn.com", "autonavi.com"):
        assert host not in html


def test_schematic_geometry_is_dashed_and_osm_lines_are_not(layers, catalog):
    from layers.map.style import DASH_SCHEMATIC, leaflet_style

    spec = catalog.layer("rail_lines")
    for _, row in layers["rail_lines"].iterrows():
        style = leaflet_style(spec, row.to_dict())
        if row["accuracy"] == "schematic":
            assert style["dashArray"] == DASH_SCHEMATIC
        else:
            assert "dashArray" not in style
    towns = catalog.layer("towns")
    assert leaflet_style(towns, layers["towns"].iloc[0].to_dict())["dashArray"] == DASH_SCHEMATIC


def test_approximate_points_get_uncertainty_rings(zh_map, layers):
    html = _html(zh_map)
    assert '"dashArray": "4 4"' in html or "4 4" in html
    # One dashed ring per approximate point with a radius, in every point layer, each carrying its radius.
    approximate = sum(int(((gdf["accuracy"] == "approximate") & gdf["accuracy_m"].notna()).sum())
                      for gdf in layers.values() if "accuracy_m" in gdf.columns)
    assert approximate >= 2
    assert len(re.findall(r'"id":null,"properties":\{"accuracy_m":[0-9.]+,', html)) == approximate


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
    assert (s.x, s.y) == pytest.approx((float(glon), float(glat)), abs=5e-7)  # drawn to 6 decimals (~0.1 m)
    assert not BASEMAPS["osm"].gcj02 and not BASEMAPS["none"].gcj02


def _tile_pixel(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """Global pixel of a lon/lat on a 256-px Web Mercator tile pyramid (how Amap and OSM tiles are addressed)."""
    import math

    scale = 256 * 2 ** zoom
    x = (lon + 180.0) / 360.0 * scale
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * scale
    return int(x), int(y)


def _drawn_station_coords(fmap) -> dict[str, tuple[float, float]]:
    """Station id → the coordinate written into the map's GeoJSON (what Leaflet places on the tiles)."""
    for group in _groups(fmap):
        for child in group._children.values():
            if isinstance(child, VectorLayer) and child.layer_name == "stations":
                return {f["properties"]["id"]: tuple(f["geometry"]["coordinates"]) for f in child.data["features"]
                        if f["geometry"]["type"] == "Point"}
    raise AssertionError("no stations GeoJson in the map")


@pytest.mark.parametrize("station_id", ["__first__", "__songjiang_south__"])
def test_on_amap_a_station_lands_on_the_tile_pixel_of_its_gcj02_coordinate(layers, station_id):
    stations = layers["stations"]
    points = stations[stations.geometry.geom_type == "Point"]
    # __songjiang_south__: 上海松江站, the national rail station south of the new town.
    row = points.iloc[0] if station_id == "__first__" else points[points["name_zh"].str.contains("松江站")].iloc[0]
    lon, lat = row.geometry.x, row.geometry.y
    glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
    amap = build_map({"stations": stations}, basemap="amap")
    assert any(isinstance(c, folium.TileLayer) and "autonavi.com" in c.tiles for c in amap._children.values())
    drawn = _drawn_station_coords(amap)[str(row["id"])]
    for zoom in (12, 16, 18):
        assert _tile_pixel(*drawn, zoom) == _tile_pixel(glon, glat, zoom), zoom
    # On a WGS84 basemap the same station is drawn where WGS84 says — ~500 m (over 50 px at z18) away.
    osm = _drawn_station_coords(build_map({"stations": stations}, basemap="osm"))[str(row["id"])]
    assert osm == pytest.approx((lon, lat), abs=1e-6)
    ox, oy = _tile_pixel(*osm, 18)
    gx, gy = _tile_pixel(glon, glat, 18)
    assert ((ox - gx) ** 2 + (oy - gy) ** 2) ** 0.5 > 50


def test_tianditu_is_offered_only_with_a_well_formed_key(layers):
    from layers.map.basemaps import basemaps

    assert "tianditu" not in basemaps({})
    assert "tianditu" not in basemaps({"TIANDITU_KEY": "<script>alert(1)</script>"})
    assert "tianditu" not in basemaps({"TIANDITU_KEY": "abc"})
    key = "0123456789abcdef0123456789abcdef"
    offered = basemaps({"TIANDITU_KEY": key})
    tdt = offered["tianditu"]
    assert not tdt.gcj02 and tdt.needs_network and f"tk={key}" in tdt.tiles and "LAYER=cva" in tdt.labels


def test_tianditu_map_has_vector_and_label_tiles_and_unshifted_vectors(layers, monkeypatch):
    monkeypatch.setenv("TIANDITU_KEY", "0123456789abcdef0123456789abcdef")
    stations = layers["stations"]
    fmap = build_map({"stations": stations}, basemap="tianditu")
    tiles = [c.tiles for c in fmap._children.values() if isinstance(c, folium.TileLayer)]
    assert len(tiles) == 2 and all("tianditu.gov.cn" in u for u in tiles)
    row = stations[stations.geometry.geom_type == "Point"].iloc[0]
    assert _drawn_station_coords(fmap)[str(row["id"])] == pytest.approx((row.geometry.x, row.geometry.y), abs=1e-6)


#: (attribute value, what the server would write if it evaluated it as a Jinja template)
TEMPLATE_INJECTIONS = [("{{ 'sj' ~ 'inj' ~ 12345*2 }}", "sjinj24690"),
                       ("{% for x in range(3) %}sjX{% endfor %}", "sjXsjXsjX"),
                       ("{{ cycler.__init__.__globals__.os.name }}", "posix"),
                       ("{# sj-comment #}", None)]


@pytest.mark.parametrize("name,evaluated", TEMPLATE_INJECTIONS)
def test_template_syntax_in_attributes_is_never_evaluated(layers, name, evaluated):
    """branca re-reads rendered scripts as Jinja templates: data must reach the page as inert text."""
    from layers.map.choropleth import choropleth_map
    from layers.map.elements import safe_text

    towns = layers["towns"].copy()
    towns.loc[towns.index[0], ["name_zh", "name_en"]] = name
    lines = layers["rail_lines"].copy()
    lines.loc[lines.index[0], "name_zh"] = name  # legend labels come from line names
    pages = [build_map({"towns": towns, "rail_lines": lines}).get_root().render(),
             choropleth_map(towns, towns.set_index("code")["employment_2023"])[0].get_root().render()]
    for html in pages:
        assert safe_text(name) in html  # shown literally ({ and } as entities)
        if evaluated:
            assert evaluated not in html


def test_script_breaking_attribute_cannot_close_the_script_block(layers):
    towns = layers["towns"].copy()
    towns.loc[towns.index[0], "name_zh"] = "</script><script>alert(1)</script>"
    html = build_map({"towns": towns}).get_root().render()
    assert "</script><script>alert(1)" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in html


def test_compact_maps_fold_the_legend_and_the_layer_control(layers):
    full = build_map(layers).get_root().render()
    small = build_map(layers, compact=True).get_root().render()
    assert '<div class="sj-legend"><details open>' in full and '<div class="sj-legend"><details>' in small
    assert '"collapsed": false' in full and '"collapsed": true' in small
