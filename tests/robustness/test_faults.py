"""Faults: broken layer files, exports, imports and builds that fail half-way.

A missing, truncated or invalid layer file leaves the app running with the other layers and a message naming the
layer and the reason; a failed export or import leaves no partial file and geodata/ unchanged; a build interrupted
at any point leaves the previous layers byte for byte. Everything that writes works on temporary copies.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString, mapping, shape
from streamlit.testing.v1 import AppTest

from layers.build.pipeline import build_all
from layers.core import files as core_files
from layers.core import paths
from layers.core import store as core_store
from layers.core.crs import to_measure
from layers.core.errors import ExportError, StoreError, TownImportError
from layers.core.files import _stage_text
from layers.core.upload import read_town_file
from layers.export.download import export_download, export_layers
from layers.imports.apply import apply_import, revert_import
from layers.imports.plan import plan_import
from layers.map.load import load_layers

ROOT = paths.PROJECT_DIR
APP = str(ROOT / "app.py")
MAP_PAGE = str(ROOT / "pages" / "1_地图_Map.py")
LAYER_IDS = ("district", "towns", "zones", "structure", "rail_lines", "stations", "parks")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden temporary files included) → its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _clear_process_caches() -> None:
    import streamlit as st

    from layers.map import filters, state

    st.cache_data.clear()
    state.town_codes.cache_clear()
    filters._cached_options.cache_clear()


@pytest.fixture
def geo(geo, monkeypatch) -> Path:
    """The private copy of geodata/ (conftest), read by the app and the loaders instead of the real one."""
    monkeypatch.setattr(paths, "GEODATA_DIR", geo)
    _clear_process_caches()
    yield geo
    _clear_process_caches()


# ---------------------------------------------------------------------------------------------- layer faults

def _features(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _missing(path: Path) -> None:
    path.unlink()


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _invalid_json(path: Path) -> None:
    path.write_text('{"type": "FeatureCollection", "features": [ {,, } ]', encoding="utf-8")


def _wrong_crs(path: Path) -> None:
    """Coordinates in EPSG:4549 metres, as if the layer had been written unprojected back to WGS84."""
    data = _features(path)
    for feat in data["features"]:
        if feat["geometry"] is not None:
            feat["geometry"] = mapping(to_measure(shape(feat["geometry"])))
    _write(path, data)


def _wrong_geometry(path: Path) -> None:
    """Points where the catalogue expects lines or polygons (and lines where it expects points)."""
    data = _features(path)
    for feat in data["features"]:
        geom = shape(feat["geometry"])
        other = (LineString(geom.buffer(0.001).exterior.coords) if geom.geom_type == "Point"
                 else geom.representative_point())
        feat["geometry"] = mapping(other)
    _write(path, data)


FAULTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (_missing, "is missing; run `make data`"),
    "truncated": (_truncated, "cannot be read"),
    "invalid_json": (_invalid_json, "cannot be read"),
    "wrong_crs": (_wrong_crs, "outside Songjiang"),
    "wrong_geometry": (_wrong_geometry, "geometry, but the catalogue says"),
}
#: The catalogue's "mixed" layer takes any geometry type, so "wrong geometry" cannot apply to it.
MATRIX = [(layer, fault) for layer in LAYER_IDS for fault in FAULTS
          if not (layer == "structure" and fault == "wrong_geometry")]


def _break(geo: Path, layer_id: str, fault: str) -> str:
    """Apply ``fault`` to the layer's file; return the text the message must contain."""
    from layers.core.catalog import get_catalog

    breaker, message = FAULTS[fault]
    breaker(geo / get_catalog().layer(layer_id).file)
    return message


@pytest.mark.parametrize("layer_id, fault", MATRIX)
def test_a_broken_layer_is_named_with_its_reason_and_the_others_load(geo, layer_id, fault):
    message = _break(geo, layer_id, fault)
    loaded, errors = load_layers()
    assert list(errors) == [layer_id]
    assert repr(layer_id) in errors[layer_id] and message in errors[layer_id], errors[layer_id]
    assert set(loaded) == set(LAYER_IDS) - {layer_id}


@pytest.mark.parametrize("content, message", [
    ('{"type":"FeatureCollection","features":[]}', "has no features"),
    ('{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4549"}},"features":[]}',
     "declares a 'crs'"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"type":"FeatureCollection","features":[{"type":"Feature","id":"x","properties":{},'
     '"geometry":{"type":"Point","coordinates":[NaN,Infinity]}}]}', "not finite numbers"),
    ('{"type":"FeatureCollection","features":[{"type":"Feature","id":"x","properties":{},'
     '"geometry":{"type":"Polygon","coordinates":"not coordinates"}}]}', "cannot be read"),
    ('["a", "list"]', "cannot be read"),
    (b"\xff\xfe\x00 not utf-8".decode("latin-1"), "cannot be read"),
])
def test_other_damage_to_a_layer_file_gives_a_clear_message(geo, content, message):
    (geo / "parks.geojson").write_text(content, encoding="utf-8" if "not utf-8" not in content else "latin-1")
    loaded, errors = load_layers()
    assert list(errors) == ["parks"] and message in errors["parks"], errors
    assert len(loaded) == len(LAYER_IDS) - 1


def test_a_layer_without_a_field_the_catalogue_names_is_refused(geo):
    data = _features(geo / "stations.geojson")
    for feat in data["features"]:
        feat["properties"].pop("accuracy")
    _write(geo / "stations.geojson", data)
    _loaded, errors = load_layers()
    assert "lacks the fields ['accuracy']" in errors["stations"]


def _unescaped(markdown: str) -> str:
    """A warning's text without the backslashes ``ui.plain`` puts before markdown characters."""
    return markdown.replace("\\", "")


#: One fault per layer for the app runs (a full matrix there would take minutes).
APP_CASES = [("towns", "missing"), ("parks", "truncated"), ("rail_lines", "invalid_json"),
             ("stations", "wrong_crs"), ("zones", "wrong_geometry"), ("district", "truncated")]


@pytest.mark.parametrize("layer_id, fault", APP_CASES)
@pytest.mark.slow  # AppTest runs of whole pages with every cache cleared
def test_the_map_page_starts_shows_the_other_layers_and_says_what_failed(geo, layer_id, fault):
    message = _break(geo, layer_id, fault)
    at = AppTest.from_file(MAP_PAGE, default_timeout=90).run()
    assert not at.exception, at.exception
    warnings = [_unescaped(w.value) for w in at.warning]
    assert any(layer_id in w and message in w for w in warnings), warnings
    shown = at.session_state["map_summary"]["features"]
    assert set(shown) == set(LAYER_IDS) - {layer_id}
    assert all(n > 0 for n in shown.values())


@pytest.mark.parametrize("layer_id, fault", APP_CASES[:3])
@pytest.mark.slow  # AppTest runs of whole pages with every cache cleared
def test_the_home_page_starts_and_says_which_layer_failed(geo, layer_id, fault):
    _break(geo, layer_id, fault)
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not at.exception, at.exception
    assert any(layer_id in _unescaped(w.value) for w in at.warning)
    assert "松江规划地图" in at.title[0].value


@pytest.mark.slow  # AppTest runs of whole pages with every cache cleared
def test_every_page_runs_with_the_towns_layer_missing(geo):
    _break(geo, "towns", "missing")
    for page in sorted((ROOT / "pages").glob("*.py")):
        at = AppTest.from_file(str(page), default_timeout=90).run()
        assert not at.exception, (page.name, at.exception)


# ---------------------------------------------------------------------------------------------- exports

@pytest.fixture(scope="module")
def loaded():
    layers, errors = load_layers()
    assert not errors
    return layers


def _fail_on_call(n: int, real: Callable, exc: BaseException) -> Callable:
    """``real`` that raises ``exc`` on its ``n``-th call only."""
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise exc
        return real(*args, **kwargs)

    wrapper.calls = calls
    return wrapper


@pytest.mark.parametrize("fmt", ["geojson", "csv", "kml", "shp"])
@pytest.mark.slow  # writes exports in every format
def test_an_export_failing_while_renaming_its_files_into_place_leaves_the_folder_as_it_was(
        tmp_path, loaded, monkeypatch, fmt):
    out = tmp_path / "out"
    older = export_layers("all", fmt=fmt, crs=4326, out_dir=out, layers=loaded)  # an earlier export, same names
    (out / "notes.txt").write_text("kept", encoding="utf-8")
    before = snapshot(out)
    changed = {k: v.copy() for k, v in loaded.items()}
    changed["parks"]["name_en"] = "changed"  # so a half-renamed export would differ from the earlier one
    replace = _fail_on_call(3, os.replace, OSError(28, "No space left on device"))
    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(ExportError, match="nothing was written"):
        export_layers("all", fmt=fmt, crs=4326, out_dir=out, layers=changed)
    assert len(replace.calls) > 3  # the rollback ran
    main = [f for f in older if f.suffix in (".geojson", ".csv", ".kml", ".zip")]
    assert snapshot(out) == before and len(main) == (8 if fmt == "csv" else 7)  # CSV: structure's lines, polygons


def test_an_interrupted_gpkg_export_leaves_nothing(tmp_path, loaded, monkeypatch):
    write = _fail_on_call(4, pyogrio.write_dataframe, KeyboardInterrupt())
    monkeypatch.setattr(pyogrio, "write_dataframe", write)
    with pytest.raises(KeyboardInterrupt):
        export_layers("all", fmt="gpkg", crs=4549, out_dir=tmp_path, layers=loaded)
    assert list(tmp_path.iterdir()) == []


def test_a_kml_export_failing_on_a_later_layer_leaves_nothing(tmp_path, loaded, monkeypatch):
    write = _fail_on_call(5, pyogrio.write_dataframe, RuntimeError("GDAL: write error"))
    monkeypatch.setattr(pyogrio, "write_dataframe", write)
    with pytest.raises(ExportError, match="GDAL: write error"):
        export_layers("all", fmt="kml", crs=4326, out_dir=tmp_path, layers=loaded)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_download_in_the_app_leaves_no_temporary_files(tmp_path, loaded, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    write = _fail_on_call(2, pyogrio.write_dataframe, OSError("disk full"))
    monkeypatch.setattr(pyogrio, "write_dataframe", write)
    with pytest.raises(ExportError, match="disk full"):
        export_download(("rail_lines", "stations"), fmt="gpkg", crs=4326, layers=loaded)
    assert list(scratch.iterdir()) == []


# ---------------------------------------------------------------------------------------------- builds

@pytest.fixture
def built(tmp_path) -> Path:
    """A geodata folder holding a previous build that differs from what the build writes now (re-indented)."""
    out = tmp_path / "built"
    shutil.copytree(paths.GEODATA_DIR, out, ignore=shutil.ignore_patterns("imports", "sources", "curation"))
    for f in out.iterdir():
        f.write_text(json.dumps(json.loads(f.read_text(encoding="utf-8")), ensure_ascii=False, indent=2),
                     encoding="utf-8")
    return out


@pytest.mark.parametrize("after", [1, 4, 7])
@pytest.mark.slow  # a whole build
def test_a_build_interrupted_while_writing_leaves_the_previous_layers(built, monkeypatch, after):
    before = snapshot(built)
    stage = _fail_on_call(after + 1, _stage_text, KeyboardInterrupt())
    monkeypatch.setattr(core_files, "_stage_text", stage)
    with pytest.raises(KeyboardInterrupt):
        build_all(out_dir=built, copy=False)
    assert snapshot(built) == before  # byte for byte, and no temporary file left behind


@pytest.mark.parametrize("after", [1, 5])
@pytest.mark.slow  # a whole build
def test_a_build_failing_while_renaming_puts_every_previous_layer_back(built, monkeypatch, after):
    before = snapshot(built)
    replace = _fail_on_call(after + 1, os.replace, OSError(5, "Input/output error"))
    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="Input/output error"):
        build_all(out_dir=built, copy=False)
    assert snapshot(built) == before


@pytest.mark.slow  # two whole builds
def test_after_an_interrupted_build_the_next_one_completes(built, monkeypatch):
    monkeypatch.setattr(core_files, "_stage_text", _fail_on_call(3, _stage_text, KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        build_all(out_dir=built, copy=False)
    monkeypatch.undo()
    build_all(out_dir=built, copy=False)
    for f in built.iterdir():
        assert f.read_bytes() == (paths.GEODATA_DIR / f.name).read_bytes(), f.name


# ---------------------------------------------------------------------------------------------- imports

SOUTH = ("泖港镇", "叶榭镇", "新浜镇")


@pytest.fixture(scope="module")
def south_report():
    """A ready import of three schematic towns (re-fitted once for the module)."""
    towns = gpd.read_file(paths.GEODATA_DIR / "towns.geojson")
    picked = towns[towns["name_zh"].isin(SOUTH)][["code", "name_zh", "geometry"]]
    data = picked.to_json().encode("utf-8")
    report = plan_import(read_town_file(data, filename="south.geojson"), geodata_dir=paths.GEODATA_DIR)
    assert report.status == "ready", report.to_text()
    return report


def _fail_at(monkeypatch, step: str, exc: BaseException) -> None:
    """The store's transaction raises ``exc`` at ``step`` (``store-begun``: nothing written yet; ``store-written``:
    every row written, not committed)."""
    def point(name: str) -> None:
        if name == step:
            raise exc
    monkeypatch.setattr(core_store, "crash_point", point)


def _state(geo: Path, served) -> tuple[dict[str, bytes], int]:
    return served(geo), core_store.open_store().version()


@pytest.mark.slow  # an import applied: a re-fit and a whole rebuild
def test_an_import_whose_commit_fails_half_way_leaves_the_data_unchanged(geo, south_report, monkeypatch, served):
    before = _state(geo, served)
    _fail_at(monkeypatch, "store-written", OSError(28, "No space left on device"))
    with pytest.raises(StoreError, match="No space left"):
        apply_import(south_report, geodata_dir=geo)
    assert _state(geo, served) == before and before[1] == 0 and not (geo / "imports").exists()


@pytest.mark.slow  # an import applied: a re-fit and a whole rebuild
def test_an_import_failing_in_its_transaction_keeps_the_previous_import(geo, south_report, monkeypatch, served):
    apply_import(south_report, geodata_dir=geo)  # the previous import, applied and built
    before = _state(geo, served)
    report = plan_import(read_town_file(
        gpd.read_file(paths.GEODATA_DIR / "towns.geojson").query("name_zh == '泖港镇'")[["code", "geometry"]]
        .to_json().encode(), filename="one.geojson"), geodata_dir=geo)
    _fail_at(monkeypatch, "store-begun", OSError(122, "Disk quota exceeded"))
    with pytest.raises(StoreError, match="quota"):
        apply_import(report, geodata_dir=geo)
    assert _state(geo, served) == before and before[1] == 1


@pytest.mark.slow  # an import applied: a re-fit and a whole rebuild
def test_a_revert_whose_commit_fails_keeps_the_import_and_the_layers(geo, south_report, monkeypatch, served):
    apply_import(south_report, geodata_dir=geo)
    before = _state(geo, served)
    _fail_at(monkeypatch, "store-written", OSError(30, "Read-only file system"))
    with pytest.raises(StoreError, match="Read-only"):
        revert_import(geodata_dir=geo)
    assert _state(geo, served) == before and core_store.open_store().layer_names()


@pytest.mark.filterwarnings("ignore:GPKG. bad application_id")
def test_a_refused_file_leaves_no_temporary_files(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(TownImportError, match="GDAL cannot"):
        read_town_file(b"SQLite format 3\x00" + b"\x00" * 4000, filename="broken.gpkg")
    with pytest.raises(TownImportError, match="not valid JSON"):
        read_town_file(b'{"type": "FeatureCollection", "features": [', filename="cut.geojson")
    assert list(scratch.iterdir()) == []
