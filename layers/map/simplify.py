"""Display copies of the polygon layers: towns simplified as one coverage (no gaps or overlaps between
neighbours), zones and the district outline re-dissolved from those simplified towns so every edge agrees.

Files, filters, statistics and exports keep the full geometry; only what is drawn is simplified.
"""
from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import shapely
from shapely.ops import unary_union

from layers.core import settings
from layers.core.geojson import clean_geometry


def simplify_towns(towns: gpd.GeoDataFrame, *, tolerance_m: float = settings.DISPLAY_SIMPLIFY_M) -> gpd.GeoSeries:
    """Towns simplified together in EPSG:4549 (``shapely.coverage_simplify``: shared edges stay shared).

    Returns the WGS84 geometries, indexed like ``towns``.
    """
    metric = towns.geometry.to_crs(settings.MEASURE_CRS)
    simplified = shapely.coverage_simplify(np.asarray(metric.values, dtype=object), tolerance_m,
                                           simplify_boundary=True)
    out = gpd.GeoSeries(simplified, index=towns.index, crs=settings.MEASURE_CRS).to_crs(settings.WGS84)
    return out.apply(clean_geometry)


def display_copies(layers: Mapping[str, gpd.GeoDataFrame], *,
                   tolerance_m: float = settings.DISPLAY_SIMPLIFY_M) -> dict[str, gpd.GeoDataFrame]:
    """Layer id → a copy for drawing. Towns are simplified as a coverage; zones (by ``member_codes``) and the
    district are dissolves of the simplified towns; other layers are returned unchanged.

    Without a towns layer nothing is simplified (a lone polygon simplified by itself would no longer meet
    its neighbours).
    """
    out = dict(layers)
    towns = layers.get("towns")
    if towns is None or towns.empty:
        return out
    simple = simplify_towns(towns, tolerance_m=tolerance_m)
    by_code = dict(zip(towns["id"].astype(str), simple))
    out["towns"] = towns.set_geometry(simple.values)
    zones = layers.get("zones")
    if zones is not None and "member_codes" in zones.columns:
        geoms = []
        for original, members in zip(zones.geometry, zones["member_codes"]):
            codes = [c.strip() for c in str(members or "").split(",") if c.strip()]
            parts = [by_code[c] for c in codes if c in by_code]
            geoms.append(clean_geometry(unary_union(parts)) if parts and len(parts) == len(codes) else original)
        out["zones"] = zones.set_geometry(geoms, crs=zones.crs)
    district = layers.get("district")
    if district is not None and len(district) == 1:
        out["district"] = district.set_geometry([clean_geometry(unary_union(list(simple)))], crs=district.crs)
    return out


def with_display_geometry(shown: Mapping[str, gpd.GeoDataFrame], display: Mapping[str, gpd.GeoDataFrame]
                          ) -> dict[str, gpd.GeoDataFrame]:
    """The (filtered) layers ``shown`` with each feature's geometry taken from ``display`` by id."""
    out = {}
    for layer_id, frame in shown.items():
        copy = display.get(layer_id)
        if copy is None or copy is frame or frame.empty:
            out[layer_id] = frame
            continue
        lookup = dict(zip(copy["id"].astype(str), copy.geometry))
        geoms = [lookup.get(str(i), g) for i, g in zip(frame["id"], frame.geometry)]
        out[layer_id] = frame.set_geometry(geoms, crs=frame.crs)
    return out
