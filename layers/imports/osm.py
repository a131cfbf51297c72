"""Refresh town boundaries from OpenStreetMap (``python -m layers refresh-osm``), through the import path.

The units' admin boundaries are fetched with one Overpass API request (plain HTTP: osmnx is not needed for a
single query), assembled into polygons, then matched, validated and applied by :mod:`layers.import_towns` with
``accuracy = osm``. :func:`fetch_overpass` is the only function that touches the network (tests replace it).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import LineString

from layers.core import paths, settings
from layers.core.errors import OsmRefreshError
from layers.core.geojson import feature, feature_collection_text
from layers.core.upload import read_town_file
from layers.imports.apply import apply_import, report_and_apply
from layers.imports.plan import plan_import
from layers.imports.report import ImportReport

OSM_LICENCE = "ODbL-1.0, © OpenStreetMap contributors"
USER_AGENT = "songjiang-planning-map (python -m layers refresh-osm)"


def overpass_query(district: str = settings.OSM_DISTRICT_NAME, *, timeout: int = settings.OVERPASS_TIMEOUT_S) -> str:
    """Overpass QL for the township-level admin boundaries (admin_level 7-8) inside ``district``."""
    return (f'[out:json][timeout:{timeout}];'
            f'rel["boundary"="administrative"]["admin_level"="6"]["name"="{district}"];map_to_area->.d;'
            f'rel(area.d)["boundary"="administrative"]["admin_level"~"^(7|8)$"];out geom;')


def fetch_overpass(query: str, *, url: str = settings.OVERPASS_URL,
                   timeout: float = settings.OVERPASS_TIMEOUT_S) -> dict[str, Any]:
    """POST ``query`` to the Overpass API and return the decoded JSON.

    Raises
    ------
    OsmRefreshError
        No network, a timeout, an HTTP error or an answer that is not JSON.
    """
    body = urllib.parse.urlencode({"data": query}).encode()
    request = urllib.request.Request(url, data=body, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise OsmRefreshError(f"The Overpass API ({url}) answered HTTP {exc.code} ({exc.reason}): it may be busy; "
                              f"try again later. Nothing was changed.") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OsmRefreshError(f"Cannot reach the Overpass API ({url}): {reason}. The OpenStreetMap refresh needs "
                              f"internet access; check the connection or proxy, or import a boundary file with "
                              f"`python -m layers import-towns FILE`. Nothing was changed.") from exc
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OsmRefreshError(f"The Overpass API's answer is not JSON ({exc}); try again later. Nothing was "
                              f"changed.") from exc


def _relation_polygon(members: list[dict[str, Any]]) -> shapely.Geometry:
    """Outer minus inner rings of a relation answered with ``out geom`` (ways carry their coordinates)."""
    lines: dict[str, list[LineString]] = {"outer": [], "inner": []}
    for m in members:
        if m.get("type") != "way" or len(m.get("geometry") or []) < 2:
            continue
        role = "inner" if m.get("role") == "inner" else "outer"
        lines[role].append(LineString([(p["lon"], p["lat"]) for p in m["geometry"]]))

    def faces(parts: list[LineString]) -> shapely.Geometry:
        if not parts:
            return shapely.Polygon()
        noded = shapely.get_parts(shapely.union_all(parts))
        return shapely.union_all(shapely.get_parts(shapely.polygonize(noded)))

    return faces(lines["outer"]).difference(faces(lines["inner"]))


def boundaries_from_overpass(data: dict[str, Any], *, fetched: str | None = None) -> gpd.GeoDataFrame:
    """Admin boundary relations of an Overpass answer as a WGS84 GeoDataFrame (name, name_zh, name_en, osm_relation).

    Raises
    ------
    OsmRefreshError
        The answer holds no boundary relation with a closed outline.
    """
    fetched = fetched or dt.date.today().isoformat()
    rows, geoms = [], []
    for el in data.get("elements", []):
        if el.get("type") != "relation":
            continue
        geom = _relation_polygon(el.get("members", []))
        if geom.is_empty:
            continue
        tags = el.get("tags", {})
        rows.append({"osm_relation": str(el["id"]), "name": tags.get("name", ""),
                     "name_zh": tags.get("name:zh", tags.get("name", "")), "name_en": tags.get("name:en", ""),
                     "admin_level": tags.get("admin_level", ""),
                     "source": f"OpenStreetMap relation {el['id']} (Overpass API, fetched {fetched})",
                     "licence": OSM_LICENCE})
        geoms.append(geom)
    if not rows:
        raise OsmRefreshError("The Overpass answer holds no admin boundary with a closed outline: OpenStreetMap may "
                              "have changed, or the request was cut short; nothing was changed.")
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=settings.WGS84)


def refresh_osm(*, dry_run: bool = False, force: bool = False, geodata_dir: Path = paths.GEODATA_DIR) -> ImportReport:
    """Fetch the boundaries from OpenStreetMap and import them with ``accuracy = osm`` (unless ``dry_run``).

    The answer goes through the same reader as a user's file (written as GeoJSON in memory), so it is checked
    the same way. Raises :class:`OsmRefreshError` when offline.
    """
    data = fetch_overpass(overpass_query())
    frame = boundaries_from_overpass(data)
    cols = [c for c in frame.columns if c != "geometry"]
    text = feature_collection_text(feature(g, dict(zip(cols, row))) for g, row in
                                   zip(frame.geometry, frame[cols].itertuples(index=False, name=None)))
    gdf = read_town_file(text.encode("utf-8"), filename="openstreetmap_overpass.geojson")
    report = plan_import(gdf, accuracy="osm", geodata_dir=geodata_dir)
    if not dry_run and not report.rejected:
        apply_import(report, geodata_dir=geodata_dir, force=force)
    return report


def _cmd_refresh_osm(args: argparse.Namespace) -> int:
    geodata_dir = Path(args.geodata_dir) if args.geodata_dir else paths.GEODATA_DIR
    report = refresh_osm(dry_run=True, geodata_dir=geodata_dir)
    return report_and_apply(report, dry_run=args.dry_run, force=args.force, geodata_dir=geodata_dir)


def add_command(sub: argparse._SubParsersAction) -> None:
    """Register ``refresh-osm``."""
    p = sub.add_parser("refresh-osm", help="fetch the towns' boundaries from OpenStreetMap and import them",
                       description="Fetch the township-level admin boundaries of Songjiang from OpenStreetMap "
                                   "(Overpass API, needs internet) and import them with accuracy=osm.")
    p.add_argument("--dry-run", action="store_true", help="print the validation report; write nothing")
    p.add_argument("--force", action="store_true", help="apply despite findings that need confirmation")
    p.add_argument("--geodata-dir", help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_refresh_osm)
