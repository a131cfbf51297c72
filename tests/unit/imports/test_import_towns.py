"""Importing town boundaries: the real OSM reference import (a clean partition with 7 re-fitted units), every
accepted format, matching by code and name, every broken or hostile input (message + nothing written),
--dry-run, --revert, and the Data page's import panel.

Everything that writes works on a temporary copy of geodata/. Files from ../shared/data/reference are only
read at run time; the synthetic fixtures are built here from the project's own geodata/towns.geojson."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
import shapely.affinity
from shapely.geometry import Point, mapping, shape

from layers.__main__ import main as cli_main
from layers.app import access
from layers.app import import_panel as app_import_panel
from layers.build.sources import read_inputs
from layers.core import paths, settings
from layers.core.crs import geometry_wgs84_to_gcj02, to_measure
from layers.core.errors import SongjiangMapError, TownImportError
from layers.core.i18n import STRINGS
from layers.core.store import Version, open_store, served_text
from layers.core.upload import read_town_file
from layers.imports import apply as imports_apply
from layers.imports.apply import apply_import, import_in_app_allowed, import_towns, revert_import
from layers.imports.plan import plan_import

REFERENCE = "osm_towns_10_wgs84.geojson"
REF_CODES = {"310117102", "310117106", "310117105", "310117103", "310117121", "310117104", "310117117",
             "310117116", "310117109", "310117120"}


# ----------------------------------------------------------------------------------------------- fixtures

def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def served_layer(geo: Path, name: str) -> list[dict]:
    """The features of a layer as the app serves it (the workspace store's after an import)."""
    return json.loads(served_text(f"{name}.geojson", geodata_dir=geo))["features"]


@pytest.fixture(scope="module")
def inputs():
    return read_inputs()


@pytest.fixture(scope="module")
def schematic() -> list[dict]:
    """The project's own schematic towns (code, names, geometry)."""
    data = json.loads(paths.layer_file("towns.geojson").read_text(encoding="utf-8"))
    return [{"code": f["properties"]["code"], "name_zh": f["properties"]["name_zh"],
             "name_en": f["properties"]["name_en"], "geometry": shape(f["geometry"])} for f in data["features"]]


def fc_bytes(items: list[dict], *, props=("code", "name_zh")) -> bytes:
    feats = [{"type": "Feature", "properties": {k: i[k] for k in props if k in i},
              "geometry": None if i.get("geometry") is None else mapping(i["geometry"])} for i in items]
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False).encode("utf-8")


def pick(schematic, *names: str) -> list[dict]:
    return [dict(t) for t in schematic if t["name_zh"] in names]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    code = cli_main(["import-towns", *argv])
    out = capsys.readouterr()
    return code, out.out + out.err


def assert_refused(capsys, geo: Path, path: Path, *fragments: str, extra: tuple[str, ...] = ()) -> str:
    """The CLI (not a dry run) exits 2 with every fragment in its output and geodata unchanged."""
    before = snapshot(geo)
    code, text = run_cli(capsys, str(path), "--geodata-dir", str(geo), *extra)
    assert code == 2, text
    for fragment in fragments:
        assert fragment in text, (fragment, text)
    assert snapshot(geo) == before
    assert not (geo / "imports").exists() and open_store().version() == 0
    return text


def partition_figures(towns: list[dict], outline_m) -> tuple[float, float]:
    """(largest pairwise overlap, union vs outline symmetric difference), m²."""
    cells = [to_measure(shape(f["geometry"])) for f in towns]
    worst = max(cells[i].intersection(cells[j]).area for i in range(len(cells)) for j in range(i + 1, len(cells)))
    return worst, shapely.union_all(cells).symmetric_difference(outline_m).area


# ------------------------------------------------------------------------- the real OSM reference import

@pytest.mark.slow  # the real OSM import: a re-fit, two whole rebuilds
def test_osm_reference_import_is_a_clean_partition_and_reverts_byte_identical(reference_dir, geo, inputs, served):
    ref = reference_dir / REFERENCE
    committed = served(geo)  # a copy of the committed geodata, and an empty store
    gdf = read_town_file(ref)
    report = plan_import(gdf, accuracy="osm", geodata_dir=geo, inputs=inputs)
    assert report.status == "ready", report.to_text()
    assert set(report.imported_codes) == REF_CODES
    assert served(geo) == committed  # planning writes nothing
    apply_import(report, geodata_dir=geo)
    assert snapshot(geo) == committed  # the baseline is never written: the import is in the store

    towns = served_layer(geo, "towns")
    assert len(towns) == 17
    acc = {f["properties"]["code"]: f["properties"]["accuracy"] for f in towns}
    assert {c for c, a in acc.items() if a == "osm"} == REF_CODES
    assert sum(a == "schematic" for a in acc.values()) == 7
    overlap, symdiff = partition_figures(towns, inputs.outline_m)
    assert overlap < 100.0 and symdiff < 1e-5 * inputs.outline_m.area, (overlap, symdiff)
    for f in towns:
        p = f["properties"]
        if p["accuracy"] == "schematic":
            assert shape(f["geometry"]).contains(Point(p["ref_lon_wgs84"], p["ref_lat_wgs84"])), p["name_zh"]
            assert "re-fitted" in p["source"]
        else:
            assert "ODbL" in p["licence"] and p["import_date"] == report.import_date
    # Imported units keep their real shape: only the slivers along the outline differ.
    real = {f["properties"]["code"]: shape(f["geometry"])
            for f in json.loads(ref.read_text(encoding="utf-8"))["features"]}
    for f in towns:
        code = f["properties"]["code"]
        if code in real:
            a, b = to_measure(real[code]), to_measure(shape(f["geometry"]))
            assert a.symmetric_difference(b).area < 0.03 * a.area, f["properties"]["name_zh"]
    # Zones and the park join were rebuilt from the new towns; the report is stored beside the overlay.
    zones = {f["id"]: f["properties"] for f in served_layer(geo, "zones")}
    assert zones["urban_rural_green"]["accuracy"] == "osm" and zones["new_town"]["accuracy"] == "schematic"
    stored = json.loads(open_store().report(1))  # the report is kept with the version
    assert stored["status"] == "ready" and len(stored["units"]) == 17
    assert json.loads(served_text("build_info.json", geodata_dir=geo))["towns_overlay"]["features"] == 10
    version = open_store().get(1)
    assert version.file_name == REFERENCE and version.units == 10
    assert version.sha256 == __import__("hashlib").sha256(ref.read_bytes()).hexdigest()
    print("\n" + report.to_text())

    revert_import(geodata_dir=geo)
    assert served(geo) == committed  # the schematic originals come back byte for byte
    assert not (paths.GEODATA_DIR / "imports").exists()  # and the real geodata was never touched


@pytest.mark.slow  # the real OSM import: a re-fit, two whole rebuilds
def test_osm_reference_import_through_the_cli_and_revert(reference_dir, geo, capsys, served):
    before = served(geo)
    code, text = run_cli(capsys, str(reference_dir / REFERENCE), "--accuracy", "osm", "--geodata-dir", str(geo))
    assert code == 0, text
    assert "Imported 10 unit(s)" in text and "version 1" in text
    overlay = json.loads(open_store().overlay(1))
    props = overlay["features"][0]["properties"]
    assert {"source", "licence", "accuracy", "import_date"} <= set(props) and props["accuracy"] == "osm"
    assert "crs" not in overlay  # RFC 7946
    code, text = run_cli(capsys, "--revert", "--geodata-dir", str(geo))
    assert code == 0 and "reverted" in text
    assert served(geo) == before
    code, text = run_cli(capsys, "--revert", "1", "--geodata-dir", str(geo))  # and forward again, to version 1
    assert code == 0 and "Reverted to version 1" in text
    assert json.loads(served_text("build_info.json", geodata_dir=geo))["towns_overlay"]["features"] == 10
    code, text = run_cli(capsys, "--history", "--geodata-dir", str(geo))
    assert code == 0 and "version 3" in text and text.count(REFERENCE) == 2, text
    assert "revert to 0" in text and "revert to 1" in text and "(command line)" in text


@pytest.mark.slow  # the real OSM import's re-fit
def test_dry_run_writes_nothing(reference_dir, geo, capsys):
    before = snapshot(geo)
    code, text = run_cli(capsys, str(reference_dir / REFERENCE), "--accuracy", "osm", "--dry-run",
                         "--geodata-dir", str(geo))
    assert code == 0 and "Dry run: nothing was written." in text and "Ready to apply." in text
    assert snapshot(geo) == before
    code, text = run_cli(capsys, str(reference_dir / REFERENCE), "--dry-run", "--json", "--geodata-dir", str(geo))
    assert json.loads(text.split("Dry run")[0])["status"] == "ready"
    assert snapshot(geo) == before


# --------------------------------------------------------------- formats, matching, re-fit on synthetic data

SOUTH = ("泖港镇", "叶榭镇", "新浜镇")


@pytest.mark.slow  # an import applied: a re-fit and a rebuild
def test_synthetic_import_keeps_imported_cells_and_refits_the_rest(tmp_path, geo, schematic, inputs):
    src = pick(schematic, *SOUTH)
    report = import_towns(write(tmp_path, "south.geojson", fc_bytes(src)), geodata_dir=geo)
    assert report.status == "ready" and sorted(report.imported_codes) == sorted(t["code"] for t in src)
    towns = {f["properties"]["name_zh"]: f for f in served_layer(geo, "towns")}
    for t in src:  # an exact fit of the outline: nothing clipped, nothing added, same geometry
        got = to_measure(shape(towns[t["name_zh"]]["geometry"]))
        assert got.symmetric_difference(to_measure(t["geometry"])).area < 1e-5 * got.area  # grid snapping only
        assert towns[t["name_zh"]]["properties"]["accuracy"] == "authoritative"
    overlap, symdiff = partition_figures(list(towns.values()), inputs.outline_m)
    assert overlap < 100.0 and symdiff < 1e-5 * inputs.outline_m.area
    assert not report.gaps and report.outside_km2 < 1e-3


def test_all_17_units_supplied_leaves_nothing_schematic(tmp_path, schematic, inputs):
    gdf = read_town_file(fc_bytes(schematic), filename="all.geojson")
    report = plan_import(gdf, inputs=inputs)
    assert report.status == "ready" and len(report.imported_codes) == 17
    assert all(u.status == "imported" for u in report.units)
    assert report.result_overlap_m2 < 100.0 and report.result_symdiff_m2 < 1e-5 * inputs.outline_m.area


@pytest.mark.parametrize("value, field", [
    ("泖港", "name_zh"), ("泖港镇", "name_zh"), ("  maogang  TOWN ", "name_en"), ("Maogang", "name_en"),
    ("310117109", "code"), ("310117109000", "code"),
])
def test_units_match_by_code_or_by_name_with_or_without_suffix(value, field, schematic, inputs):
    (t,) = pick(schematic, "泖港镇")
    data = fc_bytes([{field: value, "geometry": t["geometry"]}], props=(field,))
    report = plan_import(read_town_file(data, filename="one.geojson"), inputs=inputs)
    assert report.imported_codes == ["310117109"], report.to_text()
    assert report.units[[u.code for u in report.units].index("310117109")].matched_by == (
        "code" if field == "code" else "name")


@pytest.mark.slow  # a re-fit of its own (inputs no other test shares)
def test_explicit_fields_are_used_and_a_missing_field_is_named(schematic, inputs):
    (t,) = pick(schematic, "叶榭镇")
    data = json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "XZQDM": "310117120", "乡镇": "叶榭"}, "geometry": mapping(t["geometry"])}]}, ensure_ascii=False).encode()
    gdf = read_town_file(data, filename="x.geojson")
    assert plan_import(gdf, name_field="乡镇", inputs=inputs).imported_codes == ["310117120"]
    assert plan_import(gdf, inputs=inputs).imported_codes == ["310117120"]  # xzqdm found case-insensitively
    bad = plan_import(gdf, code_field="DM", inputs=inputs)
    assert bad.rejected and "no field 'DM'" in bad.to_text()


def _frame(items: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": [i["code"] for i in items], "name_zh": [i["name_zh"] for i in items]},
                            geometry=[i["geometry"] for i in items], crs=settings.WGS84)


def _zip(folder: Path, stem: str, exts: tuple[str, ...], out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as zf:
        for ext in exts:
            zf.write(folder / f"{stem}{ext}", f"{stem}{ext}")
    return out


@pytest.mark.slow  # three re-fits of their own (one per format)
def test_geopackage_shapefile_zip_and_kml_are_read(tmp_path, schematic, inputs):
    items = pick(schematic, *SOUTH)
    frame = _frame(items)
    gpkg = tmp_path / "towns.gpkg"
    pyogrio.write_dataframe(frame.to_crs(4549), gpkg, layer="towns", driver="GPKG")
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    pyogrio.write_dataframe(frame.to_crs(4490), shp_dir / "towns.shp", encoding="UTF-8")
    shp_zip = _zip(shp_dir, "towns", (".shp", ".shx", ".dbf", ".prj", ".cpg"), tmp_path / "towns.zip")
    kml = tmp_path / "towns.kml"
    pyogrio.write_dataframe(frame.rename(columns={"name_zh": "Name"}), kml, driver="KML")
    for path in (gpkg, shp_zip, kml):
        gdf = read_town_file(path)
        assert gdf.crs.to_epsg() == 4326
        report = plan_import(gdf, inputs=inputs)
        assert sorted(report.imported_codes) == sorted(i["code"] for i in items), (path.name, report.to_text())
        for u in report.units:
            if u.status == "imported":  # came back to WGS84 within a few metres
                assert abs(u.supplied_km2 - u.area_km2) < 0.01, (path.name, u)


@pytest.mark.slow  # a re-fit of its own (inputs no other test shares)
def test_a_shapefile_without_cpg_in_gb18030_keeps_its_chinese_names(tmp_path, schematic, inputs):
    frame = _frame(pick(schematic, "新浜镇")).drop(columns=["code"])
    shp_dir = tmp_path / "gbk"
    shp_dir.mkdir()
    pyogrio.write_dataframe(frame, shp_dir / "t.shp", encoding="GB18030")
    gdf = read_town_file(_zip(shp_dir, "t", (".shp", ".shx", ".dbf", ".prj"), tmp_path / "t.zip"))
    assert list(gdf["name_zh"]) == ["新浜镇"]
    assert "GB18030" in gdf.attrs["note"]
    assert plan_import(gdf, inputs=inputs).imported_codes == ["310117117"]


@pytest.mark.slow  # the three southern towns' re-fit, shared only with other slow tests
def test_projected_geojson_without_crs_asks_for_it_and_crs_option_reads_it(tmp_path, schematic, inputs, capsys, geo):
    items = pick(schematic, *SOUTH)
    projected = [{**i, "geometry": to_measure(i["geometry"])} for i in items]
    path = write(tmp_path, "metres.geojson", fc_bytes(projected))
    assert_refused(capsys, geo, path, "not longitude/latitude degrees", "--crs")
    gdf = read_town_file(path, crs="4549")
    assert "EPSG:4549" in gdf.attrs["source_crs"]
    assert sorted(plan_import(gdf, inputs=inputs).imported_codes) == sorted(i["code"] for i in items)


# ---------------------------------------------------------------------------- broken and hostile input

def test_truncated_json_is_refused(tmp_path, geo, schematic, capsys):
    data = fc_bytes(pick(schematic, *SOUTH))
    path = write(tmp_path, "cut.geojson", data[: len(data) // 2])
    assert_refused(capsys, geo, path, "is not valid JSON", "truncated")


def test_empty_file_is_refused(tmp_path, geo, capsys):
    assert_refused(capsys, geo, write(tmp_path, "empty.geojson", b""), "is empty (0 bytes)")
    assert_refused(capsys, geo, write(tmp_path, "blank.geojson", b"  \n"), "is empty")
    before = snapshot(geo)
    report = import_towns(b'{"type":"FeatureCollection","features":[]}', filename="none.geojson",
                             geodata_dir=geo)
    assert report.rejected and "holds no features" in report.to_text()
    assert snapshot(geo) == before


@pytest.fixture
def shapefile_parts(tmp_path, schematic) -> Path:
    folder = tmp_path / "parts"
    folder.mkdir()
    pyogrio.write_dataframe(_frame(pick(schematic, *SOUTH)), folder / "towns.shp", encoding="UTF-8")
    return folder


def test_zip_without_dbf_is_refused(tmp_path, geo, shapefile_parts, capsys):
    path = _zip(shapefile_parts, "towns", (".shp", ".shx", ".prj", ".cpg"), tmp_path / "nodbf.zip")
    assert_refused(capsys, geo, path, "no .dbf", "Zip the shapefile with all of its files")


@pytest.mark.slow  # the three southern towns' re-fit, shared only with other slow tests
def test_zip_without_prj_asks_for_the_crs(tmp_path, geo, shapefile_parts, capsys, inputs):
    path = _zip(shapefile_parts, "towns", (".shp", ".shx", ".dbf", ".cpg"), tmp_path / "noprj.zip")
    assert_refused(capsys, geo, path, "has no .prj", "--crs")
    assert len(plan_import(read_town_file(path, crs=4326), inputs=inputs).imported_codes) == 3


def test_zip_with_parent_paths_is_never_extracted(tmp_path, geo, shapefile_parts, capsys):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        for ext in (".shp", ".shx", ".dbf", ".prj"):
            zf.write(shapefile_parts / f"towns{ext}", f"towns{ext}")
        zf.writestr("../../escaped.txt", "pwned")
        zf.writestr("/tmp/absolute_escape.txt", "pwned")
    assert_refused(capsys, geo, evil, "unsafe paths", "../../escaped.txt", "nothing was extracted")
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path.parent / "escaped.txt").exists()
    assert not Path("/tmp/absolute_escape.txt").exists()


def test_a_200_mb_upload_is_refused_by_size_before_parsing(tmp_path, geo, capsys):
    big = tmp_path / "huge.geojson"
    with big.open("wb") as fh:  # sparse: nothing is allocated
        fh.truncate(200 * 2 ** 20)
    assert_refused(capsys, geo, big, "is 200.0 MB", "the limit is 50.0 MB")

    class Upload(io.BytesIO):  # what Streamlit hands over: the size is known, reading must not happen
        name, size = "huge.zip", 200 * 2 ** 20

        def read(self, *_a):
            raise AssertionError("read before the size check")

        getvalue = read

    with pytest.raises(TownImportError, match="200.0 MB"):
        read_town_file(Upload())


def test_wrong_geometry_type_is_refused(tmp_path, geo, schematic, capsys):
    points = [{**t, "geometry": t["geometry"].representative_point()} for t in pick(schematic, *SOUTH)]
    lines = [{**t, "geometry": t["geometry"].boundary} for t in pick(schematic, "泗泾镇")]
    path = write(tmp_path, "points.geojson", fc_bytes(points + lines))
    assert_refused(capsys, geo, path, "Wrong geometry type", "Point", "LineString", "must be Polygon or MultiPolygon")


@pytest.mark.slow  # the three southern towns' re-fit, shared only with other slow tests
def test_a_wrong_type_feature_among_polygons_is_rejected_alone(schematic, inputs):
    items = pick(schematic, *SOUTH) + [{"code": "310117102", "name_zh": "泗泾镇",
                                         "geometry": Point(121.27, 31.12)}]
    report = plan_import(read_town_file(fc_bytes(items), filename="mixed.geojson"), inputs=inputs)
    assert report.status == "ready" and len(report.imported_codes) == 3
    assert "wrong geometry type (Point)" in report.to_text()


def test_lat_lon_order_is_detected_and_refused(tmp_path, geo, schematic, capsys):
    swapped = [{**t, "geometry": shapely.transform(t["geometry"], lambda c: c[:, ::-1])}
               for t in pick(schematic, *SOUTH)]
    path = write(tmp_path, "latlon.geojson", fc_bytes(swapped))
    assert_refused(capsys, geo, path, "latitude/longitude order", "Swap the two numbers")


@pytest.mark.slow  # a re-fit of its own (inputs no other test shares)
def test_gcj02_declared_as_wgs84_is_detected_and_needs_confirmation(tmp_path, geo, schematic, capsys, inputs):
    shifted = [{**t, "geometry": geometry_wgs84_to_gcj02(t["geometry"])} for t in schematic]
    path = write(tmp_path, "amap.geojson", fc_bytes(shifted))
    report = plan_import(read_town_file(path), inputs=inputs)
    assert report.needs_confirmation and not report.rejected
    (msg,) = report.messages("confirm")
    assert "GCJ-02" in msg and "--crs gcj02" in msg
    assert 400 < float(msg.split("about ")[1].split(" m")[0]) < 600  # the ~500 m offset
    with pytest.raises(TownImportError, match="GCJ-02"):
        apply_import(report, geodata_dir=geo)
    assert_refused(capsys, geo, path, "GCJ-02", "NEEDS CONFIRMATION")
    converted = plan_import(read_town_file(path, crs="gcj02"), inputs=inputs)
    assert converted.status == "ready" and not converted.messages("confirm")
    assert converted.outside_km2 < 0.01


def test_real_wgs84_boundaries_are_not_taken_for_gcj02(reference_dir, inputs):
    report = plan_import(read_town_file(reference_dir / REFERENCE), accuracy="osm", inputs=inputs)
    assert not any(i.kind == "gcj02" for i in report.issues)


def test_duplicate_codes_are_refused(tmp_path, geo, schematic, capsys):
    items = pick(schematic, *SOUTH)
    items.append({**items[0], "name_zh": "泖港镇（重复）"})
    path = write(tmp_path, "dups.geojson", fc_bytes(items))
    assert_refused(capsys, geo, path, "Duplicate units", "泖港镇 (310117109) × 2")


def test_names_not_in_songjiang_are_refused(tmp_path, geo, schematic, capsys):
    items = [{"name_zh": n, "geometry": t["geometry"]}
             for n, t in zip(("朱家角镇", "Zhujiajiao Town", "七宝镇"), pick(schematic, *SOUTH))]
    path = write(tmp_path, "qingpu.geojson", fc_bytes(items, props=("name_zh",)))
    assert_refused(capsys, geo, path, "name no unit of Songjiang", "朱家角镇", "Zhujiajiao Town", "七宝镇")


def test_codes_of_other_districts_are_named(schematic, inputs):
    (t,) = pick(schematic, "泖港镇")
    report = plan_import(read_town_file(fc_bytes([{"code": "310118101", "name_zh": "x", "geometry":
                                                        t["geometry"]}]), filename="x.geojson"), inputs=inputs)
    assert report.rejected and "code 310118101 is not in Songjiang" in report.to_text()


@pytest.mark.slow  # a re-fit of its own (inputs no other test shares)
def test_features_far_outside_the_district_are_rejected(schematic, inputs, tmp_path, geo, capsys):
    items = pick(schematic, *SOUTH)
    far = shapely.affinity.translate(items[0]["geometry"], xoff=0.3)  # ~30 km east, in Pudong
    report = plan_import(read_town_file(fc_bytes(items[1:] + [{**items[0], "geometry": far}]),
                                              filename="far.geojson"), inputs=inputs)
    assert report.status == "ready" and items[0]["code"] not in report.imported_codes
    assert "far outside the district" in report.to_text()
    everything_far = [{**i, "geometry": shapely.affinity.translate(i["geometry"], xoff=3.0)} for i in items]
    assert_refused(capsys, geo, write(tmp_path, "elsewhere.geojson", fc_bytes(everything_far)),
                   "km from Songjiang District", "CRS")


@pytest.mark.slow  # a re-fit of its own (inputs no other test shares)
def test_invalid_geometry_is_repaired_and_listed(schematic, inputs):
    (t,) = pick(schematic, "叶榭镇")
    ring = list(t["geometry"].exterior.coords)
    bowtie = shapely.Polygon(ring[:-1] + [ring[len(ring) // 2], ring[0]])  # a self-touching return stroke
    assert not bowtie.is_valid
    report = plan_import(read_town_file(fc_bytes([{**t, "geometry": bowtie}]), filename="bad.geojson"),
                            inputs=inputs)
    assert report.repaired and "repaired with make_valid" in report.to_text()
    assert report.imported_codes == ["310117120"]


@pytest.mark.slow  # a re-fit of its own (inputs no other test shares)
def test_overlapping_imported_units_are_listed_and_resolved(schematic, inputs):
    a, b = pick(schematic, "泖港镇", "叶榭镇")
    grown = {**a, "geometry": a["geometry"].buffer(0.004)}  # ~400 m into its neighbours
    report = plan_import(read_town_file(fc_bytes([grown, b]), filename="ov.geojson"), inputs=inputs)
    assert report.overlaps and report.overlaps[0]["area_m2"] > 1e5
    assert "overlap" in report.to_text()
    assert report.result_overlap_m2 < 100.0 and report.result_symdiff_m2 < 1e-5 * inputs.outline_m.area


def test_html_and_script_in_attributes_stay_inert_text(tmp_path, geo, schematic, inputs, catalog):
    (t,) = pick(schematic, "泖港镇")
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    item = {"code": t["code"], "name_zh": evil, "source": evil, "geometry": t["geometry"]}
    path = write(tmp_path, "evil.geojson", fc_bytes([item], props=("code", "name_zh", "source")))
    before = snapshot(geo)
    report = plan_import(read_town_file(path), geodata_dir=geo, inputs=inputs)
    assert "HTML/script markup" in report.to_text() and "never rendered as HTML" in report.to_text()
    assert snapshot(geo) == before
    apply_import(report, geodata_dir=geo)
    towns = served_layer(geo, "towns")
    (hit,) = [f for f in towns if f["properties"]["code"] == t["code"]]
    assert hit["properties"]["source"] == evil and hit["properties"]["name_zh"] == "泖港镇"  # stored as text
    from layers.map.render import display_frame

    gdf = gpd.GeoDataFrame([f["properties"] for f in towns], geometry=[shape(f["geometry"]) for f in towns],
                           crs=settings.WGS84)
    shown = display_frame(catalog.layer("towns"), gdf)
    cell = shown.loc[shown["id"] == t["code"], "source"].iloc[0]
    assert "<script>" not in cell and "&lt;script&gt;" in cell


def test_an_unknown_format_and_a_missing_file_are_explained(tmp_path, geo, capsys):
    assert_refused(capsys, geo, write(tmp_path, "towns.csv", b"code,name\n"), "unsupported format .csv")
    code, text = run_cli(capsys, str(tmp_path / "nope.geojson"), "--geodata-dir", str(geo))
    assert code == 2 and "Cannot open nope.geojson" in text


def test_a_rejected_report_cannot_be_applied(schematic, inputs, geo):
    report = plan_import(read_town_file(fc_bytes(pick(schematic, *SOUTH) * 2), filename="d.geojson"),
                            inputs=inputs)
    assert report.rejected
    before = snapshot(geo)
    with pytest.raises(TownImportError, match="rejected, nothing was written"):
        apply_import(report, geodata_dir=geo)
    assert snapshot(geo) == before


@pytest.mark.slow  # the three southern towns' re-fit, shared only with other slow tests
def test_a_failing_rebuild_restores_the_previous_state(schematic, inputs, geo, monkeypatch):
    report = plan_import(read_town_file(fc_bytes(pick(schematic, *SOUTH)), filename="s.geojson"),
                            inputs=inputs)
    before = snapshot(geo)


    def boom(*_a, **_k):
        raise SongjiangMapError("simulated build failure")

    monkeypatch.setattr(imports_apply, "build_texts", boom)
    with pytest.raises(SongjiangMapError, match="simulated"):
        apply_import(report, geodata_dir=geo)
    assert snapshot(geo) == before and not (geo / "imports").exists() and open_store().version() == 0


def test_revert_without_an_import_just_rebuilds(geo, capsys):
    before = snapshot(geo)
    code, text = run_cli(capsys, "--revert", "--geodata-dir", str(geo))
    assert code == 0 and "no import to revert" in text
    assert snapshot(geo) == before


# ----------------------------------------------------------------------------------------- the Data page

def test_import_strings_exist_in_both_languages():
    keys = {lang: {k for k in table if k.startswith("imp_")} for lang, table in STRINGS.items()}
    assert keys["zh"] and keys["zh"] == keys["en"]


@pytest.fixture
def data_page_en():
    """The Data page in English, not yet run, with Streamlit's data caches empty before and after."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    at = AppTest.from_file(str(paths.PROJECT_DIR / "pages" / "4_数据_Data.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    yield at
    st.cache_data.clear()


@pytest.mark.slow  # AppTest runs of whole pages with every cache cleared
def test_the_data_page_shows_the_import_panel(data_page_en):
    at = data_page_en
    at.run()
    assert not at.exception, at.exception
    assert STRINGS["en"]["imp_title"] in [h.value for h in at.subheader]
    assert not [b for b in at.button if b.key == "imp_revert"]  # nothing to revert in the committed geodata


def test_the_revert_button_reverts_and_clears_the_caches(data_page_en, monkeypatch):
    at = data_page_en
    calls = []
    monkeypatch.setattr(app_import_panel, "read_history", lambda *a, **k: [] if calls else [
        Version(1, "apply", "2026-01-01T08:00:00+00:00", "me", "<b>x</b>.geojson", "ab" * 32, 3)])
    monkeypatch.setattr(app_import_panel, "revert_import", lambda *a, **k: calls.append((a, k)) or 2)
    monkeypatch.setattr(access, "_request", lambda: ("127.0.0.1", {"Host": "localhost:8501"}))
    at.run()
    assert any("currently imported" in i.value and "&lt;b&gt;" not in i.value and "\\<b\\>" in i.value
               for i in at.info)  # the file name from the import shows as escaped text
    at.button(key="imp_revert").click().run()
    assert not at.exception, at.exception
    assert calls == [((0,), {"who": "(browser on the server, 127.0.0.1)", "expect": 1})]
    assert any(STRINGS["en"]["imp_reverted"].split(":")[0] in s.value for s in at.success)


@pytest.mark.slow  # the three southern towns' re-fit, shared only with other slow tests
def test_the_units_table_is_labelled_in_both_languages(schematic, inputs):
    from layers.app.import_panel import import_units_table

    report = plan_import(read_town_file(fc_bytes(pick(schematic, *SOUTH)), filename="s.geojson"),
                            inputs=inputs)
    for lang in ("zh", "en"):
        table = import_units_table(report, lang)
        assert len(table) == 17 and STRINGS[lang]["imp_col_status"] in table.columns
        assert set(table[STRINGS[lang]["imp_col_status"]]) == {STRINGS[lang]["imp_imported"],
                                                               STRINGS[lang]["imp_schematic"]}


@pytest.mark.parametrize("value, allowed", [(None, True), ("", True), ("1", True), ("ON", True), (" yes ", True),
                                            ("0", False), ("off", False), ("of", False), ("false", False),
                                            ("<script>", False)])
def test_the_import_switch_reads_the_environment(value, allowed):
    env = {} if value is None else {settings.IMPORT_IN_APP_ENV: value}
    assert import_in_app_allowed(env) is allowed


def test_the_data_page_hides_the_import_panel_when_switched_off(data_page_en, monkeypatch):
    at = data_page_en
    monkeypatch.setenv(settings.IMPORT_IN_APP_ENV, "off")
    monkeypatch.setattr(app_import_panel, "read_history", lambda *a, **k: [
        Version(1, "apply", "2026-01-01T08:00:00+00:00", "me", "x.geojson", "ab" * 32, 3)])  # an import to revert
    monkeypatch.setattr(access, "_request", lambda: ("127.0.0.1", {"Host": "localhost:8501"}))
    at.run()
    assert not at.exception, at.exception
    assert STRINGS["en"]["imp_title"] in [h.value for h in at.subheader]
    assert any("switched off" in i.value and settings.IMPORT_IN_APP_ENV in i.value.replace("\\", "")
               for i in at.info)  # the message names the variable (markdown escapes its underscores)
    assert not [b for b in at.button if b.key in ("imp_revert", "imp_apply")]
    assert not [r for r in at.radio if r.key == "imp_accuracy"]
