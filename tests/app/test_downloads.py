"""Downloads in the app: what the Map page offers is exactly what it shows; the Data page offers whole layers."""
import io
import zipfile

import pyogrio
from streamlit.testing.v1 import AppTest

from layers.core import paths
from layers.export.download import export_download
from layers.map.filters import LayerFilter, filter_layers

ROOT = paths.PROJECT_DIR


def _download_buttons(at: AppTest) -> list:
    """The layer-download buttons (made on request); the always-present table downloads are not counted."""
    return [e for e in at.get("download_button") if not str(getattr(e, "key", "") or "").endswith("listed-download")]


def test_map_page_download_is_what_the_map_shows(tmp_path, layers):
    at = AppTest.from_file(str(ROOT / "pages/1_地图_Map.py"), default_timeout=60)
    at.query_params["layers"] = "rail_lines,stations"
    at.query_params["rail_line"] = "L9"
    at.run()
    assert not at.exception, at.exception
    assert not _download_buttons(at)  # nothing is made until asked
    at.selectbox(key="map-download_fmt").set_value("gpkg").run()
    at.selectbox(key="map-download_crs").set_value(4549).run()
    at.button(key="map-download_go").click().run()
    assert not at.exception, at.exception
    buttons = _download_buttons(at)
    assert len(buttons) == 1
    # The same selection through the export path: only L9 and the stops it serves, in EPSG:4549.
    name, data, mime = export_download(("rail_lines", "stations"), fmt="gpkg", crs=4549,
                                       flt=LayerFilter(rail_line=("L9",)))
    # A GeoPackage comes with the QGIS project that opens it styled: both in one zip.
    assert name.endswith("_epsg4549_2026-11-21.zip") and mime == "application/zip"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        (member,) = [n for n in zf.namelist() if n.endswith(".gpkg")]
        assert member.endswith("_filtered_epsg4549_2026-11-21.gpkg")
        assert member.replace(".gpkg", ".qgs") in zf.namelist()
        path = tmp_path / member
        path.write_bytes(zf.read(member))
    expected = filter_layers({k: layers[k] for k in ("rail_lines", "stations")}, LayerFilter(rail_line=("L9",)))
    for layer_id in ("rail_lines", "stations"):
        frame = pyogrio.read_dataframe(path, layer=layer_id)
        assert len(frame) == len(expected[layer_id]) and frame.crs.to_epsg() == 4549
        assert {"source", "licence", "accuracy"} <= set(frame.columns)
    assert len(expected["stations"]) < len(layers["stations"])


def test_geojson_download_offers_only_wgs84_and_says_why():
    at = AppTest.from_file(str(ROOT / "pages/1_地图_Map.py"), default_timeout=60).run()
    at.selectbox(key="map-download_fmt").set_value("geojson").run()
    assert at.selectbox(key="map-download_crs").options == ["EPSG:4326 · WGS 84（经纬度）"]
    assert any("GCJ-02" in c.value for c in at.caption)


def test_several_files_come_as_one_zip_named_for_selection_crs_and_date():
    name, data, mime = export_download(("towns", "parks"), fmt="shp", crs=4490)
    assert mime == "application/zip" and name.endswith("_epsg4490_2026-11-21.zip")
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    # One flat zip, a folder per layer: never a zip inside the zip.
    assert {n.split("/")[0] for n in names} == {"songjiang_towns_epsg4490_2026-11-21",
                                                  "songjiang_parks_epsg4490_2026-11-21"}
    assert not [n for n in names if n.endswith(".zip")] and sum(n.endswith(".shp") for n in names) == 2


def test_data_page_download_of_chosen_layers():
    at = AppTest.from_file(str(ROOT / "pages/4_数据_Data.py"), default_timeout=60).run()
    at.multiselect(key="data-download_layers").set_value(["district"]).run()
    at.selectbox(key="data-download_fmt").set_value("kml").run()
    at.button(key="data-download_go").click().run()
    assert not at.exception, at.exception
    assert len(_download_buttons(at)) == 1
