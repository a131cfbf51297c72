"""A planner's own vector file shown over the plan layers (never saved), with a summary of it per town."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.validation import make_valid

from layers.core import settings
from layers.core.errors import SongjiangMapError, UserLayerError
from layers.core.geojson import geometry_family
from layers.core.i18n import t
from layers.core.upload import read_town_file
from layers.core.worker import Limits, run_bounded

#: The kinds of geometry a summary can measure, and what it measures for each.
MEASURES = {"point": "count", "line": "length_km", "polygon": "area_km2"}


def _finite(geom: Any) -> bool:
    coords = shapely.get_coordinates(geom)
    return bool(len(coords)) and bool(np.isfinite(coords).all())


def read_user_layer(source: Any, *, filename: str | None = None, crs: str | int | None = None,
                    max_bytes: int = settings.USER_LAYER_MAX_BYTES) -> gpd.GeoDataFrame:
    """Read an uploaded vector file for display (WGS84), refusing what cannot be drawn safely.

    Accepts what the boundary import reads (GeoJSON, GeoPackage, zipped Shapefile, KML), with the same checks
    (size before parsing, safe zips, CRS required, lat/lon order). Then: geometry collections are split, invalid
    geometry repaired with ``make_valid``, features with no geometry or NaN/inf coordinates dropped (counted in
    ``attrs["dropped"]``), and files over :data:`settings.USER_LAYER_MAX_FEATURES` features or
    :data:`settings.USER_LAYER_MAX_VERTICES` vertices refused.

    Raises
    ------
    UserLayerError
        With the reason; nothing is kept.
    """
    try:
        gdf = read_town_file(source, filename=filename, crs=crs, max_bytes=max_bytes)
    except UserLayerError:
        raise
    except SongjiangMapError as exc:
        refused = UserLayerError(str(exc))
        refused.key, refused.params = exc.key, exc.params  # the kind of failure, worded in the page's language
        raise refused from exc
    name = gdf.attrs.get("file_name", filename or "the file")
    if len(gdf) > settings.USER_LAYER_MAX_FEATURES:
        raise UserLayerError(f"{name} has {len(gdf):,} features; the map shows at most "
                             f"{settings.USER_LAYER_MAX_FEATURES:,}. Clip it to Songjiang or simplify it first.")
    geoms = gdf.geometry.explode(index_parts=False) if len(gdf) else gdf.geometry
    vertices = int(shapely.get_num_coordinates(np.asarray(geoms.values, dtype=object)).sum()) if len(gdf) else 0
    if vertices > settings.USER_LAYER_MAX_VERTICES:
        raise UserLayerError(f"{name} has {vertices:,} vertices; the map draws at most "
                             f"{settings.USER_LAYER_MAX_VERTICES:,}. Simplify it first (e.g. in QGIS).")
    drawable = np.array([g is not None and not g.is_empty and _finite(g) for g in gdf.geometry], dtype=bool)
    dropped = int((~drawable).sum())
    gdf = gdf[drawable].explode(index_parts=False).reset_index(drop=True)
    keep, fixed, geometries = [], 0, []
    for geom in gdf.geometry:
        if not geom.is_valid:
            geom = make_valid(geom)
            fixed += 1
        ok = not geom.is_empty and geometry_family(geom.geom_type) is not None
        keep.append(ok)
        geometries.append(geom if ok else None)
    out = gdf.set_geometry(geometries, crs=settings.WGS84)[np.array(keep, dtype=bool)].reset_index(drop=True)
    dropped += len(keep) - sum(keep)
    if out.empty:
        raise UserLayerError(f"{name} has no drawable feature (no point, line or polygon with finite coordinates).")
    out.attrs.update(gdf.attrs, dropped=int(dropped), repaired=fixed)
    return out


def read_user_layer_bounded(data: bytes, *, filename: str, crs: str | None = None,
                            limits: Limits | None = None) -> gpd.GeoDataFrame:
    """:func:`read_user_layer` in a bounded worker process (``layers.core.worker``).

    Raises
    ------
    UserLayerError, WorkerLimitError, UnexpectedError
        The file was refused, hit a limit of the worker, or something unforeseen happened (logged with an id).
    """
    return run_bounded(read_user_layer, data, filename=filename, crs=crs, limits=limits, where="own layer")


def distance_to_district_km(gdf: gpd.GeoDataFrame, district: gpd.GeoDataFrame) -> float:
    """How far (km, EPSG:4549) the layer's nearest feature lies from the district: 0 when any part is inside.

    A layer in a wrong CRS lands at 0,0 or near a pole; the page says so instead of drawing it far away silently.
    """
    layer = shapely.union_all(np.asarray(gdf.geometry.to_crs(settings.MEASURE_CRS).values, dtype=object))
    outline = shapely.union_all(np.asarray(district.geometry.to_crs(settings.MEASURE_CRS).values, dtype=object))
    if not np.isfinite(shapely.get_coordinates(layer)).all():
        return math.inf
    return 0.0 if layer.intersects(outline) else round(layer.distance(outline) / 1000.0, 1)


def _measure(part: Any, family: str) -> float:
    if family == "point":
        return float(len(shapely.get_parts(part)))
    if family == "line":
        return part.length / 1000.0
    return part.area / 1e6


def user_layer_summary(gdf: gpd.GeoDataFrame, towns: gpd.GeoDataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """How much of the layer lies in each town: count of points, km of lines, km² of polygons (EPSG:4549),
    the share of the layer's total, plus a row for what lies outside every town.

    Towns drawn as a schematic partition give schematic shares; the caller says so next to the table.
    """
    metric = gdf.geometry.to_crs(settings.MEASURE_CRS)
    town_geoms = towns.geometry.to_crs(settings.MEASURE_CRS)
    names = towns["name_en" if lang == "en" else "name_zh"].astype(str).tolist()
    families = [geometry_family(g.geom_type) for g in metric]
    present = [f for f in ("point", "line", "polygon") if f in families]
    totals = {f: sum(_measure(g, f) for g, fam in zip(metric, families, strict=False) if fam == f) for f in present}
    town_union = shapely.union_all(np.asarray(town_geoms.values, dtype=object))
    rows = []
    for code, name, town in [*zip(towns["id"].astype(str), names, town_geoms, strict=False), ("", None, None)]:
        row: dict[str, Any] = {"code": code or None, "name": name}
        shapely.prepare(town if town is not None else town_union)
        for fam in present:
            value = 0.0
            for geom, gfam in zip(metric, families, strict=False):
                if gfam != fam:
                    continue
                part = geom.intersection(town) if town is not None else geom.difference(town_union)
                if not part.is_empty:
                    value += _measure(part, fam)
            row[MEASURES[fam]] = round(value, 3) if fam != "point" else int(value)
            row[f"{MEASURES[fam]}_share"] = (round(100.0 * value / totals[fam], 1) if totals[fam] else math.nan)
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.loc[frame["code"].isna(), "name"] = t("ul_outside", lang)
    return frame


def summary_columns(frame: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    """The summary with its columns renamed for display (unknown columns keep their names)."""
    return frame.rename(columns=lambda c: labels.get(c, c))
