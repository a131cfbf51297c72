"""What lies at a point of the map (click-identify), and the names the map writes on itself (labels).

Answers say how they know: a town or zone found from the schematic cells is marked approximate; distances to
stations are measured in EPSG:4549.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import Point

from layers.core.catalog import Catalog, get_catalog
from layers.core.crs import to_measure, wgs84_to_gcj02
from layers.map.elements import safe_text

#: Stations listed by distance after a click.
NEAREST_STATIONS = 3
#: A park point counts as "here" within its uncertainty radius, or at least this far (m).
PARK_REACH_M = 400.0
#: A structure line (the development axis) counts as "here" within this distance (m).
LINE_REACH_M = 500.0
#: Station names are written on the map from this zoom level on (town names always).
STATION_LABEL_MIN_ZOOM = 13


@dataclass(frozen=True)
class Hit:
    """One answer to "what is here": the layer, the feature's name, a detail, and whether it is approximate."""

    layer: str
    name: str
    detail: str = ""
    approximate: bool = False
    distance_m: float | None = None


def _name(row: Mapping[str, Any], lang: str) -> str:
    return str(row.get(f"name_{lang}") or row.get("name_zh") or row.get("id") or "")


def identify(layers: Mapping[str, gpd.GeoDataFrame], lon: float, lat: float, *, lang: str = "zh",
             catalog: Catalog | None = None) -> list[Hit]:
    """Everything at (``lon``, ``lat``) (WGS84): the town, zone and structure elements containing it, parks within
    reach, and the nearest stations with their distance. Empty outside every layer."""
    catalog = catalog or get_catalog()
    here = Point(lon, lat)
    here_m = to_measure(here)
    hits: list[Hit] = []
    for layer_id in ("towns", "zones", "structure"):
        gdf = layers.get(layer_id)
        if gdf is None or gdf.empty:
            continue
        for row, geom in zip(gdf.to_dict("records"), gdf.geometry):
            if geom is None:
                continue
            inside = geom.covers(here) if geom.geom_type.endswith("Polygon") else \
                to_measure(geom).distance(here_m) <= LINE_REACH_M
            if inside:
                detail = catalog.value_label("element", row["element"], lang) if row.get("element") else ""
                hits.append(Hit(layer_id, _name(row, lang), detail, row.get("accuracy") == "schematic"))
    parks = layers.get("parks")
    if parks is not None and not parks.empty:
        for row, geom in zip(parks.to_dict("records"), parks.geometry):
            if geom is None:
                continue
            reach = max(float(row.get("accuracy_m") or 0.0), PARK_REACH_M)
            distance = to_measure(geom).distance(here_m)
            if distance <= reach:
                detail = catalog.value_label("kind", row["kind"], lang) if row.get("kind") else ""
                hits.append(Hit("parks", _name(row, lang), detail, row.get("accuracy") != "osm", round(distance)))
    stations = layers.get("stations")
    if stations is not None and not stations.empty:
        distances = [(to_measure(g).distance(here_m), i) for i, g in enumerate(stations.geometry) if g is not None]
        records = stations.to_dict("records")
        for distance, i in sorted(distances)[:NEAREST_STATIONS]:
            row = records[i]
            hits.append(Hit("stations", _name(row, lang), str(row.get("lines") or ""), False, round(distance)))
    return hits


def map_labels(layers: Mapping[str, gpd.GeoDataFrame], *, lang: str = "zh", gcj02: bool = False
               ) -> list[dict[str, Any]]:
    """Labels for the in-page map: town names (always) and station names (from a zoom level on), with a priority
    so the map drops the less important one where two would collide, and the feature's layer and id, so a name
    hides with its feature. Names are escaped (they go in as HTML)."""
    out: list[dict[str, Any]] = []
    specs = (("towns", "town", 0, 2), ("stations", "station", STATION_LABEL_MIN_ZOOM, 1))
    for layer_id, kind, min_zoom, priority in specs:
        gdf = layers.get(layer_id)
        if gdf is None or gdf.empty:
            continue
        points = shapely.point_on_surface(gdf.geometry.values)
        for row, point in zip(gdf.to_dict("records"), points):
            if point is None or point.is_empty:
                continue
            x, y = (point.x, point.y)
            if gcj02:
                gx, gy = wgs84_to_gcj02(x, y)
                x, y = float(gx), float(gy)
            out.append({"text": safe_text(_name(row, lang)), "lat": round(y, 6), "lon": round(x, 6), "kind": kind,
                        "minZoom": min_zoom, "priority": priority, "layer": layer_id,
                        "id": safe_text(row.get("id", ""))})
    return out
