"""Download layers for GIS tools in EPSG:4326/4490/4549, with provenance kept on every feature."""
from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd

from layers.core.catalog import Catalog, get_catalog
from layers.core.errors import CatalogError, ExportError, SongjiangMapError
from layers.export.formats import FORMATS, zip_stamp
from layers.export.job import (
    CRS_CHOICES,
    CRS_NAMES,
    EXPORT_LANGS,
    FILE_PREFIX,
    PROVENANCE_FIELDS,
    ExportJob,
    _Staging,
    typed_columns,
)
from layers.map.filters import LayerFilter, filter_layers
from layers.map.load import load_layers


def parse_crs(crs: int | str) -> int:
    """Normalise ``4549`` / ``"4549"`` / ``"EPSG:4549"`` to an allowed EPSG code, or raise ExportError."""
    text = str(crs).strip()
    if re.sub(r"[\s_\-]", "", text).lower() in ("gcj02", "gcj"):
        raise ExportError("GCJ-02 is never an export CRS: it is a display shift used only on Chinese basemaps. "
                          "Choose EPSG:4326 (WGS 84), EPSG:4490 (CGCS2000) or EPSG:4549 (CGCS2000 GK, metres).")
    match = re.fullmatch(r"(?i)(?:epsg:)?(\d{4,6})", text)
    code = int(match.group(1)) if match else None
    if code not in CRS_CHOICES:
        raise ExportError(f"Unsupported CRS {text[:40]!r}: choose one of "
                          + ", ".join(f"EPSG:{c} ({CRS_NAMES[c]})" for c in CRS_CHOICES) + ".")
    return code


def _resolve_ids(layer_ids: str | Iterable[str], catalog: Catalog) -> list[str]:
    if isinstance(layer_ids, str):
        layer_ids = [p.strip() for p in layer_ids.split(",") if p.strip()]
    ids = list(dict.fromkeys(layer_ids))
    if not ids:
        raise ExportError("No layer chosen; name a layer id or 'all'.")
    if "all" in ids:
        return list(catalog.layer_ids)
    for layer_id in ids:
        try:
            catalog.layer(layer_id)
        except CatalogError as exc:
            raise ExportError(str(exc)) from exc
    return [i for i in catalog.layer_ids if i in ids]  # catalogue (draw) order, so names are stable


def export_layers(layer_ids: str | Iterable[str], *, fmt: str, crs: int | str, out_dir: str | os.PathLike,
                  flt: LayerFilter | None = None, layers: Mapping[str, gpd.GeoDataFrame] | None = None,
                  catalog: Catalog | None = None, lang: str = "zh") -> list[Path]:
    """Write the chosen layers in one format and CRS; return the files written (in ``out_dir``).

    Parameters
    ----------
    layer_ids
        Layer ids (or ``"all"``, or a comma-joined string).
    fmt
        A key of :data:`FORMATS`: geojson | gpkg | shp | kml | csv.
    crs
        4326 | 4490 | 4549 (also ``"EPSG:4549"``). GeoJSON and KML accept only 4326.
    out_dir
        Output folder (created if missing).
    flt
        Applied with :func:`layers.filters.filter_layers` first, so the files hold what the map shows.
    layers
        Already loaded WGS84 frames (e.g. from the app); missing ones are read from geodata/.
    lang
        "zh" or "en": the language of layer titles, field aliases and style legends in the files.

    Raises
    ------
    ExportError
        Unknown format, layer or CRS; a refused format × CRS pair; a failed write (no file is left behind).
    """
    catalog = catalog or get_catalog()
    if not isinstance(fmt, str) or fmt.lower() not in FORMATS:
        raise ExportError(f"Unknown format {str(fmt)[:40]!r}; choose one of: {', '.join(FORMATS)}.")
    spec_fmt = FORMATS[fmt.lower()]
    if lang not in EXPORT_LANGS:
        raise ExportError(f"Unknown language {str(lang)[:10]!r}; choose one of: {', '.join(EXPORT_LANGS)}.")
    code = parse_crs(crs)
    if code not in spec_fmt.crs:
        raise ExportError(f"{spec_fmt.label} cannot be written in EPSG:{code}. {spec_fmt.crs_reason}")
    ids = _resolve_ids(layer_ids, catalog)
    flt = flt or LayerFilter()
    frames = _prepare_frames(ids, layers, flt, catalog)
    date = str(catalog.meta.get("release_date", "undated"))
    if code != 4326:
        frames = {k: v.to_crs(epsg=code) for k, v in frames.items()}
    job = ExportJob(frames=frames, specs={i: catalog.layer(i) for i in ids}, crs=code, date=date, flt=flt,
                    catalog=catalog, lang=lang)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"Cannot create the output folder {out}: {exc.strerror or exc}.") from exc
    staging = _Staging(out)
    try:
        spec_fmt.writer(job, staging)
        return staging.commit()
    except SongjiangMapError:
        staging.abort()
        raise
    except Exception as exc:
        staging.abort()
        raise ExportError(f"{spec_fmt.label} export failed, nothing was written: {type(exc).__name__}: "
                          f"{str(exc)[:300]}") from exc
    except BaseException:
        staging.abort()
        raise


def _prepare_frames(ids: list[str], layers: Mapping[str, gpd.GeoDataFrame] | None, flt: LayerFilter,
                    catalog: Catalog) -> dict[str, gpd.GeoDataFrame]:

    given = dict(layers or {})
    # Filters need the rail lines for stations; keep those frames in the filter input, not in the output.
    needed = set(ids)
    if flt.rail_status or flt.rail_mode or flt.rail_line:
        needed.add("rail_lines")
    missing = [i for i in catalog.layer_ids if i in needed and i not in given]
    if missing:
        loaded, errors = load_layers(missing, catalog=catalog)
        if errors:
            raise ExportError("Cannot export: " + "; ".join(errors.values()))
        given.update(loaded)
    work = {i: given[i] for i in catalog.layer_ids if i in needed}
    filtered = filter_layers(work, flt)
    frames: dict[str, gpd.GeoDataFrame] = {}
    for layer_id in ids:
        gdf = filtered[layer_id]
        if gdf.crs is None or gdf.crs.to_epsg() != 4326:
            raise ExportError(f"Layer {layer_id!r} is not in WGS84 (EPSG:4326) but {gdf.crs}.")
        lacking = [f for f in PROVENANCE_FIELDS if f not in gdf.columns]
        if lacking:
            raise ExportError(f"Layer {layer_id!r} lacks {lacking}: every exported feature must keep its "
                              "source, licence and accuracy.")
        cols = [c for c in gdf.columns if c != gdf.geometry.name]
        frames[layer_id] = typed_columns(gpd.GeoDataFrame(gdf[cols].reset_index(drop=True),
                                                          geometry=gdf.geometry.reset_index(drop=True), crs=gdf.crs))
    return frames


def export_download(layer_ids: Iterable[str], *, fmt: str, crs: int | str, flt: LayerFilter | None = None,
                    layers: Mapping[str, gpd.GeoDataFrame] | None = None, catalog: Catalog | None = None,
                    lang: str = "zh") -> tuple[str, bytes, str]:
    """One download for the app: (file name, content, MIME type).

    The files :func:`export_layers` writes for the chosen layers, format, CRS and filter — the one file itself
    when there is one, else one flat zip of them named after the selection, CRS and date. Shapefile zips are
    unpacked into a folder per layer, so the download never holds a zip inside a zip. Nothing stays on disk.
    """
    catalog = catalog or get_catalog()
    with tempfile.TemporaryDirectory(prefix="songjiang-download-") as tmp:
        files = export_layers(list(layer_ids), fmt=fmt, crs=crs, out_dir=tmp, flt=flt, layers=layers,
                              catalog=catalog, lang=lang)
        if len(files) == 1:
            path = files[0]
            return path.name, path.read_bytes(), _MIME.get(path.suffix.lower(), "application/octet-stream")
        date = str(catalog.meta.get("release_date", "undated"))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                if path.suffix.lower() != ".zip":
                    archive.writestr(_member(path.name, date), path.read_bytes())
                    continue
                with zipfile.ZipFile(path) as inner:
                    for name in inner.namelist():
                        archive.writestr(_member(f"{path.stem}/{name}", date), inner.read(name))
        name = f"{FILE_PREFIX}_{len(files)}files_{fmt}_epsg{parse_crs(crs)}_{date}.zip"
        return name, buffer.getvalue(), "application/zip"


def _member(name: str, date: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=zip_stamp(date))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


_MIME = {".geojson": "application/geo+json", ".qgs": "application/x-qgis-project",
         ".gpkg": "application/geopackage+sqlite3", ".zip": "application/zip",
         ".kml": "application/vnd.google-earth.kml+xml", ".csv": "text/csv"}
