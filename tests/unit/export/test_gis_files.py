"""GIS files as a planner's tools meet them: Debian 12's GDAL 3.6 (ogrinfo, validate_gpkg.py) opens every format ×
CRS without a warning; the GeoPackage carries titles, provenance, aliases, typed columns and QGIS styles; the QGIS
project, the sidecar .qml/.sld, KML styles and CSV types hold; and QGIS 3.22 itself opens, styles and renders them."""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from layers.export.download import export_download, export_layers
from layers.export.formats import FORMATS, KML_NS
from layers.export.job import CRS_CHOICES
from layers.export.qml import qgis_colour
from layers.export.tables import listed_not_drawn_download, undrawn_lines_frame, user_layer_download

VALID = [(fmt, crs) for fmt in FORMATS for crs in CRS_CHOICES if crs in FORMATS[fmt].crs]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SYSTEM_PYTHON = "/usr/bin/python3"
INSTALL = "apt-get install -y gdal-bin python3-gdal python3-qgis qgis-providers (or make test, as root)"
PROBE = Path(__file__).with_name("qgis_probe.py")
SPLIT = {"structure": ("structure_line", "structure_polygon")}
FEATURE_TABLES = ("district", "towns", "zones", "structure_line", "structure_polygon", "rail_lines", "stations",
                  "parks")


def _missing(what: str) -> None:
    message = f"{what} is not installed: {INSTALL}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def ogrinfo() -> str:
    path = shutil.which("ogrinfo")
    if path is None:
        _missing("GDAL's ogrinfo (gdal-bin)")
    return path


@pytest.fixture(scope="session")
def validate_gpkg() -> Path:
    listing = subprocess.run(["dpkg", "-L", "python3-gdal"], capture_output=True, text=True).stdout
    found = [Path(p) for p in listing.split() if p.endswith("samples/validate_gpkg.py")]
    if not found or not Path(SYSTEM_PYTHON).exists():
        _missing("validate_gpkg.py (python3-gdal)")
    return found[0]


@pytest.fixture(scope="session")
def pyqgis() -> str:
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, text=True,
                           env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    if probe.returncode != 0:
        _missing("PyQGIS (python3-qgis)")
    return SYSTEM_PYTHON


def _gdal_paths(fmt: str, files: list[Path]) -> list[str]:
    """What a GIS user opens: the file, or each .shp inside a Shapefile zip (through GDAL's /vsizip/)."""
    if fmt == "shp":
        out = []
        for path in files:
            with zipfile.ZipFile(path) as zf:
                out += [f"/vsizip/{path}/{n}" for n in zf.namelist() if n.endswith(".shp")]
        return out
    keep = {"gpkg": ".gpkg", "geojson": ".geojson", "kml": ".kml", "csv": ".csv"}[fmt]
    return [str(f) for f in files if f.suffix == keep]


def _ogrinfo(ogrinfo: str, path: str) -> subprocess.CompletedProcess:
    return subprocess.run([ogrinfo, "-ro", "-al", "-so", path], capture_output=True, text=True, timeout=120)


def _gpkg(matrix, crs: int) -> Path:
    return next(f for f in matrix[("gpkg", crs)] if f.suffix == ".gpkg")


# ----------------------------------------------------------------------------- GDAL 3.6 opens everything

@pytest.mark.parametrize("fmt,crs", VALID)
@pytest.mark.slow  # system GDAL and QGIS processes
def test_system_gdal_opens_every_file_without_a_warning(matrix, ogrinfo, fmt, crs):
    paths = _gdal_paths(fmt, matrix[(fmt, crs)])
    assert len(paths) == (1 if fmt == "gpkg" else 7 if fmt in ("geojson", "kml") else 8)
    for path in paths:
        done = _ogrinfo(ogrinfo, path)
        assert done.returncode == 0, (path, done.stderr)
        noise = [ln for ln in (done.stdout + done.stderr).splitlines() if re.search(r"warning|error", ln, re.I)]
        assert not noise, (path, noise)
        if fmt != "kml" and fmt != "geojson":  # those two are WGS84 by definition
            assert re.search(rf'ID\["EPSG",{crs}\]', done.stdout), (path, "CRS not read")


@pytest.mark.parametrize("crs", CRS_CHOICES)
def test_gpkg_passes_gdal36_validate_gpkg(matrix, validate_gpkg, crs):
    path = _gpkg(matrix, crs)
    done = subprocess.run([SYSTEM_PYTHON, str(validate_gpkg), str(path)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "" and done.stderr.strip() == "", done.stdout + done.stderr
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200  # GeoPackage 1.2.0
        for table in FEATURE_TABLES:  # a spatial index on every table
            assert con.execute("SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND extension_name = "
                               "'gpkg_rtree_index'", (table,)).fetchone(), table


def test_a_damaged_gpkg_fails_validate_gpkg(matrix, validate_gpkg, tmp_path):
    """The validator does see what the issue reported: a missing rtree trigger."""
    path = tmp_path / "broken.gpkg"
    shutil.copy(_gpkg(matrix, 4326), path)
    with sqlite3.connect(path) as con:
        con.execute("DROP TRIGGER rtree_towns_geom_update1")
    done = subprocess.run([SYSTEM_PYTHON, str(validate_gpkg), str(path)], capture_output=True, text=True)
    assert done.returncode != 0 and "trigger" in (done.stdout + done.stderr).lower()


# ----------------------------------------------------------------------------- GeoPackage content

def test_gpkg_titles_provenance_types_and_aliases(matrix, catalog):
    path = _gpkg(matrix, 4549)
    with sqlite3.connect(path) as con:
        contents = {r[0]: r[1:] for r in con.execute("SELECT table_name, identifier, description FROM gpkg_contents")}
        columns = {t: [(r[1], r[2]) for r in con.execute(f"PRAGMA table_info('{t}')")] for t in FEATURE_TABLES}
        aliases = {(r[0], r[1]): (r[2], r[4]) for r in
                   con.execute("SELECT table_name, column_name, name, title, description FROM gpkg_data_columns")}
        schema = con.execute("SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_schema'").fetchall()
    assert sorted(schema) == [("gpkg_data_column_constraints",), ("gpkg_data_columns",)]
    for layer_id in catalog.layer_ids:
        spec = catalog.layer(layer_id)
        for table in SPLIT.get(layer_id, (layer_id,)):
            identifier, description = contents[table]
            assert identifier.startswith(spec.title_zh), (table, identifier)
            assert spec.provenance.attribution in description and spec.provenance.licence in description
    assert contents["structure_line"][0] != contents["structure_polygon"][0]
    types = dict(columns["towns"])
    assert types["population_2020"] == "REAL" and types["employment_2023"] == "INTEGER"
    assert types["area_km2"] == "REAL" and types["name_zh"] == "TEXT"
    for table, cols in columns.items():
        for col, _type in cols:
            if col in ("fid", "geom"):
                continue
            name, other = aliases[(table, col)]
            assert name.startswith(catalog.label(col, "zh")), (table, col, name)
            assert other == catalog.label(col, "en")
    assert aliases[("towns", "fyp_zone_ref")][0] == "规划依据"
    assert aliases[("towns", "residents_committees_2022")][0] == "居委会 (2022)"


def test_layer_styles_hold_a_qml_and_sld_per_table_in_the_catalogue_colours(matrix, catalog):
    path = _gpkg(matrix, 4490)
    rows = pyogrio.read_dataframe(path, layer="layer_styles", read_geometry=False)
    with sqlite3.connect(path) as con:
        geom_cols = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        cols = [r[1] for r in con.execute("PRAGMA table_info(layer_styles)")]
    assert cols == ["id", "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                    "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"]
    by_table = rows.set_index("f_table_name")
    assert sorted(by_table.index) == sorted(FEATURE_TABLES)
    for table in FEATURE_TABLES:
        row = by_table.loc[table]
        assert bool(row["useAsDefault"]) and row["f_geometry_column"] == geom_cols[table]
        qml = ET.fromstring(row["styleQML"].split("\n", 1)[1])
        sld = ET.fromstring(row["styleSLD"].encode("utf-8"))
        layer_id = table.split("_line")[0].split("_polygon")[0] if table.startswith("structure") else table
        spec = catalog.layer(layer_id)
        expected = [c for _v, c in spec.style.colors] or [spec.style.color]
        values = {o.get("value") for o in qml.iter("Option")}
        for colour in expected:
            assert any(v and v.startswith(qgis_colour(colour).rsplit(",", 1)[0] + ",") for v in values), (table, colour)
            assert colour in ET.tostring(sld, encoding="unicode"), (table, colour)
        assert qml.find("renderer-v2").get("type") == "RuleRenderer"
        assert qml.find("labeling/settings/text-style").get("fieldName") == "name_zh"
        aliased = {a.get("field") for a in qml.iter("alias")}
        assert {"name_zh", "source", "licence", "accuracy"} <= aliased
    # Schematic outlines are dashed, open lines solid.
    towns = ET.fromstring(by_table.loc["towns"]["styleQML"].split("\n", 1)[1])
    assert any(o.get("name") == "customdash" and o.get("value") == "8;6" for o in towns.iter("Option"))
    rail = by_table.loc["rail_lines"]["styleQML"]
    assert "&quot;status&quot; = 'planned'" in rail and "&quot;status&quot; = 'open'" in rail


def test_qgs_project_opens_every_table_by_relative_path_in_the_web_map_groups(matrix, catalog):
    gpkg, qgs = matrix[("gpkg", 4549)]
    root = ET.parse(qgs).getroot()
    sources = [m.findtext("datasource") for m in root.iter("maplayer")]
    assert sorted(sources) == sorted(f"./{gpkg.name}|layername={t}" for t in FEATURE_TABLES)
    assert root.findtext("properties/Paths/Absolute") == "false"
    groups = [g.get("name") for g in root.find("layer-tree-group").findall("layer-tree-group")]
    assert sorted(groups) == sorted(catalog.groups[g]["zh"] for g in {s.group for s in catalog.layers})
    transport = next(g for g in root.find("layer-tree-group") if g.get("name") == catalog.groups["transport"]["zh"])
    # Topmost first, as in QGIS's layer panel.
    assert [n.get("name") for n in transport.findall("layer-tree-layer")] == ["车站", "轨道交通"]
    assert {m.findtext("srs/spatialrefsys/authid") for m in root.iter("maplayer")} == {"EPSG:4549"}


# ----------------------------------------------------------------------------- Shapefile, CSV, KML

def test_shapefile_and_csv_carry_styles_beside_each_file(matrix):
    with zipfile.ZipFile(next(f for f in matrix[("shp", 4326)] if "_structure_" in f.name)) as zf:
        names = zf.namelist()
        qml = zf.read(next(n for n in names if n.endswith("_line_epsg4326_2026-11-21.qml"))).decode()
    for part in ("line", "polygon"):
        for ext in (".shp", ".qml", ".sld"):
            assert any(n.endswith(f"_structure_{part}_epsg4326_2026-11-21{ext}") for n in names), (part, ext)
    assert "<renderer-v2" in qml
    csvs = [f for f in matrix[("csv", 4549)] if f.suffix == ".csv"]
    for csv_path in csvs:
        for ext in (".csvt", ".prj", ".qml", ".sld"):
            assert csv_path.with_suffix(ext).exists(), (csv_path.name, ext)
    # The shortened DBF names are what the Shapefile's QML aliases.
    with zipfile.ZipFile(next(f for f in matrix[("shp", 4326)] if "_towns_" in f.name)) as zf:
        towns_qml = zf.read(next(n for n in zf.namelist() if n.endswith(".qml"))).decode()
    assert 'field="re_co_2022"' in towns_qml and "residents_committees_2022" not in towns_qml


def test_csv_with_csvt_and_prj_reads_typed_and_located_in_gdal(matrix, ogrinfo):
    towns = next(f for f in matrix[("csv", 4549)] if "_towns_" in f.name and f.suffix == ".csv")
    out = _ogrinfo(ogrinfo, str(towns)).stdout
    for field, kind in (("population_2020", "Real"), ("employment_2023", "Integer"), ("area_km2", "Real"),
                        ("name_zh", "String")):
        assert re.search(rf"^{field}: {kind} ", out, re.M), (field, kind)
    assert re.search(r"Geometry Column = \w+", out) and 'ID["EPSG",4549]' in out
    back = pyogrio.read_dataframe(towns)
    assert back.crs.to_epsg() == 4549 and back.geom_type.str.endswith("Polygon").all()
    assert pd.api.types.is_integer_dtype(back["employment_2023"])


def test_kml_placemarks_have_catalogue_styles_and_their_own_ids(matrix, layers, catalog):
    ns = {"k": KML_NS}
    path = next(f for f in matrix[("kml", 4326)] if "_parks_" in f.name)
    marks = ET.parse(path).getroot().findall(".//k:Placemark", ns)
    colours = dict(catalog.layer("parks").style.colors)
    for mark, (_, row) in zip(marks, layers["parks"].iterrows(), strict=True):
        styles = mark.findall("k:Style", ns)
        assert len(styles) == 1
        kml = styles[0].findtext("k:IconStyle/k:color", namespaces=ns)
        want = colours[row["kind"]]
        assert kml[2:] == (want[5:7] + want[3:5] + want[1:3]).lower()
        assert mark.get("id") == f"parks.{row['id']}"
    zones = ET.parse(next(f for f in matrix[("kml", 4326)] if "_zones_" in f.name)).getroot()
    for mark in zones.findall(".//k:Placemark", ns):
        (style,) = mark.findall("k:Style", ns)
        assert style.findtext("k:PolyStyle/k:fill", namespaces=ns) == "1"
        assert not style.findtext("k:LineStyle/k:color", namespaces=ns).endswith("ff0000")  # not GDAL's red


# ----------------------------------------------------------------------------- downloads

@pytest.mark.slow  # system GDAL and QGIS processes
def test_multi_layer_shapefile_download_is_one_flat_zip_with_a_folder_per_layer(layers, catalog, ogrinfo, tmp_path):
    name, data, mime = export_download(["towns", "structure", "stations"], fmt="shp", crs=4549, layers=layers)
    assert mime == "application/zip" and name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path)
    assert not [n for n in names if n.lower().endswith(".zip")]
    folders = {n.split("/")[0] for n in names}
    assert folders == {f"songjiang_{i}_epsg4549_{catalog.meta['release_date']}" for i in ("towns", "structure",
                                                                                           "stations")}
    assert all(n.count("/") == 1 for n in names)
    for shp in tmp_path.rglob("*.shp"):
        assert _ogrinfo(ogrinfo, str(shp)).returncode == 0


def test_gpkg_download_is_a_zip_of_the_geopackage_and_its_project(layers):
    name, data, _mime = export_download(["rail_lines", "stations"], fmt="gpkg", crs=4326, layers=layers)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(Path(n).suffix for n in zf.namelist()) == [".gpkg", ".qgs"]


def test_english_export_titles_aliases_and_readme(layers, tmp_path):
    gpkg, qgs = export_layers(["towns"], fmt="gpkg", crs=4326, out_dir=tmp_path / "g", layers=layers, lang="en")
    with sqlite3.connect(gpkg) as con:
        assert con.execute("SELECT identifier FROM gpkg_contents WHERE table_name='towns'").fetchone()[0] \
            == "Towns and subdistricts (schematic)"
        assert con.execute("SELECT name FROM gpkg_data_columns WHERE table_name='towns' AND column_name="
                           "'population_2020'").fetchone()[0] == "Residents (2020 census)"
    assert "layername=towns" in qgs.read_text(encoding="utf-8")
    (shp,) = export_layers(["towns"], fmt="shp", crs=4326, out_dir=tmp_path / "s", layers=layers, lang="en")
    with zipfile.ZipFile(shp) as zf:
        readme = zf.read("README.txt").decode("utf-8")
    assert readme.index("Attribution:") < readme.index("署名：")


def test_listed_not_drawn_download_has_both_tables_with_reasons(catalog):
    parks = pd.DataFrame([{"id": "p1", "name_zh": "某园区", "reason": "no coordinate found"}])
    name, data, mime = listed_not_drawn_download(catalog=catalog, parks=parks)
    assert mime == "application/zip" and name.startswith("songjiang_listed_not_drawn_")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        tables = {n: pd.read_csv(zf.open(n), encoding="utf-8-sig") for n in zf.namelist() if n.endswith(".csv")}
    undrawn = next(t for n, t in tables.items() if "undrawn_lines" in n)
    unlocated = next(t for n, t in tables.items() if "unlocated_parks" in n)
    assert len(undrawn) == len(undrawn_lines_frame(catalog)) == 7
    assert undrawn["reason_zh"].notna().all() and undrawn["reason_en"].notna().all()
    assert list(unlocated["reason"]) == ["no coordinate found"]


def test_user_layer_download_keeps_attributes_crs_and_summary(tmp_path):
    gdf = gpd.GeoDataFrame({"名称": ["甲", "乙"], "count": [1, 2]}, geometry=[Point(121.2, 31.0), Point(121.3, 31.1)],
                           crs=4326)
    summary = pd.DataFrame({"town": ["岳阳街道"], "features": [2]})
    name, data, mime = user_layer_download(gdf, summary, crs=4549)
    assert name.endswith("_epsg4549.gpkg") and mime == "application/geopackage+sqlite3"
    path = tmp_path / name
    path.write_bytes(data)
    back = pyogrio.read_dataframe(path, layer="user_layer")
    assert back.crs.to_epsg() == 4549 and list(back["名称"]) == ["甲", "乙"]
    assert pyogrio.read_dataframe(path, layer="user_layer_by_town", read_geometry=False)["features"].tolist() == [2]


# ----------------------------------------------------------------------------- QGIS 3.22 itself

@pytest.mark.parametrize("crs", CRS_CHOICES)
@pytest.mark.slow  # system GDAL and QGIS processes
def test_qgis_opens_the_project_and_geopackage_styled_and_renders_them(matrix, catalog, pyqgis, crs, tmp_path):
    gpkg, qgs = matrix[("gpkg", crs)]
    png = tmp_path / f"qgis_epsg{crs}.png"
    done = subprocess.run([pyqgis, str(PROBE), str(gpkg), str(qgs), str(png)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    try:
        assert done.returncode == 0, done.stderr[-2000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report["errors"] == []
        assert sorted(report["gpkg"]) == sorted(FEATURE_TABLES)
        for table, info in report["gpkg"].items():
            assert info["valid"] and info["crs"] == f"EPSG:{crs}", (table, info)
            assert info["style_loaded"] and info["renderer"] == "RuleRenderer", (table, info["style_message"])
            assert info["labels"] and info["features"] > 0
            layer_id = "structure" if table.startswith("structure") else table
            spec = catalog.layer(layer_id)
            for colour in [c for _v, c in spec.style.colors] or [spec.style.color]:
                assert colour in info["colours"], (table, colour, info["colours"])
        assert report["gpkg"]["towns"]["aliases"]["population_2020"] == "常住人口 (2020 普查)"
        assert report["project_read"] and len(report["project"]) == len(FEATURE_TABLES)
        for title, info in report["project"].items():
            assert info["valid"] and info["crs"] == f"EPSG:{crs}" and info["renderer"] == "RuleRenderer", title
            assert info["source"].startswith(str(gpkg.parent)), info["source"]
        assert sorted(report["groups"]) == sorted(g["zh"] for g in catalog.groups.values())
        assert report["png_saved"] and report["non_white_fraction"] > 0.2
    except AssertionError:
        if png.exists():
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(png, ARTIFACTS / png.name)
        raise
