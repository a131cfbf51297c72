"""Content checks made before GDAL sees an untrusted file: a KML is KML (no DTD, no VRT, no /vsi paths), a
GeoPackage holds only plain feature tables (no views, triggers or virtual tables), a zip holds one complete
Shapefile at safe paths, a Shapefile starts as one."""
from __future__ import annotations

import re
import sqlite3
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from pyproj import CRS
from pyproj.exceptions import CRSError, ProjError

from layers.core.errors import TownImportError

#: A GeoPackage's ``application_id`` (bytes 68-71 of the SQLite header): GPKG, or GP10/GP11 (versions 1.0/1.1).
GPKG_IDS = (b"GPKG", b"GP10", b"GP11")


#: Triggers a GeoPackage may hold: the spatial index's and GDAL's feature counts (they run only on writes, and
#: GDAL opens an upload read-only); any other trigger refuses the file.
_GPKG_TRIGGER = re.compile(r"^(rtree_.+_(insert\d*|update\d*|delete)|trigger_(insert|delete)_feature_count_.+|"
                           r"gpkg_.+)$", re.IGNORECASE)


_GPKG_MAX_OBJECTS = 2000


def gpkg_feature_tables(path: Path, name: str) -> list[str]:
    """The feature tables of a GeoPackage, read with SQLite (read-only) before GDAL opens it.

    Refused: views (GDAL would run their query, e.g. a recursive one that never ends), triggers other than the
    standard ones, virtual tables other than the spatial index, generated columns, and ``gpkg_contents`` entries
    that are not plain tables.
    """
    refuse = f"{name} is not a plain GeoPackage"
    try:
        with sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True) as db:
            db.execute("PRAGMA trusted_schema = OFF")
            objects = db.execute("SELECT type, name, coalesce(sql, '') FROM sqlite_master LIMIT ?",
                                 (_GPKG_MAX_OBJECTS + 1,)).fetchall()
            if len(objects) > _GPKG_MAX_OBJECTS:
                raise TownImportError(f"{refuse}: it holds more than {_GPKG_MAX_OBJECTS} tables and indexes.",
                                      key="upl_gpkg_unsafe", file=name)
            kinds = {str(n): (str(t), str(s)) for t, n, s in objects}
            views = sorted(n for n, (t, _s) in kinds.items() if t == "view")
            if views:
                raise TownImportError(f"{refuse}: it holds SQL views ({', '.join(views[:5])}), whose queries GDAL "
                                      f"would run on the server. Export the layer as a table and import again.",
                                      key="upl_gpkg_unsafe", file=name)
            triggers = sorted(n for n, (t, _s) in kinds.items() if t == "trigger" and not _GPKG_TRIGGER.match(n))
            if triggers:
                raise TownImportError(f"{refuse}: it holds SQL triggers ({', '.join(triggers[:5])}). Export the "
                                      f"layer again (e.g. with QGIS) and import again.",
                                      key="upl_gpkg_unsafe", file=name)
            virtual = sorted(n for n, (t, s) in kinds.items() if t == "table" and s.upper().startswith(
                "CREATE VIRTUAL") and not (n.startswith("rtree_") and re.search(r"USING\s+rtree\s*\(", s, re.I)))
            if virtual:
                raise TownImportError(f"{refuse}: it holds virtual tables ({', '.join(virtual[:5])}).",
                                      key="upl_gpkg_unsafe", file=name)
            if "gpkg_contents" not in kinds:
                raise TownImportError(f"{refuse}: it has no gpkg_contents table (not a GeoPackage?).",
                                      key="upl_not_gpkg", file=name)
            listed = [str(r[0]) for r in db.execute(
                "SELECT table_name FROM gpkg_contents WHERE data_type = 'features' LIMIT 100")]
            for table in listed:
                kind, sql = kinds.get(table, ("missing", ""))
                if kind != "table" or sql.upper().startswith("CREATE VIRTUAL"):
                    raise TownImportError(f"{refuse}: its layer {table[:60]!r} is a {kind}, not a table.",
                                          key="upl_gpkg_unsafe", file=name)
                hidden = [r[1] for r in db.execute("SELECT * FROM pragma_table_xinfo(?)", (table,)) if r[6] in (2, 3)]
                if hidden:
                    raise TownImportError(f"{refuse}: its layer {table[:60]!r} has computed (generated) columns.",
                                          key="upl_gpkg_unsafe", file=name)
    except sqlite3.DatabaseError as exc:
        raise TownImportError(f"{name} is not a readable GeoPackage (damaged or truncated?).",
                              key="upl_not_gpkg", file=name) from exc
    return listed


#: A DTD or entity declaration: KML never needs one, and it is how XML parsers are attacked (entity expansion
#: "billion laughs", external entities reading local files).
_XML_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


#: Another GDAL format in XML dress (VRT opens the files and URLs it names) or a GDAL virtual path.
_XML_FOREIGN = re.compile(rb"OGRVRTDataSource|VRTDataset|GDALG|/vsi[a-z0-9_]+/?", re.IGNORECASE)


#: What may come before KML's root element: a BOM, the XML declaration, comments, processing instructions.
_XML_PROLOG = re.compile(rb"\A(?:\xef\xbb\xbf)?(?:\s+|<\?[^>]*\?>|<!--.*?-->)*", re.DOTALL)


_KML_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?kml[\s>/]")


def check_kml(data: bytes, name: str) -> None:
    if _XML_DTD.search(data):
        raise TownImportError(f"{name} declares a DTD or XML entities (<!DOCTYPE …> / <!ENTITY …>), which KML does "
                              f"not use and which can make a parser expand text without end or read local files; "
                              f"it was not parsed. Export the KML again without them.", key="upl_kml_dtd", file=name)
    prolog = _XML_PROLOG.match(data)
    if not _KML_ROOT.match(data, prolog.end() if prolog else 0):
        raise TownImportError(f"{name} is not KML: its root element is not <kml>. Nothing was read.",
                              key="upl_not_kml", file=name)
    if _XML_FOREIGN.search(data):
        raise TownImportError(f"{name} names a GDAL data source or virtual path (OGRVRTDataSource, /vsi…), which "
                              f"KML never does; it was not parsed.", key="upl_kml_vrt", file=name)


def mb(n: float) -> str:
    """A size in MB, as the messages give it."""
    return f"{n / 2 ** 20:.1f} MB"


def _zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    try:
        return archive.read(info)
    except NotImplementedError as exc:  # zstd, LZMA on an old Python, … (before RuntimeError: a subclass of it)
        raise TownImportError(f"{name}: {PurePosixPath(info.filename).name} is compressed with a method this server "
                              f"cannot unpack; zip it with the usual 'deflate' compression.",
                              key="upl_zip_method", file=name, member=PurePosixPath(info.filename).name) from exc
    except RuntimeError as exc:  # encrypted
        raise TownImportError(f"{name}: {PurePosixPath(info.filename).name} is encrypted (password-protected); zip "
                              f"the shapefile without a password.",
                              key="upl_zip_encrypted", file=name, member=PurePosixPath(info.filename).name) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as exc:
        raise TownImportError(f"{name}: {PurePosixPath(info.filename).name} is damaged in the zip (its checksum or "
                              f"data is wrong): zip the shapefile again.", key="upl_zip_member_damaged",
                              file=name, member=PurePosixPath(info.filename).name) from exc


def shapefile_parts(archive: zipfile.ZipFile, name: str, max_bytes: int,
                    crs_given: bool) -> tuple[str, dict[str, bytes]]:
    """The shapefile's parts (extension → bytes) and the .shp's name, after every check on the zip itself: no
    unsafe path, not too large unpacked, one complete shapefile."""
    infos = archive.infolist()
    unsafe = [i.filename for i in infos if unsafe_member(i)]
    if unsafe:
        raise TownImportError(
            f"{name} holds entries with unsafe paths ({', '.join(unsafe[:5])}): a path with '..', an absolute "
            f"path or a link could write outside the upload folder, so nothing was extracted. Zip the "
            f"shapefile's files at the top level and import again.", key="upl_zip_unsafe", file=name)
    unpacked = sum(i.file_size for i in infos)
    if unpacked > max_bytes:
        raise TownImportError(f"{name} would unpack to {mb(unpacked)}; the limit is {mb(max_bytes)}. "
                              f"Nothing was extracted.",
                              key="upl_zip_too_big", file=name, size=mb(unpacked), limit=mb(max_bytes))
    files = [i for i in infos if not i.is_dir() and not i.filename.startswith("__MACOSX/")
             and not PurePosixPath(i.filename).name.startswith("._")]
    shps = [i for i in files if i.filename.lower().endswith(".shp")]
    if not shps:
        raise TownImportError(f"{name} holds no .shp file: a zip must hold one shapefile (.shp, .shx, .dbf, "
                              f".prj, .cpg); upload GeoJSON, GeoPackage or KML files directly.",
                              key="upl_no_shp", file=name)
    if len(shps) > 1:
        raise TownImportError(f"{name} holds several shapefiles ({', '.join(i.filename for i in shps)}): "
                              f"zip one layer per file.", key="upl_several_shp", file=name)
    stem = shps[0].filename[:-4]
    members = {i.filename[len(stem):].lower(): i for i in files
               if i.filename[:len(stem)].lower() == stem.lower() and len(i.filename) == len(stem) + 4}
    shp = PurePosixPath(shps[0].filename).name
    if ".dbf" not in members:
        raise TownImportError(f"{name} has {shp} but no .dbf: the .dbf holds the attributes (codes and names) "
                              f"that identify the units. Zip the shapefile with all of its files (.shp, .shx, "
                              f".dbf, .prj, .cpg).", key="upl_no_dbf", file=name, shp=shp)
    if ".shx" not in members:
        raise TownImportError(f"{name} has {shp} but no .shx (the shape index): zip the shapefile with all of "
                              f"its files (.shp, .shx, .dbf, .prj, .cpg).", key="upl_no_shx", file=name, shp=shp)
    if ".prj" not in members and not crs_given:
        raise TownImportError(
            f"{name} has no .prj, so the coordinate system (CRS) of {shp} is unknown: add the .prj to the zip, "
            f"or give the CRS (command line --crs EPSG, e.g. 4549 for CGCS2000 / 3-degree GK CM 120E, 4326 for "
            f"WGS 84).", key="upl_no_prj", file=name, shp=shp)
    parts = {ext: _zip_member(archive, members[ext], name) for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")
             if ext in members}
    if crs_given:
        parts.pop(".prj", None)  # the given CRS wins; a broken .prj need not be read at all
    return shp, parts


def unsafe_member(info: zipfile.ZipInfo) -> bool:
    name = info.filename.replace("\\", "/")
    is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
    return (name.startswith("/") or re.match(r"^[A-Za-z]:", name) is not None
            or ".." in PurePosixPath(name).parts or is_link)


def dbf_encoding(dbf: bytes) -> str:
    """UTF-8 when the records decode as UTF-8, else GB18030 (older Chinese shapefiles without a .cpg)."""
    header = int.from_bytes(dbf[8:10], "little") if len(dbf) >= 10 else 0
    try:
        dbf[header:].decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GB18030"


#: First byte of a dBASE file (versions III to 7, with or without memo), the only table a shapefile has.
_DBF_VERSIONS = frozenset({0x02, 0x03, 0x04, 0x05, 0x30, 0x31, 0x32, 0x43, 0x63, 0x7B, 0x83, 0x8B, 0x8E, 0xCB,
                           0xE5, 0xF5, 0xFB})


def check_shapefile(parts: dict[str, bytes], name: str, shp: str) -> None:
    """The .shp and .shx start with file code 9994, the .dbf is a dBASE table, the .prj a CRS PROJ can read."""
    for ext in (".shp", ".shx"):
        head = parts[ext][:4]
        if len(parts[ext]) < 100 or int.from_bytes(head, "big") != 9994:
            raise TownImportError(f"{name}: {shp[:-4]}{ext} is not a shapefile part (it does not start with the "
                                  f"shapefile file code 9994). Nothing was read.", key="upl_shp_part", file=name)
    if len(parts[".dbf"]) < 32 or parts[".dbf"][0] not in _DBF_VERSIONS:
        raise TownImportError(f"{name}: {shp[:-4]}.dbf is not a dBASE table. Nothing was read.",
                              key="upl_shp_part", file=name)
    if ".prj" in parts:
        prj_crs(parts[".prj"], name, shp)


def prj_crs(prj: bytes, name: str, shp: str) -> CRS:
    text = prj.decode("utf-8", errors="replace").strip()
    hint = (f"give the CRS instead (EPSG code, e.g. 4549 for CGCS2000 / 3-degree GK CM 120E) or fix "
            f"{shp[:-4]}.prj")
    if not text.upper().startswith(("GEOGCS", "PROJCS", "GEOGCRS", "PROJCRS", "GEODCRS", "COMPD_CS")):
        raise TownImportError(f"{name}: {shp[:-4]}.prj does not describe a geographic or projected coordinate "
                              f"system (it starts {text[:20]!r}; CAD drawings use a local one): {hint}.",
                              key="upl_prj", file=name, shp=shp)
    try:
        return CRS.from_wkt(text)
    except CRSError as exc:
        raise TownImportError(f"{name}: {shp[:-4]}.prj is not a coordinate system PROJ can read ({str(exc)[:200]}): "
                              f"{hint}.",
                              key="upl_prj", file=name, shp=shp) from exc


def parse_crs(crs: str | int) -> CRS:
    text = str(crs).strip()
    try:
        parsed = CRS.from_user_input(f"EPSG:{text}" if text.isdigit() else text)
    except (CRSError, ProjError, ValueError, TypeError) as exc:
        raise TownImportError(f"Unknown CRS {text[:40]!r}: give an EPSG code such as 4326 (WGS 84), 4490 (CGCS2000) "
                              f"or 4549 (CGCS2000 / 3-degree GK CM 120E), or 'gcj02'.",
                              key="upl_crs_unknown", crs=text[:40]) from exc
    usable_crs(parsed, text[:40])
    return parsed

def usable_crs(crs: CRS, label: str) -> None:
    """Refuse a CRS that cannot be converted to WGS 84 (local/engineering, another planet's)."""
    datum = crs.datum
    body = getattr(getattr(datum, "ellipsoid", None), "name", "") or ""
    foreign = any(w in (body + " " + (datum.name if datum else "")).lower()
                  for w in ("moon", "mars", "lunar", "martian", "venus", "mercury", "jupiter"))
    if not (crs.is_geographic or crs.is_projected) or foreign:
        raise TownImportError(f"The coordinate system {label!r} ({crs.name}) cannot be converted to WGS 84 "
                              f"longitude/latitude on Earth: give the file's real CRS as an EPSG code (e.g. 4549 "
                              f"for CGCS2000 / 3-degree GK CM 120E, 4326 for WGS 84).",
                              key="upl_crs_unusable", crs=label)

