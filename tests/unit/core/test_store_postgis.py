"""The PostgreSQL store keeps the boundaries as PostGIS geometry a GIS client can open: ``ws_towns`` (the towns layer
in force) and ``ws_boundaries`` (each version's imported units) are MultiPolygons in SRID 4326 with a GiST index, and
their area in EPSG:4549 is the area the app measures."""
from __future__ import annotations

import json
import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
import shapely

from layers.core import paths, settings
from layers.core.crs import to_measure
from layers.core.store import STORE_TABLES, open_store, served_text
from layers.imports.apply import import_towns, revert_import

pytestmark = pytest.mark.slow  # a PostgreSQL server: `make test` only

IMPORTED = ("泖港镇", "叶榭镇")


@pytest.fixture
def pg(pg_url, geo, monkeypatch):
    """An empty PostgreSQL store (with a private copy of geodata/ as the baseline): a psycopg connection to it."""
    import psycopg

    monkeypatch.setenv(settings.DATABASE_URL_ENV, pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS " + ", ".join(STORE_TABLES))
        yield conn


def _app_areas(geo) -> dict[str, float]:
    """code → area (m²) of the towns the app serves, measured as the app does (EPSG:4549)."""
    features = json.loads(served_text("towns.geojson", geodata_dir=geo))["features"]
    return {f["properties"]["code"]: to_measure(shapely.geometry.shape(f["geometry"])).area for f in features}


def _postgis_areas(conn, table: str, where: str = "TRUE") -> dict[str, float]:
    rows = conn.execute(f"SELECT code, ST_Area(ST_Transform(geom, 4549)) FROM {table} WHERE {where}").fetchall()
    return {code: area for code, area in rows}


def _assert_within_0_1_percent(stored: dict[str, float], app: dict[str, float]) -> None:
    assert stored.keys() == app.keys()
    worst = max(abs(stored[c] - app[c]) / app[c] for c in app)
    print(f"worst relative area difference PostGIS / app: {worst:.2e}")
    assert worst < 0.001


def _gdal_connection(url: str) -> str:
    """GDAL's ``PG:`` connection string for a ``postgresql://user@/db?host=…&port=…`` URL (QGIS takes the same)."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return (f"PG:dbname={parts.path.lstrip('/')} user={parts.username} host={query.get('host', parts.hostname)} "
            f"port={query.get('port', parts.port or 5432)}")


def test_the_towns_are_postgis_multipolygons_in_4326_with_the_apps_areas(pg, pg_url, geo, tmp_path):
    import geopandas as gpd

    towns = gpd.read_file(paths.GEODATA_DIR / "towns.geojson")
    src = tmp_path / "south.geojson"
    src.write_text(towns[towns["name_zh"].isin(IMPORTED)][["code", "name_zh", "geometry"]].to_json())
    report = import_towns(src, geodata_dir=geo)
    assert not report.rejected and open_store().version() == 1

    for table in ("ws_towns", "ws_boundaries"):
        column = pg.execute("SELECT type, srid, coord_dimension FROM geometry_columns "
                            "WHERE f_table_name = %s AND f_geometry_column = 'geom'", (table,)).fetchone()
        assert column == ("MULTIPOLYGON", 4326, 2), table
        index = pg.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE '%%USING gist%%'",
                           (table,)).fetchone()
        assert index and "(geom)" in index[0], table
    kinds = pg.execute("SELECT DISTINCT GeometryType(geom), ST_SRID(geom), bool_and(ST_IsValid(geom)) "
                       "FROM ws_towns GROUP BY 1, 2").fetchall()
    assert kinds == [("MULTIPOLYGON", 4326, True)]

    app = _app_areas(geo)
    assert len(app) == 17
    _assert_within_0_1_percent(_postgis_areas(pg, "ws_towns"), app)
    accuracy = dict(pg.execute("SELECT name_zh, accuracy FROM ws_towns").fetchall())
    assert {accuracy[n] for n in IMPORTED} == {"authoritative"} and accuracy["新浜镇"] == "schematic"
    imported = _postgis_areas(pg, "ws_boundaries", "version = 1")
    assert len(imported) == 2
    _assert_within_0_1_percent(imported, {c: a for c, a in app.items() if c in imported})

    if shutil.which("ogrinfo"):  # GDAL's PostgreSQL driver, as QGIS uses it, sees a 4326 MultiPolygon layer
        info = subprocess.run(["ogrinfo", "-ro", "-so", _gdal_connection(pg_url), "ws_towns"], capture_output=True,
                              text=True, timeout=60)
        assert "Geometry: Multi Polygon" in info.stdout and "Feature Count: 17" in info.stdout, info.stderr
        assert 'ID["EPSG",4326]' in info.stdout

    assert revert_import(0, geodata_dir=geo) == 2  # the schematic towns again: the table follows, history stays
    assert open_store().layer_names() == []
    _assert_within_0_1_percent(_postgis_areas(pg, "ws_towns"), _app_areas(geo))
    assert set(dict(pg.execute("SELECT name_zh, accuracy FROM ws_towns").fetchall()).values()) == {"schematic"}
    assert pg.execute("SELECT array_agg(DISTINCT version) FROM ws_boundaries").fetchone()[0] == [1]
