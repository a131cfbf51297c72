"""OpenStreetMap refresh: a recorded Overpass answer (built here, at test time, from the reference fixture) goes
through the import path as ``osm``; offline and server errors stop with a clear message. No test touches the
network: sockets are blocked for the whole module."""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Polygon, shape

from layers.__main__ import main as cli_main
from layers.core import settings
from layers.core.crs import to_measure
from layers.core.errors import OsmRefreshError
from layers.core.store import open_store, served_text
from layers.imports import osm as imports_osm
from layers.imports.osm import boundaries_from_overpass, fetch_overpass, overpass_query, refresh_osm

REFERENCE = "osm_towns_10_wgs84.geojson"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*_a, **_k):
        raise OSError("network access is blocked in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _ways(ring, role: str, pieces: int = 3) -> list[dict]:
    """A ring cut into ``pieces`` ways sharing their end nodes, as Overpass ``out geom`` gives them."""
    coords = list(ring.coords)
    cuts = [round(i * (len(coords) - 1) / pieces) for i in range(pieces + 1)]
    return [{"type": "way", "ref": 1000 + i, "role": role,
             "geometry": [{"lat": y, "lon": x} for x, y in coords[cuts[i]:cuts[i + 1] + 1]]} for i in range(pieces)]


def _relation(rel_id: int, name: str, geom) -> dict:
    members = [{"type": "node", "ref": 1, "role": "admin_centre", "lat": 31.0, "lon": 121.2}]
    for poly in shapely.get_parts(geom):
        members += _ways(poly.exterior, "outer")
        for hole in poly.interiors:
            members += _ways(hole, "inner", pieces=2)
    return {"type": "relation", "id": rel_id, "members": members,
            "tags": {"boundary": "administrative", "admin_level": "8", "name": name, "name:zh": name}}


@pytest.fixture
def recorded(reference_dir) -> dict:
    """An Overpass answer replayed from the reference boundaries (built now, never stored in the project)."""
    ref = json.loads((reference_dir / REFERENCE).read_text(encoding="utf-8"))
    elements = [_relation(int(f["properties"]["osm_relation"]), f["properties"]["name_zh"], shape(f["geometry"]))
                for f in ref["features"]]
    # A neighbouring district's town shares border ways, so Overpass returns it too.
    elements.append(_relation(1, "赵巷镇", Polygon([(121.15, 31.16), (121.22, 31.16), (121.22, 31.22),
                                                  (121.15, 31.22)])))
    elements.append({"type": "node", "id": 5, "lat": 31.0, "lon": 121.2})
    return {"version": 0.6, "generator": "recorded for tests", "elements": elements}


@pytest.mark.slow  # an OSM import applied: a re-fit and a whole rebuild
def test_refresh_replays_a_recorded_answer_through_the_import_path(recorded, reference_dir, geo, monkeypatch):
    queries = []
    monkeypatch.setattr(imports_osm, "fetch_overpass", lambda q, **k: queries.append(q) or recorded)
    report = refresh_osm(geodata_dir=geo)
    assert "松江区" in queries[0] and "admin_level" in queries[0]
    assert report.status == "ready", report.to_text()
    assert len(report.imported_codes) == 10 and report.accuracy == "osm"
    assert report.unmatched == ["赵巷镇"]
    towns = {f["properties"]["code"]: f for f in json.loads(served_text("towns.geojson", geodata_dir=geo))["features"]}
    ref = {f["properties"]["code"]: f for f in json.loads((reference_dir / REFERENCE).read_text())["features"]}
    for code, f in ref.items():
        p = towns[code]["properties"]
        assert p["accuracy"] == "osm" and "ODbL" in p["licence"]
        assert f"OpenStreetMap relation {f['properties']['osm_relation']}" in p["source"]
        a, b = to_measure(shape(f["geometry"])), to_measure(shape(towns[code]["geometry"]))
        assert a.symmetric_difference(b).area < 0.03 * a.area
    assert sum(t["properties"]["accuracy"] == "schematic" for t in towns.values()) == 7


def test_relations_are_assembled_from_their_ways_with_holes():
    outer = Polygon([(121.1, 31.0), (121.2, 31.0), (121.2, 31.1), (121.1, 31.1)],
                    holes=[[(121.14, 31.04), (121.16, 31.04), (121.16, 31.06), (121.14, 31.06)]])
    frame = boundaries_from_overpass({"elements": [_relation(7, "测试镇", outer)]}, fetched="2026-01-01")
    got = frame.geometry.iloc[0]
    assert got.geom_type == "Polygon" and len(got.interiors) == 1
    assert got.symmetric_difference(outer).area < 1e-12
    assert frame["osm_relation"].iloc[0] == "7" and "fetched 2026-01-01" in frame["source"].iloc[0]


def test_refresh_dry_run_writes_nothing(recorded, geo, monkeypatch, capsys):
    monkeypatch.setattr(imports_osm, "fetch_overpass", lambda q, **k: recorded)
    before = snapshot(geo)
    assert cli_main(["refresh-osm", "--dry-run", "--geodata-dir", str(geo)]) == 0
    out = capsys.readouterr().out
    assert "Dry run: nothing was written." in out and "10 unit(s) imported as osm" in out
    assert snapshot(geo) == before


def test_offline_stops_with_a_clear_message_and_exit_code_2(geo, monkeypatch, capsys):
    def offline(*_a, **_k):
        raise urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    before = snapshot(geo)
    assert cli_main(["refresh-osm", "--geodata-dir", str(geo)]) == 2
    err = capsys.readouterr().err
    assert "Cannot reach the Overpass API" in err and "needs internet access" in err
    assert "import-towns FILE" in err and "Nothing was changed." in err
    assert snapshot(geo) == before


def test_the_network_guard_itself_becomes_the_offline_message(geo):
    # With sockets blocked, the real fetch function fails the way an offline machine does.
    with pytest.raises(OsmRefreshError, match="Cannot reach the Overpass API"):
        fetch_overpass(overpass_query(), timeout=1)


def test_a_busy_server_and_a_garbled_answer_are_explained(monkeypatch):
    def busy(*_a, **_k):
        raise urllib.error.HTTPError(settings.OVERPASS_URL, 429, "Too Many Requests", {}, None)

    monkeypatch.setattr(urllib.request, "urlopen", busy)
    with pytest.raises(OsmRefreshError, match="HTTP 429"):
        fetch_overpass("q")

    class Answer:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def read(self):
            return b"<html>rate limited</html>"

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: Answer())
    with pytest.raises(OsmRefreshError, match="not JSON"):
        fetch_overpass("q")


def test_an_answer_without_boundaries_changes_nothing(geo, monkeypatch):
    monkeypatch.setattr(imports_osm, "fetch_overpass", lambda q, **k: {"elements": []})
    before = snapshot(geo)
    with pytest.raises(OsmRefreshError, match="no admin boundary"):
        refresh_osm(geodata_dir=geo)
    assert snapshot(geo) == before and open_store().version() == 0
