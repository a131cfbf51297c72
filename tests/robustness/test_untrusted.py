"""Untrusted files stay untrusted (issue 17): hostile files built here, each refused with a clear message, no file
outside the temporary folder read (a canary), no network request (a local listener that must stay silent)."""
from __future__ import annotations

import io
import json
import socket
import sqlite3
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Polygon

from layers.core import paths, settings
from layers.core.errors import SongjiangMapError, TownImportError, UserLayerError
from layers.core.upload import read_town_file
from layers.map.userlayer import read_user_layer

CANARY = "CANARY-7f3a9c-never-shown"


@pytest.fixture
def canary(tmp_path) -> Path:
    """A CSV a VRT would read: its text must never appear in any output."""
    path = tmp_path / "secret.csv"
    path.write_text(f"WKT,name\n\"POINT (121.2 31.0)\",{CANARY}\n", encoding="utf-8")
    return path


@pytest.fixture
def listener():
    """A local TCP listener: every connection it receives is recorded (there must be none)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    hits.append(conn.recv(4096) or b"(connected)")
                except OSError:
                    hits.append(b"(connected)")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join(2)
    server.close()


def vrt(canary: Path, port: int) -> bytes:
    return (f'<OGRVRTDataSource><OGRVRTLayer name="a"><SrcDataSource>{canary}</SrcDataSource></OGRVRTLayer>'
            f'<OGRVRTLayer name="b"><SrcDataSource>/vsicurl/http://127.0.0.1:{port}/x.csv</SrcDataSource>'
            f"</OGRVRTLayer></OGRVRTDataSource>").encode()


def shp_zip(shp: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for ext, data in {".shp": shp, ".shx": shp, ".dbf": b"\x03" + b"\0" * 64, ".prj": b'GEOGCS["WGS 84"]'}.items():
            zf.writestr(f"towns{ext}", data)
    return buf.getvalue()


def gpkg(tmp_path: Path, sql: str) -> bytes:
    """A real GeoPackage of one polygon, with ``sql`` run in it afterwards."""
    path = tmp_path / "base.gpkg"
    frame = gpd.GeoDataFrame({"code": ["310117103"], "name_zh": ["佘山镇"]},
                             geometry=[Polygon([(121.1, 31.0), (121.2, 31.0), (121.2, 31.1)])], crs=settings.WGS84)
    pyogrio.write_dataframe(frame, path, driver="GPKG", layer="towns")
    with sqlite3.connect(path) as db:
        db.executescript(sql)
    return path.read_bytes()


RECURSIVE_VIEW = """
CREATE VIEW slow AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000000)
  SELECT i AS fid, NULL AS geom, 'x' AS name FROM n;
INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('slow', 'features', 'slow', 4326);
INSERT INTO gpkg_geometry_columns VALUES ('slow', 'geom', 'GEOMETRY', 4326, 0, 0);
"""
TRIGGER = "CREATE TRIGGER evil AFTER INSERT ON towns BEGIN DELETE FROM towns; END;"


def _refused(read, data: bytes, name: str, *, canary_text: str = CANARY) -> str:
    with pytest.raises(SongjiangMapError) as info:
        read(data, filename=name)
    message = str(info.value)
    assert canary_text not in message and "/tmp/" not in message and "Traceback" not in message
    return message


@pytest.mark.parametrize("read", [read_town_file, read_user_layer], ids=["import", "own-layer"])
def test_a_kml_that_is_vrt_reads_no_file_and_fetches_no_url(read, canary, listener):
    port, hits = listener
    message = _refused(read, vrt(canary, port), "towns.kml")
    assert "not KML" in message
    # KML-looking on the outside, VRT inside: still refused
    wrapped = (b"<?xml version=\"1.0\"?><kml xmlns=\"http://www.opengis.net/kml/2.2\"><!-- -->"
               + vrt(canary, port) + b"</kml>")
    assert "GDAL data source" in _refused(read, wrapped, "towns.kml")
    assert hits == []


def test_a_zipped_shp_that_is_vrt_is_refused_before_gdal(canary, listener):
    port, hits = listener
    message = _refused(read_town_file, shp_zip(vrt(canary, port)), "towns.zip")
    assert "file code 9994" in message and hits == []


def test_a_geopackage_with_a_recursive_view_is_refused_unrun(tmp_path):
    message = _refused(read_town_file, gpkg(tmp_path, RECURSIVE_VIEW), "slow.gpkg")
    assert "views" in message and "slow" in message


def test_a_geopackage_with_a_trigger_is_refused(tmp_path):
    message = _refused(read_user_layer, gpkg(tmp_path, TRIGGER), "trig.gpkg")
    assert "triggers" in message and "evil" in message


def test_a_geopackage_with_a_generated_column_is_refused(tmp_path):
    sql = "CREATE TABLE g2 (fid INTEGER PRIMARY KEY, geom BLOB, big TEXT AS (printf('%.*c', 100000000, 'x')));" \
          "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('g2','features','g2',4326);"
    assert "computed" in _refused(read_town_file, gpkg(tmp_path, sql), "gen.gpkg")


def test_a_plain_geopackage_written_by_gdal_still_reads(tmp_path):
    gdf = read_town_file(gpkg(tmp_path, ""), filename="ok.gpkg")
    assert list(gdf["name_zh"]) == ["佘山镇"] and gdf.attrs["layer"] == "towns"


def test_an_sqlite_file_that_is_not_a_geopackage_is_refused(tmp_path):
    path = tmp_path / "plain.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (a)")
    assert "not a GeoPackage" in _refused(read_town_file, path.read_bytes(), "plain.gpkg")


def test_geojson_with_a_crs_link_sends_no_request(listener):
    port, hits = listener
    doc = {"type": "FeatureCollection", "crs": {"type": "link", "properties": {
        "href": f"http://127.0.0.1:{port}/crs.wkt", "type": "ogcwkt"}},
        "features": [{"type": "Feature", "properties": {"name": "a"},
                      "geometry": {"type": "Point", "coordinates": [121.2, 31.0]}}]}
    message = _refused(read_user_layer, json.dumps(doc).encode(), "link.geojson")
    assert "link or URL" in message
    doc["crs"] = {"type": "name", "properties": {"name": f"http://127.0.0.1:{port}/crs"}}
    _refused(read_user_layer, json.dumps(doc).encode(), "url.geojson")
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert len(read_user_layer(json.dumps(doc).encode(), filename="named.geojson")) == 1
    assert hits == []


def test_a_crs_link_inside_a_feature_is_dropped_unread(listener):
    port, hits = listener
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {}, "crs": {"type": "link", "properties": {"href": f"http://127.0.0.1:{port}/"}},
        "geometry": {"type": "Point", "coordinates": [121.2, 31.0],
                     "crs": {"type": "link", "properties": {"href": f"http://127.0.0.1:{port}/"}}}}]}
    assert len(read_user_layer(json.dumps(doc).encode(), filename="inner.geojson")) == 1
    assert hits == []


@pytest.mark.parametrize("crs, words", [("ESRI:104903", "cannot be converted to WGS 84"),
                                        ("{", "Unknown CRS"), ("EPSG:99999999", "Unknown CRS")])
def test_a_crs_typed_wrongly_is_explained(crs, words):
    data = json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                       "geometry": {"type": "Point", "coordinates": [121.2, 31.0]}}]}).encode()
    with pytest.raises(TownImportError, match=words):
        read_town_file(data, filename="p.geojson", crs=crs)


@pytest.fixture(scope="module")
def shp_parts(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("shp")
    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Polygon([(0, 0), (100, 0), (100, 100)])], crs=4549)
    pyogrio.write_dataframe(frame, folder / "t.shp", encoding="UTF-8")
    return {ext: (folder / f"t{ext}").read_bytes() for ext in (".shp", ".shx", ".dbf")}


def _zip(parts: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for ext, data in parts.items():
            zf.writestr(f"t{ext}", data)
    return buf.getvalue()


@pytest.mark.parametrize("prj, words", [
    (b'LOCAL_CS["CAD drawing",LOCAL_DATUM["x",0],UNIT["m",1]]', "local one"),
    (b"{", "does not describe"),
    (b'PROJCS["broken",GEOGCS[', "PROJ can read"),
])
def test_an_unusable_prj_is_explained(shp_parts, prj, words):
    message = _refused(read_user_layer, _zip({**shp_parts, ".prj": prj}), "t.zip")
    assert words in message


def test_damaged_and_unsupported_zip_members_are_explained(shp_parts):
    data = bytearray(_zip({**shp_parts, ".prj": b'GEOGCS["x"]'}, method=zipfile.ZIP_STORED))
    at = data.find(shp_parts[".shp"][100:140])
    data[at:at + 8] = b"XXXXXXXX"  # the CRC no longer matches
    assert "damaged" in _refused(read_town_file, bytes(data), "t.zip")
    zstd = bytearray(_zip({**shp_parts, ".prj": b'GEOGCS["x"]'}, method=zipfile.ZIP_STORED))
    for k in range(len(zstd) - 4):  # compression method 93 (zstd) in every local and central header
        if zstd[k:k + 4] in (b"PK\x03\x04",):
            zstd[k + 8:k + 10] = (93).to_bytes(2, "little")
        if zstd[k:k + 4] == b"PK\x01\x02":
            zstd[k + 10:k + 12] = (93).to_bytes(2, "little")
    assert "cannot unpack" in _refused(read_town_file, bytes(zstd), "t.zip")
    locked = bytearray(_zip({**shp_parts, ".prj": b'GEOGCS["x"]'}))
    for k in range(len(locked) - 4):  # the "encrypted" flag bit in every header
        if locked[k:k + 4] == b"PK\x03\x04":
            locked[k + 6] |= 1
        if locked[k:k + 4] == b"PK\x01\x02":
            locked[k + 8] |= 1
    assert "encrypted" in _refused(read_town_file, bytes(locked), "t.zip")


def test_a_ring_of_two_points_is_explained():
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[121.2, 31.0], [121.3, 31.0]]]}}]}
    message = _refused(read_user_layer, json.dumps(doc).encode(), "two.geojson")
    assert "two.geojson" in message


def test_repeated_column_names_are_made_unique():
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "geometry": "g", "Name": "a", "name": "b"}, "geometry": {"type": "Point", "coordinates": [121.2, 31.0]}}]}
    gdf = read_user_layer(json.dumps(doc).encode(), filename="dup.geojson")
    names = [c.lower() for c in gdf.columns]
    assert len(names) == len(set(names)) and gdf.geometry.name == "geometry"
    assert "name_2" in names and gdf.geometry.iloc[0].geom_type == "Point"


def test_long_text_attributes_are_capped():
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"note": "字" * 100_000},
                                                      "geometry": {"type": "Point", "coordinates": [121.2, 31.0]}}]}
    gdf = read_user_layer(json.dumps(doc).encode(), filename="long.geojson")
    assert len(gdf["note"].iloc[0]) == settings.UPLOAD_MAX_TEXT_CHARS
    assert "cut" in gdf.attrs["note"]


@pytest.mark.parametrize("entry", ["layers.app.map_page", "layers.app.import_panel", "layers.export.formats",
                                   "layers.core.upload"])
@pytest.mark.slow  # a fresh Python process importing the app per case
def test_gdal_never_has_the_vrt_driver_in_the_app(entry):
    code = (f"import {entry}, pyogrio, os; d = pyogrio.list_drivers(); "
            "print(sorted({'OGR_VRT', 'GDALG', 'HTTP'} & set(d)), "
            "pyogrio.get_gdal_config_option('CPL_VSIL_CURL_ALLOWED_EXTENSIONS'), 'GDAL_SKIP' in os.environ)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.PROJECT_DIR,
                         timeout=120, check=True).stdout
    # No VRT, no network in this process; and programs it starts (ogrinfo, QGIS) are not given its GDAL_SKIP.
    assert out.strip() == "[] .songjiang-no-network False", out


def test_refusals_raise_the_layer_error_for_the_own_layer(tmp_path):
    with pytest.raises(UserLayerError):
        read_user_layer(gpkg(tmp_path, TRIGGER), filename="t.gpkg")


# ------------------------------------------------------------------------------------ the page around uploads

@pytest.mark.parametrize("host, env, allowed", [
    (None, {}, True), ("localhost:8501", {}, True), ("127.0.0.1:8501", {}, True), ("[::1]:8501", {}, True),
    ("evil.example:8501", {}, False), ("planning.example.org", {"SONGJIANG_ALLOWED_HOSTS": "planning.example.org"},
                                       True),
    ("evil.example", {"SONGJIANG_ALLOWED_HOSTS": "planning.example.org"}, False),
    ("anything", {"SONGJIANG_ALLOWED_HOSTS": "*"}, True),
])
def test_only_allowed_host_names_get_the_pages(host, env, allowed):
    from layers.app.chrome import host_allowed

    assert host_allowed(host, env) is allowed


@pytest.mark.parametrize("name", ["www.example.com", "https://evil.example/x", "mail@evil.example",
                                  "[a](javascript:x)"])
def test_names_never_become_links(name):
    """Every character an autolink or a link needs (. : / @ [ ] ( )) reaches markdown escaped."""
    import re

    from layers.app.chrome import plain

    assert re.search(r"(?<!\\)[.:/@\[\]()]", plain(name)) is None, plain(name)


def test_an_own_layer_far_from_the_district_is_measured(layers):
    from layers.map.userlayer import distance_to_district_km

    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                                                      "geometry": {"type": "Point", "coordinates": [0.5, 0.5]}}]}
    far = read_user_layer(json.dumps(doc).encode(), filename="null_island.geojson")
    assert distance_to_district_km(far, layers["district"]) > 1000
    doc["features"][0]["geometry"]["coordinates"] = [121.2, 31.0]
    near = read_user_layer(json.dumps(doc).encode(), filename="songjiang.geojson")
    assert distance_to_district_km(near, layers["district"]) == 0


def test_the_app_listens_on_this_machine_only_by_default():
    import tomllib

    config = tomllib.loads((paths.PROJECT_DIR / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert "ADDRESS ?= 127.0.0.1" in (paths.PROJECT_DIR / "Makefile").read_text(encoding="utf-8")
