"""Reading an untrusted vector file (GeoJSON, GeoPackage, zipped Shapefile, KML): size, format, CRS, axis order.

Every upload passes here, and here only. The format is decided by the file's extension *and* a check of its
content made by this module before GDAL sees a byte; GDAL then opens a copy in a private temporary folder under a
name chosen here, in a GDAL (``layers/core/gdal.py``, loaded with the package) where the VRT and GDALG drivers
do not exist and GDAL has no network. Nothing the file says is ever used as a path or a URL.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError, ProjError
from shapely.errors import ShapelyError

from layers.core import settings, sniff
from layers.core.crs import geometry_gcj02_to_wgs84
from layers.core.errors import TownImportError
from layers.core.sniff import mb as _mb

#: A generous box around Songjiang (lon/lat), only used to recognise swapped axes.
REGION_BOUNDS = settings.NEAR_DISTRICT_BOUNDS


Source = str | Path | bytes | bytearray | BinaryIO


def _source_name(source: Source, filename: str | None) -> str:
    if filename:
        return Path(str(filename)).name
    if isinstance(source, (str, Path)):
        return Path(source).name
    name = getattr(source, "name", None)
    if isinstance(name, str) and name:
        return Path(name).name
    raise TownImportError("Give the file's name (its extension says the format: .geojson, .gpkg, .zip, .kml).",
                          key="upl_no_name")


def _source_size(source: Source, name: str) -> int:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return len(source)
    if isinstance(source, (str, Path)):
        try:
            return Path(source).stat().st_size
        except OSError as exc:
            raise TownImportError(f"Cannot open {name}: {exc.strerror or exc}. Check the path.",
                                  key="upl_cannot_open", file=name) from exc
    size = getattr(source, "size", None)  # Streamlit's UploadedFile knows its size
    if isinstance(size, int):
        return size
    pos = source.tell()
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(pos)
    return size


def _source_bytes(source: Source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, Path)):
        return Path(source).read_bytes()
    if hasattr(source, "getvalue"):
        return source.getvalue()
    source.seek(0)
    return source.read()


_log = logging.getLogger(__name__)

#: What GDAL itself may raise while reading a file we checked: all become a TownImportError naming the file only.
_GDAL_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
                pyogrio.errors.GeometryError, pyogrio.errors.CRSError, CRSError, ShapelyError, ValueError, OSError)


#: Drivers that read the same format (LIBKML is skipped in the app, but may be loaded where pyogrio came first).
_SAME_FORMAT = {"KML": ("KML", "LIBKML")}


def _gdal_read(path: Path, name: str, *, driver: str, **kwargs: Any) -> gpd.GeoDataFrame:
    """Read ``path`` (our own copy, under our own name) with GDAL, refusing it unless ``driver`` opened it.

    pyogrio cannot restrict the drivers GDAL tries, so the content was checked before, and the driver GDAL chose
    is checked here before any feature is read.
    """
    try:
        opened = pyogrio.read_info(path, layer=kwargs.get("layer"))["driver"]
        if opened not in _SAME_FORMAT.get(driver, (driver,)):
            raise TownImportError(f"{name} is not what its extension says: GDAL recognises its content as {opened}, "
                                  f"not {driver}. Nothing was read.", key="upl_not_its_format", file=name)
        return pyogrio.read_dataframe(path, **kwargs)
    except TownImportError:
        raise
    except _GDAL_ERRORS as exc:
        _log.info("GDAL refused an upload (%s): %s", name, exc)
        raise TownImportError(f"GDAL cannot read {name}: {_no_paths(str(exc), path.parent)}. Check that the file "
                              f"is complete and in the format its extension says.",
                              key="upl_unreadable", file=name) from exc


def _no_paths(text: str, work: Path) -> str:
    """``text`` without the temporary folder's path (a visitor never sees a server path)."""
    text = text.replace(str(work) + os.sep, "").replace(str(work), "").replace(tempfile.gettempdir(), "")
    return text[:300]


def _save(data: bytes, work: Path, suffix: str) -> Path:
    path = work / f"upload{suffix}"
    path.write_bytes(data)
    return path


def _infinite(name: str, token: str) -> float:
    """JSON's NaN passes (such features are rejected or left out later, one by one); Infinity is refused."""
    if token == "NaN":
        return math.nan
    raise TownImportError(f"{name} holds the number {token}, which no coordinate can be (GeoJSON allows only "
                          f"finite numbers): fix the coordinates and import again. Nothing was imported.",
                          key="upl_infinite", file=name)


def _finite_float(name: str, text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise TownImportError(f"{name} holds the number {text[:30]}, too large for any coordinate (it overflows to "
                              f"infinity): fix the coordinates and import again. Nothing was imported.",
                              key="upl_infinite", file=name)
    return value


def _parse_json(data: bytes, name: str) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TownImportError(f"{name} is not UTF-8 text; GeoJSON must be UTF-8 (RFC 7946): save it as UTF-8 "
                              f"and import it again.", key="upl_not_utf8", file=name) from exc
    if not text.strip():
        raise TownImportError(f"{name} is empty (only white space): choose the complete file.",
                              key="upl_blank", file=name)
    try:
        return json.loads(text, parse_constant=partial(_infinite, name), parse_float=partial(_finite_float, name))
    except RecursionError as exc:
        raise TownImportError(f"{name} is nested too deeply to be GeoJSON (arrays or objects inside each other "
                              f"thousands of levels deep): it is not a boundary file. Nothing was imported.",
                              key="upl_nested", file=name) from exc
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) - 1
        hint = ("the file ends in the middle of the data, so it looks truncated (an interrupted download or "
                "copy?): get the complete file" if cut else "fix the JSON syntax there")
        raise TownImportError(f"{name} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): "
                              f"{hint}. Nothing was imported.",
                              key="upl_truncated" if cut else "upl_bad_json", file=name, line=exc.lineno,
                              col=exc.colno) from exc


def _named_crs(crs: Any, name: str) -> dict[str, Any]:
    """A GeoJSON ``crs`` member kept only as a name (e.g. EPSG:4549); a link or URL one is refused unread."""
    prop = crs.get("properties") if isinstance(crs, dict) else None
    if (isinstance(crs, dict) and crs.get("type") == "name" and isinstance(prop, dict)
            and isinstance(prop.get("name"), str) and len(prop["name"]) < 200 and "/" not in prop["name"].replace(
                "urn:ogc:def:crs:", "").replace("http://www.opengis.net/def/crs/", "")):
        return {"type": "name", "properties": {"name": prop["name"]}}
    raise TownImportError(f"{name} declares its coordinate system as a link or URL (a GeoJSON 'crs' member of "
                          f"type {str(crs.get('type') if isinstance(crs, dict) else crs)[:40]!r}), which would make "
                          f"the server fetch it: remove the 'crs' member (GeoJSON is WGS 84) or give an EPSG name. "
                          f"Nothing was read.", key="upl_crs_link", file=name)


def _strip_crs(feature: Any) -> Any:
    """A feature without any ``crs`` member of its own or of its geometry (GDAL would act on them)."""
    if isinstance(feature, dict):
        feature = {k: v for k, v in feature.items() if k != "crs"}
        if isinstance(feature.get("geometry"), dict):
            feature["geometry"] = {k: v for k, v in feature["geometry"].items() if k != "crs"}
    return feature


def _read_geojson(data: bytes, work: Path, name: str, **_: Any) -> gpd.GeoDataFrame:
    obj = _parse_json(data, name)
    if not isinstance(obj, dict) or obj.get("type") not in ("FeatureCollection", "Feature"):
        raise TownImportError(f"{name} is JSON but not a GeoJSON FeatureCollection (its 'type' is "
                              f"{obj.get('type') if isinstance(obj, dict) else type(obj).__name__!r}): export the "
                              f"boundaries as GeoJSON features.", key="upl_not_geojson", file=name)
    features = obj.get("features") if obj["type"] == "FeatureCollection" else [obj]
    if not isinstance(features, list):
        raise TownImportError(f"{name}: 'features' is not a list of GeoJSON features.",
                              key="upl_not_geojson", file=name)
    # GDAL reads what we write here: our own FeatureCollection, with no member but the features and a named CRS.
    clean: dict[str, Any] = {"type": "FeatureCollection", "features": [_strip_crs(f) for f in features]}
    if obj.get("crs") is not None:
        clean["crs"] = _named_crs(obj["crs"], name)
    path = _save(json.dumps(clean, ensure_ascii=False).encode("utf-8"), work, ".geojson")
    return _gdal_read(path, name, driver="GeoJSON")


def _read_gpkg(data: bytes, work: Path, name: str, **_: Any) -> gpd.GeoDataFrame:
    if not data.startswith(b"SQLite format 3\x00"):
        raise TownImportError(f"{name} is not a GeoPackage (no SQLite header; truncated or another format?).",
                              key="upl_not_gpkg", file=name)
    if len(data) < 100 or data[68:72] not in sniff.GPKG_IDS:
        raise TownImportError(f"{name} is an SQLite database but not a GeoPackage (its application_id is not GPKG), "
                              f"so GDAL cannot read it as one: export the layer as a GeoPackage and import again.",
                              key="upl_not_gpkg", file=name)
    path = _save(data, work, ".gpkg")
    listed = sniff.gpkg_feature_tables(path, name)
    if not listed:
        raise TownImportError(f"{name} holds no layers.", key="upl_no_layers", file=name)
    try:
        kinds = {n: g for n, g in pyogrio.list_layers(path)}
    except _GDAL_ERRORS as exc:
        raise TownImportError(f"GDAL cannot read {name} as a GeoPackage: {_no_paths(str(exc), work)}. Check that the "
                              f"file is complete.",
                              key="upl_unreadable", file=name) from exc
    polygon_layers = [t for t in listed if "Polygon" in str(kinds.get(t))]
    layer = polygon_layers[0] if polygon_layers else listed[0]
    gdf = _gdal_read(path, name, driver="GPKG", layer=layer)
    gdf.attrs["layer"] = layer
    if len(polygon_layers) > 1:
        gdf.attrs["note"] = f"{name} has {len(polygon_layers)} polygon layers; the first, {layer!r}, was read."
    return gdf


def _read_kml(data: bytes, work: Path, name: str, **_: Any) -> gpd.GeoDataFrame:
    sniff.check_kml(data, name)
    path = _save(data, work, ".kml")
    try:
        listed = list(pyogrio.list_layers(path))
    except _GDAL_ERRORS as exc:
        raise TownImportError(f"GDAL cannot read {name} as KML: {_no_paths(str(exc), work)}. Check that the "
                              f"file is complete.",
                              key="upl_unreadable", file=name) from exc
    frames = [_gdal_read(path, name, driver="KML", layer=str(n)) for n, _g in listed]
    frames = [f for f in frames if len(f)]
    if not frames:
        raise TownImportError(f"{name} holds no placemarks.", key="upl_no_placemarks", file=name)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def _read_zip(data: bytes, work: Path, name: str, *, max_bytes: int, crs_given: bool) -> gpd.GeoDataFrame:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as exc:
        raise TownImportError(f"{name} is not a valid zip file (damaged or truncated?): {str(exc)[:200]}",
                              key="upl_bad_zip", file=name) from exc
    with archive:
        shp, parts = sniff.shapefile_parts(archive, name, max_bytes, crs_given)
    sniff.check_shapefile(parts, name, shp)
    # Only the shapefile's own parts are written, under names chosen here, never the zip's paths.
    for ext, content in parts.items():
        _save(content, work, ext)
    encoding = None if ".cpg" in parts else sniff.dbf_encoding(parts[".dbf"])
    gdf = _gdal_read(work / "upload.shp", name, driver="ESRI Shapefile", encoding=encoding)
    if encoding:
        gdf.attrs["note"] = f"{shp} has no .cpg; its text was read as {encoding}."
    return gdf


#: File extension → reader (one entry per accepted format).
READERS: dict[str, Callable[..., gpd.GeoDataFrame]] = {
    ".geojson": _read_geojson, ".json": _read_geojson, ".gpkg": _read_gpkg, ".zip": _read_zip, ".kml": _read_kml,
}


def _in_region(minx: float, miny: float, maxx: float, maxy: float) -> bool:
    x0, y0, x1, y1 = REGION_BOUNDS
    return minx < x1 and maxx > x0 and miny < y1 and maxy > y0


def _check_axes(gdf: gpd.GeoDataFrame, name: str) -> None:
    """Refuse lat/lon order and numbers that are not degrees, for a file in a geographic CRS."""
    geoms = gdf.geometry[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if geoms.empty or not gdf.crs.is_geographic:
        return
    minx, miny, maxx, maxy = geoms.total_bounds
    if not _in_region(minx, miny, maxx, maxy) and _in_region(miny, minx, maxy, maxx):
        raise TownImportError(
            f"{name}: the coordinates are in latitude/longitude order (the first number is about {minx:.1f}, the "
            f"second about {miny:.1f}), but Songjiang lies at longitude ≈121.2 E, latitude ≈31.0 N. Swap the two "
            f"numbers (longitude first, as GeoJSON, KML and WKT require) and import again.",
            key="upl_latlon", file=name)
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise TownImportError(
            f"{name}: the coordinates (up to {max(abs(minx), abs(maxx)):.0f}, {max(abs(miny), abs(maxy)):.0f}) are "
            f"not longitude/latitude degrees, although the file says {gdf.crs.name}: give the real CRS with --crs "
            f"EPSG (e.g. 4549 for CGCS2000 / 3-degree GK CM 120E).", key="upl_not_degrees", file=name)


def _unique_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Attribute names made unique, case-insensitively and apart from the geometry column (``name``, ``Name``
    → ``name``, ``Name_2``), so that no table, tooltip or export meets the same column twice."""
    geometry = gdf.geometry.name
    seen = {str(geometry).lower()}
    names: list[str] = []
    for k, column in enumerate(gdf.columns):
        if k == list(gdf.columns).index(geometry) and column == geometry and geometry not in names:
            names.append(str(column))
            continue
        base = str(column)
        label, n = base, 1
        while label.lower() in seen:
            n += 1
            label = f"{base}_{n}"
        seen.add(label.lower())
        names.append(label)
    if names == [str(c) for c in gdf.columns]:
        return gdf
    frame = pd.DataFrame(gdf.values, columns=names, index=gdf.index)
    out = gpd.GeoDataFrame(frame, geometry=geometry, crs=gdf.crs)
    out.attrs.update(gdf.attrs)
    return out


def _cap_text(gdf: gpd.GeoDataFrame, limit: int) -> gpd.GeoDataFrame:
    """Text attributes cut to ``limit`` characters (with …), so one file cannot make every visitor's map huge."""
    cut = 0
    for column in gdf.columns:
        if column == gdf.geometry.name or gdf[column].dtype.kind not in "OSU" and str(gdf[column].dtype) != "str":
            continue
        values = gdf[column]
        long = values.map(lambda v: isinstance(v, str) and len(v) > limit)
        if long.any():
            cut += int(long.sum())
            gdf[column] = values.map(lambda v: v[:limit - 1] + "…" if isinstance(v, str) and len(v) > limit else v)
    if cut:
        note = f"{cut} text value(s) longer than {limit} characters were cut."
        gdf.attrs["note"] = f"{gdf.attrs['note']} {note}" if gdf.attrs.get("note") else note
    return gdf


def _to_wgs84(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    if gdf.crs.equals(CRS.from_user_input(settings.WGS84)):
        return gdf
    try:
        out = gdf.to_crs(settings.WGS84)
    except (CRSError, ProjError, ValueError) as exc:
        raise TownImportError(f"{name}: its coordinates cannot be converted from {gdf.crs.name} to WGS 84; give the "
                              f"file's real CRS as an EPSG code.", key="upl_crs_convert", file=name) from exc
    coords = shapely.get_coordinates(np.asarray(out.geometry.values, dtype=object))
    finite = np.isfinite(shapely.get_coordinates(np.asarray(gdf.geometry.values, dtype=object))).all(axis=1)
    if len(coords) and not np.isfinite(coords[finite]).all():
        raise TownImportError(f"{name}: its coordinates lie outside the area where {gdf.crs.name} is defined, so "
                              f"they cannot be converted to WGS 84: give the file's real CRS as an EPSG code.",
                              key="upl_crs_convert", file=name)
    return out


def _read_checked(source: Source, name: str, *, max_bytes: int, crs_given: bool) -> gpd.GeoDataFrame:
    """Size, then the format's own checks and GDAL, in a private temporary folder."""
    suffix = Path(name).suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        raise TownImportError(f"{name}: unsupported format {suffix or '(no extension)'}; import GeoJSON "
                              f"(.geojson), GeoPackage (.gpkg), a zipped Shapefile (.zip) or KML (.kml).",
                              key="upl_format", file=name)
    size = _source_size(source, name)
    if size > max_bytes:
        raise TownImportError(f"{name} is {_mb(size)}; the limit is {_mb(max_bytes)}. Boundaries of 17 units need "
                              f"far less: simplify the geometry or keep only Songjiang's units. Nothing was read.",
                              key="upl_too_big", file=name, size=_mb(size), limit=_mb(max_bytes))
    if size == 0:
        raise TownImportError(f"{name} is empty (0 bytes): choose the complete file.", key="upl_blank", file=name)
    data = _source_bytes(source)
    with tempfile.TemporaryDirectory(prefix="songjiang-import-") as tmp:
        return reader(data, Path(tmp), name, max_bytes=max_bytes, crs_given=crs_given)


def _set_crs(gdf: gpd.GeoDataFrame, name: str, crs: str | int | None,
             attrs: dict[str, Any]) -> tuple[gpd.GeoDataFrame, str, bool]:
    """The frame in the given or declared CRS, its label, and whether it is GCJ-02 still to convert."""
    if crs is not None and str(crs).strip().lower().replace("-", "") == "gcj02":
        return gdf.set_crs(settings.WGS84, allow_override=True), "GCJ-02 (converted to WGS 84 on import)", True
    if crs is not None:
        declared = gdf.crs
        gdf = gdf.set_crs(sniff.parse_crs(crs), allow_override=True)
        if declared is not None and not declared.equals(gdf.crs):
            attrs["note"] = f"The file declares {declared.to_string()}; the given {gdf.crs.to_string()} was used."
        return gdf, f"{gdf.crs.to_string()} (given)", False
    if gdf.crs is None:
        raise TownImportError(f"{name} does not say its coordinate system (CRS): give it with --crs EPSG (e.g. 4549 "
                              f"for CGCS2000 / 3-degree GK CM 120E, 4326 for WGS 84).", key="upl_no_crs", file=name)
    sniff.usable_crs(gdf.crs, gdf.crs.name)
    return gdf, gdf.crs.to_string(), False


def read_town_file(source: Source, *, filename: str | None = None, crs: str | int | None = None,
                   max_bytes: int = settings.IMPORT_MAX_BYTES,
                   max_vertices: int = settings.IMPORT_MAX_VERTICES) -> gpd.GeoDataFrame:
    """Read a boundary file into a WGS84 GeoDataFrame, refusing what cannot be used.

    Parameters
    ----------
    source : path, bytes or binary file object (e.g. a Streamlit upload)
        GeoJSON (.geojson/.json), GeoPackage (.gpkg), zipped Shapefile (.zip) or KML (.kml).
    filename : str, optional
        Name of the file (its extension says the format); taken from ``source`` when it has one.
    crs : str or int, optional
        CRS of the coordinates (EPSG code, or ``"gcj02"`` to convert GCJ-02 coordinates); needed when the file
        does not say, and overrides the file's own declaration.
    max_bytes : int
        Size limit, checked before anything is parsed.
    max_vertices : int
        Most vertices (coordinate pairs) the file may hold, checked right after reading.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326; ``attrs`` holds ``file_name``, ``source_crs`` and optional ``layer`` and ``note``. Column
        names are unique; text values are cut to ``settings.UPLOAD_MAX_TEXT_CHARS`` characters.

    Raises
    ------
    TownImportError
        Too large (bytes or vertices), empty, unknown format, content not of the format its extension says, unsafe
        content (DTD/entities, VRT, views, triggers, a CRS link), unreadable, truncated or absurdly nested, unsafe
        or damaged zip, incomplete shapefile, CRS missing or unusable, coordinates in lat/lon order or not degrees.
    """
    name = _source_name(source, filename)
    if crs is not None and str(crs).strip().lower().replace("-", "") != "gcj02":
        sniff.parse_crs(crs)  # a CRS typed wrongly is said before the file is read
    gdf = _read_checked(source, name, max_bytes=max_bytes, crs_given=crs is not None)
    vertices = int(shapely.get_num_coordinates(np.asarray(gdf.geometry.values, dtype=object)).sum())
    if vertices > max_vertices:
        raise TownImportError(f"{name} has {vertices:,} vertices; the limit is {max_vertices:,}. Simplify the "
                              f"geometry (e.g. in QGIS) or keep only Songjiang's units. Nothing was read.",
                              key="upl_vertices", file=name, n=f"{vertices:,}", limit=f"{max_vertices:,}")
    gdf = _cap_text(_unique_columns(gdf), settings.UPLOAD_MAX_TEXT_CHARS)
    attrs = {k: v for k, v in gdf.attrs.items() if k in ("layer", "note")}
    gdf, label, gcj02 = _set_crs(gdf, name, crs, attrs)
    _check_axes(gdf, name)
    gdf = _to_wgs84(gdf, name)
    if gcj02:
        gdf = gdf.set_geometry([None if g is None else geometry_gcj02_to_wgs84(g) for g in gdf.geometry],
                               crs=settings.WGS84)
    gdf.attrs.update(attrs, file_name=name, source_crs=label, sha256=_sha256(source))
    return gdf


def _sha256(source: Source) -> str | None:
    """SHA-256 of the file as given (kept in the import history); None for a stream."""
    data = Path(source).read_bytes() if isinstance(source, (str, Path)) else source
    return hashlib.sha256(data).hexdigest() if isinstance(data, (bytes, bytearray)) else None
