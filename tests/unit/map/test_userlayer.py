"""Your own layer on the map: read safely, drawn escaped, summarised per town in EPSG:4549."""
import json

import pytest

from layers.core import settings
from layers.core.errors import UserLayerError
from layers.map.elements import safe_text
from layers.map.render import build_map
from layers.map.userlayer import read_user_layer, user_layer_summary


def _bytes(layer) -> bytes:
    return layer.path.read_bytes()


def test_a_line_layer_is_summarised_by_km_per_town_and_adds_up(catalog, layers):
    gdf = read_user_layer(_bytes(catalog.layer("rail_lines")), filename="lines.geojson")
    table = user_layer_summary(gdf, layers["towns"])
    assert len(table) == len(layers["towns"]) + 1  # every town plus "outside"
    total = gdf.geometry.to_crs(settings.MEASURE_CRS).length.sum() / 1000
    assert table["length_km"].sum() == pytest.approx(total, rel=1e-3)
    assert table["length_km_share"].sum() == pytest.approx(100, abs=0.5)
    # Line 9 crosses 九亭; the far south-west towns have no rail.
    by_name = table.set_index("name")["length_km"]
    assert by_name["九亭镇"] > 1 and by_name["泖港镇"] == 0


def test_points_are_counted_per_town(catalog, layers):
    gdf = read_user_layer(_bytes(catalog.layer("stations")), filename="stops.geojson")
    table = user_layer_summary(gdf, layers["towns"], lang="en")
    assert table["count"].sum() >= len(gdf)  # a point on a shared edge counts in both towns
    assert table["count"].sum() <= len(gdf) + 3
    assert table.iloc[-1]["name"] == "outside the towns"


def test_polygon_areas_per_town_match_the_layer(catalog, layers):
    gdf = read_user_layer(_bytes(catalog.layer("district")), filename="district.geojson")
    table = user_layer_summary(gdf, layers["towns"])
    assert table["area_km2"].sum() == pytest.approx(606.4, abs=0.5)
    for code, area in zip(layers["towns"]["id"], table["area_km2"]):
        assert area == pytest.approx(float(layers["towns"].set_index("id").loc[code, "area_km2"]), rel=1e-3)


def _collection(features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _point(x, y, **props):
    return {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [x, y]}}


def test_nan_and_empty_geometries_are_left_out_and_counted():
    data = _collection([_point(121.2, 31.0, name="ok"), {"type": "Feature", "properties": {}, "geometry": None},
                        _point(float("nan"), 31.0)]).replace(b"NaN", b"NaN")
    gdf = read_user_layer(data, filename="p.geojson")
    assert len(gdf) == 1 and gdf.attrs["dropped"] == 2


def test_a_bow_tie_polygon_is_repaired_not_refused():
    bow = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
        [[121.1, 31.0], [121.2, 31.1], [121.2, 31.0], [121.1, 31.1], [121.1, 31.0]]]}}
    gdf = read_user_layer(_collection([bow]), filename="bow.geojson")
    assert gdf.attrs["repaired"] == 1 and gdf.geometry.iloc[0].is_valid


@pytest.mark.parametrize("limit,count", [("USER_LAYER_MAX_FEATURES", 30), ("USER_LAYER_MAX_VERTICES", 30)])
def test_too_many_features_or_vertices_are_refused_with_the_limit(monkeypatch, limit, count):
    monkeypatch.setattr(settings, limit, 10)
    data = _collection([_point(121.2 + i * 1e-3, 31.0) for i in range(count)])
    with pytest.raises(UserLayerError, match="at most 10"):
        read_user_layer(data, filename="many.geojson")


@pytest.mark.parametrize("payload,why", [(b"", "empty"), (b'{"type": "FeatureCollection", "features": [',
                                                          "truncated|read|JSON|parse")])
def test_broken_files_give_a_clear_message(payload, why):
    with pytest.raises(UserLayerError, match=why):
        read_user_layer(payload, filename="x.geojson")


def test_oversized_upload_is_refused_before_reading():
    with pytest.raises(UserLayerError, match="limit"):
        read_user_layer(b"{" + b" " * 2048, filename="big.geojson", max_bytes=1024)


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", "{{ 7*7 }}", "</script><script>alert(1)"])
def test_hostile_attributes_and_column_names_are_drawn_as_text(layers, name):
    data = _collection([_point(121.2, 31.0, **{name: name, "plain": name})])
    gdf = read_user_layer(data, filename="h.geojson")
    html = build_map({"towns": layers["towns"]}, user_layers={name: gdf}).get_root().render()
    assert safe_text(name) in html
    assert "<img src=x" not in html and "</script><script>alert(1)" not in html
    assert "&#123;&#123; 7*7 &#125;&#125;" in html or "{{" not in name
