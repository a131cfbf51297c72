"""Downloads: every format × CRS written and read back with pyogrio (counts, Chinese text, provenance,
geometry within 1 cm in EPSG:4549, declared CRS), RFC 7946 GeoJSON, refused combinations, filtered
exports, atomic writes and the command line."""
from __future__ import annotations

import json
import re
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from layers.__main__ import main as cli_main
from layers.core.errors import ExportError
from layers.core.geojson import feature_collection_text
from layers.export import formats as export_formats
from layers.export.download import export_layers
from layers.export.formats import FORMATS, _csv_text, shapefile_field_map
from layers.export.job import CRS_CHOICES
from layers.map.filters import LayerFilter, filter_layers

VALID = [(fmt, crs) for fmt in FORMATS for crs in CRS_CHOICES if crs in FORMATS[fmt].crs]
REFUSED = [(fmt, crs) for fmt in FORMATS for crs in CRS_CHOICES if crs not in FORMATS[fmt].crs]
TEXT_FIELDS = ("id", "name_zh", "name_en", "source", "licence", "accuracy")
NAME_RE = re.compile(r"^songjiang_[a-z0-9_\-]+_epsg(4326|4490|4549)_\d{4}-\d{2}-\d{2}\."
                     r"(geojson|gpkg|qgs|zip|kml|csv|csvt|prj|qml|sld)$")
#: Tables/files a layer is written as where a format cannot mix geometry types (GeoPackage, Shapefile, CSV).
SPLIT = {"structure": ("structure_line", "structure_polygon")}


# ----------------------------------------------------------------------------- reading exports back

def _read_shapefile_zip(path: Path, work: Path) -> tuple[gpd.GeoDataFrame, dict[str, str], pd.DataFrame]:
    with zipfile.ZipFile(path) as zf:
        zf.extractall(work)
    fieldmap = pd.read_csv(work / "fieldmap.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    back = {r.shapefile_field: r.field for r in fieldmap.itertuples()}
    parts = []
    for shp in sorted(work.glob("*.shp")):
        assert (shp.with_suffix(".cpg")).read_text().strip() == "UTF-8"
        parts.append(pyogrio.read_dataframe(shp).rename(columns=back))
    crs = {p.crs.to_epsg(min_confidence=70) for p in parts}
    assert len(crs) == 1
    full = pd.read_csv(next(work.glob("*_attributes.csv")), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    frame = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    return frame, back, full


def read_export(fmt: str, crs: int, files: list[Path], layer_id: str, work: Path) -> tuple[gpd.GeoDataFrame, int]:
    """(frame with the original attribute names, the EPSG code the file declares)."""
    if fmt == "gpkg":
        (path,) = [f for f in files if f.suffix == ".gpkg"]
        parts = [pyogrio.read_dataframe(path, layer=table) for table in SPLIT.get(layer_id, (layer_id,))]
        gdf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
        return gdf, gdf.crs.to_epsg()
    if fmt == "csv":
        paths = [f for f in files if f.suffix == ".csv"
                 and any(f"_{table}_epsg" in f.name for table in SPLIT.get(layer_id, (layer_id,)))]
        assert len(paths) == len(SPLIT.get(layer_id, (layer_id,)))
        frames = []
        for path in paths:
            assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
            frames.append(pyogrio.read_dataframe(path, GEOM_POSSIBLE_NAMES="wkt", KEEP_GEOM_COLUMNS="NO"))
        gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True))
        declared = set(gdf["wkt_crs"])
        assert len(declared) <= 1
        code = int(declared.pop().split(":")[1]) if declared else crs
        return gdf.set_crs(code, allow_override=True), code
    (path,) = [f for f in files if f"_{layer_id}_epsg" in f.name]
    if fmt == "geojson":
        gdf = pyogrio.read_dataframe(path)
        return gdf, gdf.crs.to_epsg()
    if fmt == "shp":
        gdf, _back, _full = _read_shapefile_zip(path, work / layer_id)
        return gdf, gdf.crs.to_epsg(min_confidence=70)
    if fmt == "kml":
        gdf = pyogrio.read_dataframe(path, layer=layer_id, driver="KML")
        # The feature id travels as 'feature_id'. GDAL's LIBKML reader also names the Placemark's own id 'id'
        # ('<layer>.<feature id>'); the app reads with the plain KML driver (LIBKML is off: layers/core/gdal.py).
        if "id" in gdf.columns:
            assert all(str(p).startswith(f"{layer_id}.") for p in gdf["id"])
            gdf = gdf.drop(columns=["id"])
        gdf = gdf.rename(columns={"feature_id": "id"})
        return gdf, gdf.crs.to_epsg()
    raise AssertionError(fmt)


def _same_text(got, want, *, may_cut: bool, trimmed: bool = False) -> bool:
    want = "" if want is None or (isinstance(want, float) and want != want) else str(want)
    got = "" if got is None or (isinstance(got, float) and got != got) else str(got)
    if trimmed:  # GDAL's KML reader trims element text; the file itself keeps it (test_kml_keeps_exact_text)
        want = want.strip()
    if may_cut:  # DBF: text ≤ 254 bytes, and blank-padded, so trailing spaces do not survive
        want = want.rstrip(" ")
        if len(want.encode("utf-8")) > 254:
            return want.startswith(got) and len(got.encode("utf-8")) > 200
    return got == want


def _max_offset_m(source: gpd.GeoDataFrame, back: gpd.GeoDataFrame) -> float:
    a = source.to_crs(4549).set_index("id").geometry
    b = back.to_crs(4549).set_index("id").geometry
    return max(shapely.hausdorff_distance(a[i], b[i]) for i in a.index)


# ----------------------------------------------------------------------------- the matrix

def test_the_matrix_covers_five_formats_and_refuses_four_pairs():
    assert set(FORMATS) == {"geojson", "gpkg", "shp", "kml", "csv"}
    assert len(VALID) == 11 and len(REFUSED) == 4


@pytest.mark.parametrize("fmt,crs", VALID)
@pytest.mark.slow  # every format × CRS written and read back with GDAL
def test_export_reads_back_with_counts_text_geometry_and_crs(matrix, layers, catalog, fmt, crs, tmp_path):
    files = matrix[(fmt, crs)]
    assert all(NAME_RE.match(f.name) and f"epsg{crs}" in f.name for f in files)
    assert all(catalog.meta["release_date"] in f.name for f in files)
    main = [f for f in files if f.suffix in (".gpkg", ".geojson", ".zip", ".kml", ".csv")]
    parts = len(catalog.layer_ids) + len(SPLIT) if fmt == "csv" else len(catalog.layer_ids)
    assert len(main) == (1 if fmt == "gpkg" else parts)
    for layer_id in catalog.layer_ids:
        source = layers[layer_id]
        back, declared = read_export(fmt, crs, files, layer_id, tmp_path)
        assert declared == crs, (fmt, crs, layer_id)
        assert len(back) == len(source), (fmt, crs, layer_id)
        assert sorted(back["id"].astype(str)) == sorted(source["id"].astype(str))
        src = source.set_index("id")
        got = back.assign(id=back["id"].astype(str)).set_index("id").loc[src.index]
        for field in TEXT_FIELDS[1:]:
            for g, w in zip(got[field], src[field], strict=True):
                assert _same_text(g, w, may_cut=fmt == "shp", trimmed=fmt == "kml"), (fmt, crs, layer_id, field, g, w)
        if "accuracy_m" in src.columns:
            assert [float(v) for v in got["accuracy_m"]] == [float(v) for v in src["accuracy_m"]]
        assert _max_offset_m(source, back.assign(id=back["id"].astype(str))) <= 0.01, (fmt, crs, layer_id)


def test_chinese_text_survives_every_format(matrix, layers, tmp_path):
    want = set(layers["towns"]["name_zh"])
    assert "岳阳街道" in want
    for (fmt, crs), files in matrix.items():
        back, _ = read_export(fmt, crs, files, "towns", tmp_path / f"{fmt}{crs}")
        assert set(back["name_zh"]) == want, (fmt, crs)


# ----------------------------------------------------------------------------- GeoJSON (RFC 7946)

def test_geojson_obeys_rfc7946(matrix):
    for path in matrix[("geojson", 4326)]:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        assert data["type"] == "FeatureCollection" and "crs" not in data
        assert not re.search(r"\d\.\d{7,}", json.dumps([f["geometry"] for f in data["features"]]))
        for feat in data["features"]:
            assert {"source", "licence", "accuracy"} <= set(feat["properties"])
            geom = shapely.geometry.shape(feat["geometry"])
            polys = getattr(geom, "geoms", [geom]) if geom.geom_type.endswith("Polygon") else []
            for poly in polys:
                assert poly.exterior.is_ccw, (path.name, feat["id"])
                assert all(not ring.is_ccw for ring in poly.interiors)
            x, y = shapely.get_coordinates(geom).mean(axis=0)
            assert 120.8 < x < 121.6 and 30.7 < y < 31.3  # lon first


# ----------------------------------------------------------------------------- GeoPackage

def test_gpkg_holds_all_layers_and_a_metadata_table(matrix, catalog):
    path, project = matrix[("gpkg", 4549)]
    assert path.name == f"songjiang_all_epsg4549_{catalog.meta['release_date']}.gpkg"
    assert project.name == path.with_suffix(".qgs").name
    with sqlite3.connect(path) as con:
        contents = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        srs = dict(con.execute("SELECT table_name, srs_id FROM gpkg_geometry_columns").fetchall())
    assert contents.pop("layer_metadata") == "attributes" and contents.pop("layer_styles") == "attributes"
    tables = [t for i in catalog.layer_ids for t in SPLIT.get(i, (i,))]
    assert contents == {t: "features" for t in tables}
    assert set(srs.values()) == {4549}
    meta = pyogrio.read_dataframe(path, layer="layer_metadata", read_geometry=False)
    assert list(meta["layer"]) == list(catalog.layer_ids)
    row = meta.set_index("layer").loc["rail_lines"]
    spec = catalog.layer("rail_lines")
    assert row["licence"] == spec.provenance.licence and row["attribution"] == spec.provenance.attribution
    assert row["release_date"] == catalog.meta["release_date"] and row["crs"] == "EPSG:4549"
    assert row["title_zh"] == spec.title_zh and row["accuracy"] == spec.provenance.accuracy


# ----------------------------------------------------------------------------- Shapefile

def test_shapefile_zip_members_readme_and_fieldmap(matrix, tmp_path):
    files = {f.name.split("_epsg")[0].removeprefix("songjiang_"): f for f in matrix[("shp", 4549)]}
    with zipfile.ZipFile(files["towns"]) as zf:
        names = zf.namelist()
        readme = zf.read("README.txt").decode("utf-8")
    exts = sorted(Path(n).suffix for n in names if n.startswith("songjiang_towns_epsg"))
    assert exts == sorted([".shp", ".shx", ".dbf", ".prj", ".cpg", ".qml", ".sld", ".csv"])
    assert {"fieldmap.csv", "README.txt"} <= set(names)
    assert "Attribution:" in readme and "Licence:" in readme and "Accuracy:" in readme
    _gdf, back, full = _read_shapefile_zip(files["towns"], tmp_path / "towns")
    assert all(len(short) <= 10 for short in back) and len(set(s.lower() for s in back)) == len(back)
    assert back["re_co_2022"] == "residents_committees_2022"
    assert "岳阳街道" in set(full["name_zh"])


def test_mixed_geometry_layer_is_split_and_said_so(matrix, layers, tmp_path):
    (path,) = [f for f in matrix[("shp", 4490)] if "_structure_" in f.name]
    with zipfile.ZipFile(path) as zf:
        shps = sorted(n for n in zf.namelist() if n.endswith(".shp"))
        readme = zf.read("README.txt").decode("utf-8")
    assert [("_line_" in n, "_polygon_" in n) for n in shps] == [(True, False), (False, True)]
    assert "split" in readme
    gdf, _back, _full = _read_shapefile_zip(path, tmp_path)
    want = sorted(layers["structure"].geom_type.str.replace("Multi", ""))
    assert sorted(gdf.geom_type.str.replace("Multi", "")) == want


def test_long_text_is_cut_on_a_character_boundary_and_kept_whole_beside(matrix, layers, catalog, tmp_path):
    seen = 0
    for layer_id in catalog.layer_ids:
        src = layers[layer_id].set_index("id")
        long_cells = [(i, c) for c in src.columns if c != "geometry"
                      for i, v in src[c].items() if isinstance(v, str) and len(v.encode()) > 254]
        if not long_cells:
            continue
        seen += len(long_cells)
        (path,) = [f for f in matrix[("shp", 4326)] if f"_{layer_id}_epsg" in f.name]
        gdf, _back, full = _read_shapefile_zip(path, tmp_path / layer_id)
        got = gdf.set_index("id")
        full = full.set_index("id")
        for i, c in long_cells:
            cut = got.loc[i, c]
            assert 200 < len(cut.encode()) <= 254 and src.loc[i, c].startswith(cut) and "\ufffd" not in cut
            assert full.loc[i, c] == src.loc[i, c]
        with zipfile.ZipFile(path) as zf:
            readme = zf.read("README.txt").decode("utf-8")
        assert "cut at a character boundary" in readme and long_cells[0][1] in readme
    assert seen, "some layer has text over 254 bytes: the case this test is about"


def test_kml_keeps_exact_text(matrix, layers):
    (path,) = [f for f in matrix[("kml", 4326)] if "_parks_" in f.name]
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    root = ET.parse(path).getroot()
    got = {}
    for mark in root.findall(".//k:Placemark", ns):
        data = {d.get("name"): d.text or "" for d in mark.iter("{http://www.opengis.net/kml/2.2}SimpleData")}
        assert mark.get("id") == f"parks.{data['feature_id']}"
        got[data["feature_id"]] = data
    for _, row in layers["parks"].iterrows():
        for field in ("source", "licence", "accuracy", "name_zh"):
            assert got[row["id"]][field] == row[field]
        assert float(got[row["id"]]["accuracy_m"]) == row["accuracy_m"]


def test_field_map_is_deterministic_unique_and_short():
    names = ["residents_committees_2022", "village_committees_2022", "abcdefghijk", "abcdefghijkl",
             "ABCDEFGHIJKLM", "abcdefghi1", "x"]
    first = shapefile_field_map(names)
    assert first == shapefile_field_map(list(names))
    assert list(first) == names
    assert all(len(v) <= 10 for v in first.values())
    assert len({v.lower() for v in first.values()}) == len(names)
    assert first["abcdefghi1"] == "abcdefghi1" and first["x"] == "x"  # short names are never displaced


# ----------------------------------------------------------------------------- KML and CSV

def test_kml_name_and_escaped_description(layers, tmp_path):
    hostile = layers["parks"].copy()
    hostile.loc[0, "name_zh"] = "<script>alert('x')</script>"
    hostile.loc[0, "notes"] = "a & b <b>bold</b>"
    (path,) = export_layers(["parks"], fmt="kml", crs=4326, out_dir=tmp_path, layers={"parks": hostile})
    text = path.read_text(encoding="utf-8")
    assert "<script>" not in text and "<b>bold" not in text
    root = ET.fromstring(text)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = root.findall(".//k:Placemark", ns)
    assert len(marks) == len(hostile)
    assert marks[1].find("k:name", ns).text == f"{hostile.loc[1, 'name_zh']} {hostile.loc[1, 'name_en']}"
    desc = marks[0].find("k:description", ns).text  # the HTML a KML viewer renders
    assert desc.startswith("<table>") and "&lt;script&gt;" in desc and "a &amp; b &lt;b&gt;" in desc
    for label in ("来源 / Source", "许可 / Licence", "精度 / Accuracy", "accuracy_m"):
        assert label in desc or label in text


def test_csv_has_bom_wkt_in_the_chosen_crs_and_provenance(matrix, layers):
    (path,) = [f for f in matrix[("csv", 4549)] if "_stations_" in f.name and f.suffix == ".csv"]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(path, encoding="utf-8-sig")
    assert {"wkt", "wkt_crs", "source", "licence", "accuracy", "accuracy_m"} <= set(df.columns)
    assert set(df["wkt_crs"]) == {"EPSG:4549"}
    x = shapely.from_wkt(df["wkt"].iloc[0]).x
    assert 3e5 < x < 7e5 or x > 40e6  # metres, not degrees
    assert "三新北路" in set(df["name_zh"])


# ----------------------------------------------------------------------------- refused combinations

@pytest.mark.parametrize("fmt,crs", REFUSED)
def test_refused_pairs_say_why(fmt, crs, tmp_path, layers):
    with pytest.raises(ExportError, match="RFC 7946" if fmt == "geojson" else "KML is always WGS 84"):
        export_layers(["stations"], fmt=fmt, crs=crs, out_dir=tmp_path, layers=layers)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("crs,message", [("GCJ-02", "GCJ-02 is never"), ("gcj02", "GCJ-02 is never"),
                                         (3857, "Unsupported CRS"), ("EPSG:4214", "Unsupported CRS"),
                                         ("<script>", "Unsupported CRS")])
def test_other_crs_are_refused(crs, message, tmp_path, layers):
    with pytest.raises(ExportError, match=message):
        export_layers(["stations"], fmt="gpkg", crs=crs, out_dir=tmp_path, layers=layers)


def test_unknown_format_and_layer_are_refused(tmp_path, layers):
    with pytest.raises(ExportError, match="Unknown format"):
        export_layers(["stations"], fmt="dxf", crs=4326, out_dir=tmp_path, layers=layers)
    with pytest.raises(ExportError, match="Unknown layer"):
        export_layers(["metro_lines"], fmt="csv", crs=4326, out_dir=tmp_path, layers=layers)


def test_epsg_strings_are_accepted(tmp_path, layers):
    files = export_layers("rail_lines", fmt="csv", crs="EPSG:4490", out_dir=tmp_path, layers=layers)
    assert sorted(f.suffix for f in files) == [".csv", ".csvt", ".prj", ".qml", ".sld"]
    assert all("epsg4490" in f.name for f in files)


# ----------------------------------------------------------------------------- filters and atomic writes

def test_filtered_export_contains_exactly_the_filtered_features(tmp_path, layers):
    flt = LayerFilter(rail_status=("open",), zone=("industry_city",))
    path, project = export_layers(["rail_lines", "stations", "parks", "towns"], fmt="gpkg", crs=4549,
                                  out_dir=tmp_path, flt=flt, layers=layers)
    assert "_filtered_" in path.name and project.name == path.with_suffix(".qgs").name
    shown = filter_layers(layers, flt)
    for layer_id in ("rail_lines", "stations", "parks", "towns"):
        back = pyogrio.read_dataframe(path, layer=layer_id)
        assert sorted(back["id"]) == sorted(shown[layer_id]["id"]), layer_id
    assert len(shown["stations"]) < len(layers["stations"]) and len(shown["towns"]) == 5
    meta = pyogrio.read_dataframe(path, layer="layer_metadata", read_geometry=False)
    assert set(meta["filter"]) == {"rail_status=open; zone=industry_city"}


def test_filter_with_nothing_left_still_writes_valid_empty_layers(tmp_path, layers):
    flt = LayerFilter(zone=("new_town",), town=("310117105",))
    files = export_layers(["stations", "parks"], fmt="shp", crs=4549, out_dir=tmp_path, flt=flt, layers=layers)
    for path in files:
        gdf, _b, _f = _read_shapefile_zip(path, tmp_path / path.stem)
        assert gdf.empty


def test_failed_gpkg_write_leaves_no_file(tmp_path, layers, monkeypatch):
    real = pyogrio.write_dataframe
    calls = []

    def flaky(df, path, **kwargs):
        calls.append(kwargs.get("layer"))
        if len(calls) == 3:
            raise OSError("disk full")
        return real(df, path, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", flaky)
    with pytest.raises(ExportError, match="nothing was written"):
        export_layers("all", fmt="gpkg", crs=4326, out_dir=tmp_path, layers=layers)
    assert len(calls) == 3 and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["geojson", "shp", "csv"])
def test_failure_on_a_later_layer_removes_the_earlier_files_too(tmp_path, layers, monkeypatch, fmt):
    real = _csv_text if fmt in ("shp", "csv") else feature_collection_text
    name = "_csv_text" if fmt in ("shp", "csv") else "feature_collection_text"
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(export_formats, name, flaky)
    with pytest.raises(ExportError, match="boom"):
        export_layers("all", fmt=fmt, crs=4326, out_dir=tmp_path, layers=layers)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_survives_a_failed_rewrite(tmp_path, layers, monkeypatch):
    (path,) = export_layers("district", fmt="geojson", crs=4326, out_dir=tmp_path, layers=layers)
    before = path.read_bytes()
    monkeypatch.setattr(export_formats, "feature_collection_text",
                        lambda *a, **k: (_ for _ in ()).throw(ValueError("x")))
    with pytest.raises(ExportError):
        export_layers("district", fmt="geojson", crs=4326, out_dir=tmp_path, layers=layers)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_layers_lacking_provenance_are_refused(tmp_path, layers):
    bare = layers["parks"].drop(columns=["licence"])
    with pytest.raises(ExportError, match="licence"):
        export_layers("parks", fmt="csv", crs=4326, out_dir=tmp_path, layers={"parks": bare})


# ----------------------------------------------------------------------------- command line

def test_cli_exports_with_filters(tmp_path, capsys):
    rc = cli_main(["export", "--layer", "stations,rail_lines", "--format", "csv", "--crs", "4549", "--out",
                   str(tmp_path), "--rail-status", "open", "--town", "310117105"])
    assert rc == 0
    out = capsys.readouterr().out.split()
    assert len(out) == 10 and all(Path(p).exists() and "_filtered_epsg4549_" in p for p in out)
    assert sorted(Path(p).suffix for p in out) == sorted([".csv", ".csvt", ".prj", ".qml", ".sld"] * 2)


@pytest.mark.parametrize("args,needle", [
    (["--rail-status", "open,bogus"], "bogus"),
    (["--zone", "<script>"], "--zone"),
])
def test_cli_rejects_unknown_filter_values(tmp_path, capsys, args, needle):
    rc = cli_main(["export", "--layer", "stations", "--format", "csv", "--crs", "4326", "--out", str(tmp_path),
                   *args])
    err = capsys.readouterr().err
    assert rc == 2 and needle in err and "<script>" not in err
    assert list(tmp_path.iterdir()) == []


def test_cli_refused_pair_exits_2(tmp_path, capsys):
    rc = cli_main(["export", "--layer", "all", "--format", "kml", "--crs", "4549", "--out", str(tmp_path)])
    assert rc == 2 and "KML is always WGS 84" in capsys.readouterr().err


def test_cli_help_lists_formats_and_filters(capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["export", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for word in ("geojson", "gpkg", "shp", "kml", "csv", "4549", "--rail-status", "--zone", "--town"):
        assert word in text


def test_a_town_filtered_export_carries_the_attribution_and_its_approximate_marks(layers, tmp_path):
    # Issue 13: 中山街道's stations come from the attribution (a stop stated elsewhere never appears), each with its
    # basis, and the readme says which are ≈ approximate.
    files = export_layers(["stations"], fmt="geojson", crs=4326, out_dir=tmp_path, layers=layers,
                          flt=LayerFilter(town=("310117004",)))
    geo = next(f for f in files if f.suffix == ".geojson")
    feats = json.loads(geo.read_text(encoding="utf-8"))["features"]
    assert feats and all("310117004" in f["properties"]["town_codes"].split(",") for f in feats)
    assert {f["properties"]["town_basis"] for f in feats} <= {"stated", "inferred", "boundary", "computed_schematic"}
    assert not {"stn-shanghaisongjiangzhan-metro", "stn-shanghai-songjiang-rail"} & {f["id"] for f in feats}
    shp = export_layers(["stations"], fmt="shp", crs=4326, out_dir=tmp_path / "shp", layers=layers,
                        flt=LayerFilter(town=("310117004",)))
    with zipfile.ZipFile(next(f for f in shp if f.suffix == ".zip")) as zf:
        readme = zf.read("README.txt").decode("utf-8")
    n = sum(bool(f["properties"]["town_approx"]) for f in feats)
    assert f"town_approx marks the ≈ approximate ones: {n} of {len(feats)}" in readme and n > 0
