"""Deterministic RFC 7946 GeoJSON: rounded WGS84 coordinates, counter-clockwise exteriors, no ``crs`` member."""
from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from layers.core.settings import COORD_DECIMALS, GRID_SIZE


def clean_geometry(geom: BaseGeometry) -> BaseGeometry:
    """Snap to the 1e-6 degree grid, repair, and orient exteriors counter-clockwise (RFC 7946 §3.1.6).

    Snapping with one grid for every layer keeps shared vertices identical, so neighbouring
    polygons still tile exactly after rounding.
    """
    try:
        geom = shapely.set_precision(geom, GRID_SIZE)
    except shapely.errors.GEOSException:
        # An overlay result GEOS cannot snap as is (e.g. a hole it cannot place): repair first, then snap.
        geom = shapely.set_precision(shapely.make_valid(geom), GRID_SIZE)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        geom = shapely.orient_polygons(geom, exterior_cw=False)
    return geom


#: Geometry type → the family a file, a style or a measure treats alike.
_FAMILIES = {"Point": "point", "MultiPoint": "point", "LineString": "line", "MultiLineString": "line",
             "LinearRing": "line", "Polygon": "polygon", "MultiPolygon": "polygon"}


def geometry_family(geom_type: str | None) -> str | None:
    """"point", "line" or "polygon" for a (multi) geometry type; None for anything else (collections, None)."""
    return _FAMILIES.get(geom_type) if geom_type else None


def _round_coords(obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), COORD_DECIMALS) + 0.0 for v in obj]
        return [_round_coords(o) for o in obj]
    return obj


def _clean_value(value: Any) -> Any:
    # NaN is not valid JSON; a missing statistic is written as null, never guessed.
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        return _clean_value(value.item())
    return value


def feature(geom: BaseGeometry | None, properties: dict[str, Any]) -> dict[str, Any]:
    """Return a GeoJSON Feature dict; ``properties['id']`` becomes the feature's ``id`` too."""
    geometry = None
    if geom is not None and not geom.is_empty:
        geometry = mapping(clean_geometry(geom))
        geometry = {"type": geometry["type"], "coordinates": _round_coords(geometry["coordinates"])}
    props = {k: _clean_value(v) for k, v in properties.items()}
    return {"type": "Feature", "id": props.get("id"), "properties": props, "geometry": geometry}


def feature_collection_text(features: Iterable[dict[str, Any]], *, name: str | None = None) -> str:
    """Serialise features as a FeatureCollection, one feature per line, UTF-8 text, no ``crs``."""
    head = {"type": "FeatureCollection"}
    if name:
        head["name"] = name
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":"), allow_nan=False) for f in features]
    body = ",\n".join(lines)
    head_text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    return f'{head_text},"features":[\n{body}\n]}}\n'
