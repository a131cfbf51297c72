"""Why an upload was refused, in the page's language (issue 15): real malformed files (truncated zip, bad JSON,
a shapefile without .shx or .dbf, broken KML, a GeoPackage that is not SQLite, a wrong CRS) are refused with a
sentence from the dictionaries; GDAL's, PROJ's and Python's own English words stay in the technical detail."""
import io
import json
import zipfile

import geopandas as gpd
import pytest
from _language import leaks  # tests/_language.py
from shapely.geometry import box

from layers.core.errors import TownImportError
from layers.core.i18n import error_text, t
from layers.core.upload import read_town_file

SONGJIANG = box(121.20, 31.00, 121.25, 31.05)


def _shapefile_zip(tmp_path, *, drop: tuple[str, ...] = (), prj: bytes | None = None) -> bytes:
    folder = tmp_path / "shp"
    folder.mkdir(exist_ok=True)
    gpd.GeoDataFrame({"XZQMC": ["车墩镇"]}, geometry=[SONGJIANG], crs=4326).to_file(folder / "towns.shp")
    if prj is not None:
        (folder / "towns.prj").write_bytes(prj)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for part in sorted(folder.iterdir()):
            if part.suffix not in drop:
                zf.write(part, part.name)
    return buf.getvalue()


def _geojson(coords: list[list[float]]) -> bytes:
    feature = {"type": "Feature", "properties": {"XZQMC": "车墩镇"},
               "geometry": {"type": "Polygon", "coordinates": [coords]}}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


KML_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
#: (file name, content or a maker of it, CRS typed by the user, the kind of failure expected)
MALFORMED = {
    "truncated zip": ("towns.zip", lambda p: _shapefile_zip(p)[:300], None, "upl_bad_zip"),
    "GeoJSON cut short": ("towns.geojson", lambda p: b'{"type": "FeatureCollection", "features": [{"type": ',
                          None, "upl_truncated"),
    "GeoJSON bad syntax": ("towns.geojson", lambda p: b'{"type": "FeatureCollection",, "features": []}', None,
                           "upl_bad_json"),
    "shapefile without .shx": ("towns.zip", lambda p: _shapefile_zip(p, drop=(".shx",)), None, "upl_no_shx"),
    "shapefile without .dbf": ("towns.zip", lambda p: _shapefile_zip(p, drop=(".dbf",)), None, "upl_no_dbf"),
    "shapefile with a broken .prj": ("towns.zip", lambda p: _shapefile_zip(p, prj=b'PROJCS["x",GARBAGE'), None,
                                     "upl_prj"),
    "KML with broken XML": ("towns.kml", lambda p: KML_HEAD + b"<Placemark><name>x</name><Polygon><outerBoundaryIs>"
                            b"<coordinates>121.2,31.0 121.3", None, "upl_unreadable"),
    "GeoPackage that is not SQLite": ("towns.gpkg", lambda p: b"PK\x03\x04 not a database at all" * 4, None,
                                      "upl_not_gpkg"),
    "metres in a GeoJSON (wrong CRS)": ("towns.geojson", lambda p: _geojson(
        [[40500000, 3430000], [40505000, 3430000], [40505000, 3435000], [40500000, 3430000]]), None,
        "upl_not_degrees"),
    "latitude first (wrong axis order)": ("towns.geojson", lambda p: _geojson(
        [[31.0, 121.2], [31.05, 121.2], [31.05, 121.25], [31.0, 121.2]]), None, "upl_latlon"),
    "a CRS typed wrongly": ("towns.geojson", lambda p: _geojson(
        [[121.2, 31.0], [121.25, 31.0], [121.25, 31.05], [121.2, 31.0]]), "EPSG:木星", "upl_crs_unknown"),
}


def _refused(tmp_path, case: str) -> TownImportError:
    name, make, crs, _ = MALFORMED[case]
    with pytest.raises(TownImportError) as info:
        read_town_file(make(tmp_path), filename=name, crs=crs)
    return info.value


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_refused_upload_reads_in_chinese_on_the_page(tmp_path, case):
    exc = _refused(tmp_path, case)
    shown = t("imp_failed", "zh", message=error_text(exc, "zh"))  # what the Data page shows, unfolded
    assert not leaks([("error", shown)], "zh"), (case, shown)
    assert MALFORMED[case][0] in shown or MALFORMED[case][2] in shown  # the file (or the typed CRS): data, as given


@pytest.mark.parametrize("case", list(MALFORMED))
def test_each_kind_of_failure_has_its_own_wording_and_keeps_the_detail(tmp_path, case):
    exc = _refused(tmp_path, case)
    assert getattr(exc, "key", None) == MALFORMED[case][3], (case, str(exc))
    english = error_text(exc, "en")
    typed = MALFORMED[case][2] or ""  # what the user typed is data, in any script
    assert not leaks([("error", english.replace(typed, "") if typed else english)], "en"), english


def test_gdal_s_own_words_go_to_the_detail_only(tmp_path):
    exc = _refused(tmp_path, "KML with broken XML")
    assert "GDAL" in str(exc) and "GDAL" not in error_text(exc, "zh")


def test_the_kind_of_failure_survives_the_worker_process():
    from layers.imports.plan import plan_upload

    with pytest.raises(TownImportError) as info:
        plan_upload(b'{"type": "FeatureCollection",, "features": []}', filename="towns.geojson")
    assert info.value.key == "upl_bad_json" and info.value.params["file"] == "towns.geojson"


def _data_page_refusal(name: str, data: bytes, crs: str | None, lang: str) -> None:
    """What the Data page draws for a refused file, run by AppTest."""
    from layers.app.chrome import refusal
    from layers.app.import_panel import show_refusal
    from layers.core.errors import TownImportError
    from layers.core.upload import read_town_file

    try:
        read_town_file(data, filename=name, crs=crs)
    except TownImportError as exc:
        show_refusal(*refusal(exc, name, lang), lang)


@pytest.mark.parametrize("case", ["KML with broken XML", "truncated zip", "shapefile without .shx"])
def test_the_data_page_folds_the_technical_detail_under_the_message(tmp_path, case):
    from streamlit.testing.v1 import AppTest

    name, make, crs, _ = MALFORMED[case]
    at = AppTest.from_function(_data_page_refusal, args=(name, make(tmp_path), crs, "zh"), default_timeout=60).run()
    assert not at.exception, at.exception
    (error,) = at.error
    assert not leaks([("error", error.value)], "zh"), error.value
    (folded,) = at.expander
    assert folded.label == "技术细节"
    assert folded.code and name in folded.code[0].value  # the raw message, in English


def test_an_error_of_no_known_kind_is_said_in_general_terms():
    from layers.app.chrome import refusal

    message, detail = refusal(TownImportError("pyogrio said something new"), "towns.kml", "zh")
    assert message == "无法读取 towns.kml。" and detail == "pyogrio said something new"
    new = TownImportError("pyogrio said something new")
    assert refusal(new, "towns.kml", "en") == ("pyogrio said something new", "")  # English as it is
