"""Reading an untrusted vector file (GeoJSON, GeoPackage, zipped Shapefile, KML): size, format, CRS, axis order."""
from __future__ import annotations

import io
import json
import math
import re
import tempfile
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Union

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from layers.core import settings
from layers.core.crs import geometry_gcj02_to_wgs84
from layers.core.errors import TownImportError

#: A generous box around Songjiang (lon/lat), only used to recognise swapped axes.
REGION_BOUNDS = (120.6, 30.6, 121.8, 31.5)


Source = Union[str, Path, bytes, bytearray, BinaryIO]


def _mb(n: float) -> str:
    return f"{n / 2 ** 20:.1f} MB"


def _source_name(source: Source, filename: str | None) -> str:
    if filename:
        return Path(str(filename)).name
    if isinstance(source, (str, Path)):
        return Path(source).name
    name = getattr(source, "name", None)
    if isinstance(name, str) and name:
        return Path(name).name
    raise TownImportError("Give the file's name (its extension says the format: .geojson, .gpkg, .zip, .kml).")


def _source_size(source: Source, name: str) -> int:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return len(source)
    if isinstance(source, (str, Path)):
        try:
            return Path(source).stat().st_size
        except OSError as exc:
            raise TownImportError(f"Cannot open {name}: {exc.strerror or exc}. Check the path.") from exc
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


def _gdal_read(path: Path, name: str, **kwargs: Any) -> gpd.GeoDataFrame:
    try:
        return pyogrio.read_dataframe(path, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
            pyogrio.errors.GeometryError, pyogrio.errors.CRSError, ValueError, OSError) as exc:
        raise TownImportError(f"GDAL cannot read {name}: {exc}. Check that the file is complete and in the format "
                              f"its extension says.") from exc


def _saved_layers(data: bytes, work: Path, suffix: str, name: str, kind: str) -> tuple[Path, list]:
    """Write an upload into ``work`` (a temporary folder) and list its layers with GDAL."""
    path = work / f"upload{suffix}"
    path.write_bytes(data)
    try:
        return path, list(pyogrio.list_layers(path))
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise TownImportError(f"GDAL cannot read {name} as {kind}: {exc}. Check that the file is complete.") from exc


def _infinite(name: str, token: str) -> float:
    """JSON's NaN passes (such features are rejected or left out later, one by one); Infinity is refused."""
    if token == "NaN":
        return math.nan
    raise TownImportError(f"{name} holds the number {token}, which no coordinate can be (GeoJSON allows only "
                          f"finite numbers): fix the coordinates and import again. Nothing was imported.")


def _finite_float(name: str, text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise TownImportError(f"{name} holds the number {text[:30]}, too large for any coordinate (it overflows to "
                              f"infinity): fix the coordinates and import again. Nothing was imported.")
    return value


def _read_geojson(data: bytes, work: Path, name: str, **_: Any) -> gpd.GeoDataFrame:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TownImportError(f"{name} is not UTF-8 text; GeoJSON must be UTF-8 (RFC 7946): save it as UTF-8 "
                              f"and import it again.") from exc
    if not text.strip():
        raise TownImportError(f"{name} is empty (only white space): choose the complete file.")
    try:
        obj = json.loads(text, parse_constant=partial(_infinite, name), parse_float=partial(_finite_float, name))
    except RecursionError as exc:
        raise TownImportError(f"{name} is nested too deeply to be GeoJSON (arrays or objects inside each other "
                              f"thousands of levels deep): it is not a boundary file. Nothing was imported.") from exc
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) - 1
        hint = ("the file ends in the middle of the data, so it looks truncated (an interrupted download or "
                "copy?): get the complete file" if cut else "fix the JSON syntax there")
        raise TownImportError(f"{name} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): "
                              f"{hint}. Nothing was imported.") from exc
    if not isinstance(obj, dict) or obj.get("type") not in ("FeatureCollection", "Feature"):
        raise TownImportError(f"{name} is JSON but not a GeoJSON FeatureCollection (its 'type' is "
                              f"{obj.get('type') if isinstance(obj, dict) else type(obj).__name__!r}): export the "
                              f"boundaries as GeoJSON features.")
    path = work / "upload.geojson"
    path.write_bytes(data)
    return _gdal_read(path, name)


def _read_gpkg(data: bytes, work: Path, name: str, **_: Any) -> gpd.GeoDataFrame:
    if not data.startswith(b"SQLite format 3\x00"):
        raise TownImportError(f"{name} is not a GeoPackage (no SQLite header; truncated or another format?).")
    path, listed = _saved_layers(data, work, ".gpkg", name, "a GeoPackage")
    if len(listed) == 0:
        raise TownImportError(f"{name} holds no layers.")
    polygon_layers = [str(n) for n, g in listed if g and "Polygon" in str(g)]
    layer = polygon_layers[0] if polygon_layers else str(listed[0][0])
    gdf = _gdal_read(path, name, layer=layer)
    gdf.attrs["layer"] = layer
    if len(polygon_layers) > 1:
        gdf.attrs["note"] = f"{name} has {len(polygon_layers)} polygon layers; the first, {layer!r}, was read."
    return gdf


#: A DTD or entity declaration: KML never needs one, and it is how XML parsers are attacked (entity expansion
#: "billion laughs", external entities reading local files).
_XML_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _read_kml(data: bytes, work: Path, name: str, **_: Any) -> gpd.GeoDataFrame:
    if _XML_DTD.search(data):
        raise TownImportError(f"{name} declares a DTD or XML entities (<!DOCTYPE …> / <!ENTITY …>), which KML does "
                              f"not use and which can make a parser expand text without end or read local files; "
                              f"it was not parsed. Export the KML again without them.")
    path, listed = _saved_layers(data, work, ".kml", name, "KML")
    frames = [_gdal_read(path, name, layer=str(n)) for n, _g in listed]
    frames = [f for f in frames if len(f)]
    if not frames:
        raise TownImportError(f"{name} holds no placemarks.")
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def _unsafe_member(info: zipfile.ZipInfo) -> bool:
    name = info.filename.replace("\\", "/")
    is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
    return (name.startswith("/") or re.match(r"^[A-Za-z]:", name) is not None
            or ".." in PurePosixPath(name).parts or is_link)


def _dbf_encoding(dbf: bytes) -> str:
    """UTF-8 when the records decode as UTF-8, else GB18030 (older Chinese shapefiles without a .cpg)."""
    header = int.from_bytes(dbf[8:10], "little") if len(dbf) >= 10 else 0
    try:
        dbf[header:].decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GB18030"


def _read_zip(data: bytes, work: Path, name: str, *, max_bytes: int, crs_given: bool) -> gpd.GeoDataFrame:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise TownImportError(f"{name} is not a valid zip file (damaged or truncated?).") from exc
    with archive:
        infos = archive.infolist()
        unsafe = [i.filename for i in infos if _unsafe_member(i)]
        if unsafe:
            raise TownImportError(
                f"{name} holds entries with unsafe paths ({', '.join(unsafe[:5])}): a path with '..', an absolute "
                f"path or a link could write outside the upload folder, so nothing was extracted. Zip the "
                f"shapefile's files at the top level and import again.")
        unpacked = sum(i.file_size for i in infos)
        if unpacked > max_bytes:
            raise TownImportError(f"{name} would unpack to {_mb(unpacked)}; the limit is {_mb(max_bytes)}. "
                                  f"Nothing was extracted.")
        files = [i for i in infos if not i.is_dir() and not i.filename.startswith("__MACOSX/")
                 and not PurePosixPath(i.filename).name.startswith("._")]
        shps = [i for i in files if i.filename.lower().endswith(".shp")]
        if not shps:
            raise TownImportError(f"{name} holds no .shp file: a zip must hold one shapefile (.shp, .shx, .dbf, "
                                  f".prj, .cpg); upload GeoJSON, GeoPackage or KML files directly.")
        if len(shps) > 1:
            raise TownImportError(f"{name} holds several shapefiles ({', '.join(i.filename for i in shps)}): "
                                  f"zip one layer per file.")
        stem = shps[0].filename[:-4]
        parts = {i.filename[len(stem):].lower(): i for i in files
                 if i.filename[:len(stem)].lower() == stem.lower() and len(i.filename) == len(stem) + 4}
        shp = PurePosixPath(shps[0].filename).name
        if ".dbf" not in parts:
            raise TownImportError(f"{name} has {shp} but no .dbf: the .dbf holds the attributes (codes and names) "
                                  f"that identify the units. Zip the shapefile with all of its files (.shp, .shx, "
                                  f".dbf, .prj, .cpg).")
        if ".shx" not in parts:
            raise TownImportError(f"{name} has {shp} but no .shx (the shape index): zip the shapefile with all of "
                                  f"its files (.shp, .shx, .dbf, .prj, .cpg).")
        if ".prj" not in parts and not crs_given:
            raise TownImportError(
                f"{name} has no .prj, so the coordinate system (CRS) of {shp} is unknown: add the .prj to the zip, "
                f"or give the CRS (command line --crs EPSG, e.g. 4549 for CGCS2000 / 3-degree GK CM 120E, 4326 for "
                f"WGS 84).")
        # Only the shapefile's own parts are written, under names chosen here, never the zip's paths.
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            if ext in parts:
                (work / f"upload{ext}").write_bytes(archive.read(parts[ext]))
        encoding = None if ".cpg" in parts else _dbf_encoding(archive.read(parts[".dbf"]))
    gdf = _gdal_read(work / "upload.shp", name, encoding=encoding)
    if encoding:
        gdf.attrs["note"] = f"{shp} has no .cpg; its text was read as {encoding}."
    return gdf


#: File extension → reader (one entry per accepted format).
READERS: dict[str, Callable[..., gpd.GeoDataFrame]] = {
    ".geojson": _read_geojson, ".json": _read_geojson, ".gpkg": _read_gpkg, ".zip": _read_zip, ".kml": _read_kml,
}


def _parse_crs(crs: str | int) -> CRS:
    text = str(crs).strip()
    try:
        return CRS.from_user_input(f"EPSG:{text}" if text.isdigit() else text)
    except CRSError as exc:
        raise TownImportError(f"Unknown CRS {text!r}: give an EPSG code such as 4326 (WGS 84), 4490 (CGCS2000) or "
                              f"4549 (CGCS2000 / 3-degree GK CM 120E), or 'gcj02'.") from exc


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
            f"numbers (longitude first, as GeoJSON, KML and WKT require) and import again.")
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise TownImportError(
            f"{name}: the coordinates (up to {max(abs(minx), abs(maxx)):.0f}, {max(abs(miny), abs(maxy)):.0f}) are "
            f"not longitude/latitude degrees, although the file says {gdf.crs.name}: give the real CRS with --crs "
            f"EPSG (e.g. 4549 for CGCS2000 / 3-degree GK CM 120E).")


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
        In EPSG:4326; ``attrs`` holds ``file_name``, ``source_crs`` and optional ``layer`` and ``note``.

    Raises
    ------
    TownImportError
        Too large (bytes or vertices), empty, unknown format, unreadable, truncated or absurdly nested, unsafe zip,
        KML with a DTD or entities, incomplete shapefile, CRS missing, coordinates in lat/lon order or not degrees.
    """
    name = _source_name(source, filename)
    suffix = Path(name).suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        raise TownImportError(f"{name}: unsupported format {suffix or '(no extension)'}; import GeoJSON "
                              f"(.geojson), GeoPackage (.gpkg), a zipped Shapefile (.zip) or KML (.kml).")
    size = _source_size(source, name)
    if size > max_bytes:
        raise TownImportError(f"{name} is {_mb(size)}; the limit is {_mb(max_bytes)}. Boundaries of 17 units need "
                              f"far less: simplify the geometry or keep only Songjiang's units. Nothing was read.")
    if size == 0:
        raise TownImportError(f"{name} is empty (0 bytes): choose the complete file.")
    data = _source_bytes(source)
    with tempfile.TemporaryDirectory(prefix="songjiang-import-") as tmp:
        gdf = reader(data, Path(tmp), name, max_bytes=max_bytes, crs_given=crs is not None)
    vertices = int(shapely.get_num_coordinates(np.asarray(gdf.geometry.values, dtype=object)).sum())
    if vertices > max_vertices:
        raise TownImportError(f"{name} has {vertices:,} vertices; the limit is {max_vertices:,}. Simplify the "
                              f"geometry (e.g. in QGIS) or keep only Songjiang's units. Nothing was read.")
    attrs = {k: v for k, v in gdf.attrs.items() if k in ("layer", "note")}
    gcj02 = crs is not None and str(crs).strip().lower().replace("-", "") == "gcj02"
    if gcj02:
        gdf = gdf.set_crs(settings.WGS84, allow_override=True)
        label = "GCJ-02 (converted to WGS 84 on import)"
    elif crs is not None:
        declared = gdf.crs
        gdf = gdf.set_crs(_parse_crs(crs), allow_override=True)
        label = f"{gdf.crs.to_string()} (given)"
        if declared is not None and not declared.equals(gdf.crs):
            attrs["note"] = f"The file declares {declared.to_string()}; the given {gdf.crs.to_string()} was used."
    elif gdf.crs is None:
        raise TownImportError(f"{name} does not say its coordinate system (CRS): give it with --crs EPSG (e.g. 4549 "
                              f"for CGCS2000 / 3-degree GK CM 120E, 4326 for WGS 84).")
    else:
        label = gdf.crs.to_string()
    _check_axes(gdf, name)
    if not gdf.crs.equals(CRS.from_user_input(settings.WGS84)):
        gdf = gdf.to_crs(settings.WGS84)
    if gcj02:
        gdf = gdf.set_geometry([None if g is None else geometry_gcj02_to_wgs84(g) for g in gdf.geometry],
                               crs=settings.WGS84)
    gdf.attrs.update(attrs, file_name=name, source_crs=label)
    return gdf
