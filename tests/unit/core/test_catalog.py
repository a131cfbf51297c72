"""The catalogue: one parametrised test per entry, and malformed catalogues are refused naming the layer."""
import tomllib

import pytest
import shapely

from layers.core import paths, settings
from layers.core.catalog import catalog_from_dict, get_catalog
from layers.core.crs import to_measure
from layers.core.errors import CatalogError

CATALOG = get_catalog()
TOLERANCE_M = 200.0


@pytest.mark.parametrize("layer_id", CATALOG.layer_ids)
def test_layer_entry(layer_id, layers, raw_layers, outline_m):
    spec = CATALOG.layer(layer_id)
    gdf = layers[layer_id]
    assert len(gdf) > 0, layer_id
    # Every feature carries its provenance and an accuracy from the vocabulary.
    for col in ("source", "licence", "accuracy", "name_zh", "name_en"):
        assert gdf[col].notna().all() and (gdf[col].astype(str).str.len() > 0).all(), (layer_id, col)
    assert set(gdf["accuracy"]) <= set(settings.ACCURACY_LEVELS), layer_id
    if spec.geometry == "point":
        assert (gdf["accuracy_m"].astype(float) > 0).all(), layer_id
    # Stable, unique ids, mirrored as the GeoJSON feature id.
    assert gdf["id"].is_unique, layer_id
    assert [f["id"] for f in raw_layers[layer_id]["features"]] == list(gdf["id"]), layer_id
    # Tooltip and popup fields exist.
    for field in (*spec.tooltip, *spec.popup):
        assert field in gdf.columns, (layer_id, field)
    # Valid geometry, all inside the district (200 m tolerance).
    geoms = gdf.geometry
    assert geoms.is_valid.all(), layer_id
    assert not geoms.is_empty.any(), layer_id
    zone = outline_m.buffer(TOLERANCE_M)
    for fid, geom in zip(gdf["id"], geoms):
        assert zone.covers(to_measure(geom)), f"{layer_id}/{fid} leaves the district outline"


@pytest.mark.parametrize("layer_id", CATALOG.layer_ids)
def test_rfc7946_file(layer_id, raw_layers):
    data = raw_layers[layer_id]
    assert data["type"] == "FeatureCollection" and "crs" not in data

    def walk(c):
        if isinstance(c[0], (int, float)):
            yield c
        else:
            for x in c:
                yield from walk(x)

    for feat in data["features"]:
        geom = feat["geometry"]
        for lon, lat in walk(geom["coordinates"]):
            assert 120.8 < lon < 121.6 and 30.7 < lat < 31.3  # lon/lat order, WGS84 range
            assert round(lon, 6) == lon and round(lat, 6) == lat
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else (
            geom["coordinates"] if geom["type"] == "MultiPolygon" else [])
        for rings in polys:
            assert shapely.LinearRing(rings[0]).is_ccw, f"{layer_id}/{feat['id']}: exterior ring not CCW"
            for hole in rings[1:]:
                assert not shapely.LinearRing(hole).is_ccw


def _raw_catalog():
    return tomllib.loads(paths.CATALOG_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["layer"][1].update(group="nowhere"), "'towns'"),
        (lambda d: d["layer"][2]["style"].update(color="red"), "'zones'"),
        (lambda d: d["layer"][3]["provenance"].update(accuracy="precise"), "'structure'"),
        (lambda d: d["layer"][4].update(tooltip=["no_such_field"]), "'rail_lines'"),
        (lambda d: d["layer"][5].update(file="../../etc/passwd.geojson"), "'stations'"),
        (lambda d: d["layer"][6]["provenance"].pop("licence"), "'parks'"),
        (lambda d: d["layer"].append(dict(d["layer"][0])), "Duplicate"),
    ],
)
def test_malformed_catalogue_names_the_layer(mutate, message):
    data = _raw_catalog()
    mutate(data)
    with pytest.raises(CatalogError, match=message):
        catalog_from_dict(data)


def test_unknown_layer_is_a_clear_error():
    with pytest.raises(CatalogError, match="known layers"):
        CATALOG.layer("nope")


def test_undrawn_lines_are_listed_with_status_and_reference():
    undrawn = {u["line_id"]: u for u in CATALOG.layer("rail_lines").undrawn}
    assert {"L23W", "L9-L17", "JQSJ", "EW-LINK"} <= set(undrawn)
    # Issue 13: a line the plan does not name (沪昆) cites its real source instead of a plan range.
    assert all(u["status"] and (u["plan_ref"].startswith("FYP") or u["plan_ref"].startswith("not named in the plan"))
               for u in undrawn.values())
    assert not undrawn["HSR-HK"]["plan_ref"].startswith("FYP")
    assert undrawn["HSR-SSH"]["plan_ref"] == "FYP 246, 1525"
