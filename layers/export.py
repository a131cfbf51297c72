"""Download layers for GIS tools: GeoJSON, GeoPackage, Shapefile (zip), KML and CSV, in EPSG:4326/4490/4549.

One entry point, :func:`export_layers`, dispatches through :data:`FORMATS` (name → implementation). Every
file keeps each feature's ``source``, ``licence`` and ``accuracy`` (+ ``accuracy_m`` for points); names say
layer, CRS and release date; writes are atomic (temporary files in ``out_dir``, renamed only when every file
of the export is complete). GCJ-02 is never offered: it is a display shift, not a data CRS.
"""
from __future__ import annotations

import argparse
import csv
import html
import io
import math
import os
import re
import shutil
import sqlite3
import tempfile
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from .build import replace_together
from .catalog import Catalog, LayerSpec, get_catalog
from .errors import CatalogError, ExportError, FilterError, SongjiangMapError
from .filters import FILTER_KEYS, LayerFilter, describe_untrusted, filter_layers, filter_options
from .geojson import feature, feature_collection_text, geometry_family

#: EPSG codes an export may be written in: WGS84, CGCS2000 geographic, CGCS2000 3° GK CM 120E (metres).
CRS_CHOICES = (4326, 4490, 4549)
CRS_NAMES = {4326: "WGS 84 (lon/lat)", 4490: "CGCS2000 (lon/lat)", 4549: "CGCS2000 / 3-degree GK CM 120E (m)"}
#: DBF limits: field names ≤ 10 characters, text values ≤ 254 bytes.
SHP_FIELD_CHARS = 10
SHP_TEXT_BYTES = 254
#: WKT decimals in CSV: ~1 mm either way (degrees vs metres).
WKT_DECIMALS = {4326: 9, 4490: 9, 4549: 3}
#: Attributes every exported feature must carry.
PROVENANCE_FIELDS = ("source", "licence", "accuracy")
#: Text a spreadsheet would read as a formula when it starts a CSV cell (see :func:`inert_cell`).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FILE_PREFIX = "songjiang"


@dataclass(frozen=True)
class ExportJob:
    """Everything a format writer needs: frames already filtered and in the target CRS."""

    frames: dict[str, gpd.GeoDataFrame]
    specs: dict[str, LayerSpec]
    crs: int
    date: str
    flt: LayerFilter
    catalog: Catalog

    def stem(self, label: str) -> str:
        """File stem: ``songjiang_<label>[_filtered]_epsg<crs>_<date>``."""
        filtered = "_filtered" if not self.flt.is_empty() else ""
        return f"{FILE_PREFIX}_{label}{filtered}_epsg{self.crs}_{self.date}"


class _Staging:
    """Temporary files in the output folder, renamed into place together, or all removed."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.token = uuid.uuid4().hex[:8]
        self.pairs: list[tuple[Path, Path]] = []

    def new(self, final_name: str) -> Path:
        suffix = "".join(Path(final_name).suffixes[-1:])
        tmp = self.out_dir / f".{final_name}.{self.token}.part{suffix}"
        self.pairs.append((tmp, self.out_dir / final_name))
        return tmp

    def scratch_dir(self) -> Path:
        return Path(tempfile.mkdtemp(dir=self.out_dir, prefix=f".export-{self.token}-"))

    def commit(self) -> list[Path]:
        for tmp, final in self.pairs:
            if not tmp.exists():
                raise ExportError(f"Internal error: {final.name} was not written.")
        # All files or none: a rename failing half-way puts back what the folder held before.
        replace_together(self.pairs)
        return [final for _tmp, final in self.pairs]

    def abort(self) -> None:
        for tmp, _final in self.pairs:
            tmp.unlink(missing_ok=True)
        for leftover in self.out_dir.glob(f".*{self.token}*"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------------------------
# Helpers shared by the writers


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _text(value: Any) -> str:
    return "" if _is_missing(value) else str(value)


def _attribute_columns(gdf: gpd.GeoDataFrame) -> list[str]:
    return [c for c in gdf.columns if c != gdf.geometry.name]


_EMPTY_TYPES = {"polygon": "MultiPolygon", "line": "MultiLineString", "point": "Point", "mixed": "Unknown"}


def _geometry_type_hint(spec: LayerSpec, gdf: gpd.GeoDataFrame) -> str | None:
    """Geometry type to declare for an empty frame (GDAL cannot infer one from no rows)."""
    return _EMPTY_TYPES.get(spec.geometry, "Unknown") if gdf.empty else None


def _readme(job: ExportJob, layer_id: str, extra: Sequence[str] = ()) -> str:
    spec = job.specs[layer_id]
    prov = spec.provenance
    gdf = job.frames[layer_id]
    accuracy = ", ".join(sorted(set(gdf["accuracy"].dropna().astype(str)))) or prov.accuracy
    lines = [
        f"{job.catalog.meta.get('title_zh', '')} / {job.catalog.meta.get('title_en', '')}",
        f"Layer: {spec.id} — {spec.title_zh} / {spec.title_en}",
        f"Features: {len(gdf)}",
        f"CRS: EPSG:{job.crs} ({CRS_NAMES[job.crs]})",
        f"Release date: {job.date}",
        f"Filter: {_filter_text(job.flt)}",
        "",
        f"Attribution: {prov.attribution}",
        f"Source: {prov.source}",
        f"Licence: {prov.licence}",
        f"Source date: {prov.date}",
        f"Accuracy: {accuracy} (every feature carries its own 'source', 'licence' and 'accuracy'"
        + (", and 'accuracy_m', the position uncertainty in metres)" if "accuracy_m" in gdf.columns else ")"),
        "Accuracy levels: authoritative = official survey; osm = OpenStreetMap; provider = map provider; "
        "approximate = located within accuracy_m metres; schematic = an illustration, not for measurement.",
        f"Plan reference: {prov.plan_ref or '-'} ({job.catalog.meta.get('plan_en', '')})",
    ]
    if spec.notes_en:
        lines += ["", f"Notes: {spec.notes_en}"]
    if extra:
        lines += ["", *extra]
    return "\r\n".join(lines) + "\r\n"


def _filter_text(flt: LayerFilter) -> str:
    params = flt.to_params()
    return "; ".join(f"{k}={v}" for k, v in params.items()) if params else "none (all features)"


def _metadata_rows(job: ExportJob) -> pd.DataFrame:
    rows = []
    for layer_id, gdf in job.frames.items():
        spec = job.specs[layer_id]
        prov = spec.provenance
        rows.append({
            "layer": layer_id, "title_zh": spec.title_zh, "title_en": spec.title_en, "source": prov.source,
            "licence": prov.licence, "attribution": prov.attribution, "accuracy": prov.accuracy,
            "source_date": prov.date, "release_date": job.date, "crs": f"EPSG:{job.crs}", "plan_ref": prov.plan_ref,
            "feature_count": int(len(gdf)), "filter": _filter_text(job.flt),
        })
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------------------
# Writers: one per format, each (job, staging) -> None, registering its files with the staging area


def _write_geojson(job: ExportJob, staging: _Staging) -> None:
    # RFC 7946: lon/lat WGS84, 6 decimals, CCW exteriors, no crs member (layers.geojson does all of it).
    for layer_id, gdf in job.frames.items():
        cols = _attribute_columns(gdf)
        feats = [feature(geom, dict(zip(cols, row)))
                 for geom, row in zip(gdf.geometry.values, gdf[cols].itertuples(index=False, name=None))]
        stem = job.stem(layer_id)
        text = feature_collection_text(feats, name=stem)
        staging.new(f"{stem}.geojson").write_text(text, encoding="utf-8", newline="\n")


def _write_gpkg(job: ExportJob, staging: _Staging) -> None:
    label = _selection_label(job)
    tmp = staging.new(f"{job.stem(label)}.gpkg")
    for i, (layer_id, gdf) in enumerate(job.frames.items()):
        spec = job.specs[layer_id]
        pyogrio.write_dataframe(
            gdf, tmp, layer=layer_id, driver="GPKG", append=i > 0,
            geometry_type=_geometry_type_hint(spec, gdf),
            layer_options={"IDENTIFIER": f"{spec.title_zh} / {spec.title_en}",
                           "DESCRIPTION": spec.provenance.attribution})
    # A non-spatial table (GDAL registers it in gpkg_contents with data_type 'attributes').
    pyogrio.write_dataframe(_metadata_rows(job), tmp, layer="layer_metadata", driver="GPKG", append=True,
                            layer_options={"DESCRIPTION": "Source, licence, accuracy and CRS of each layer"})
    with sqlite3.connect(tmp) as con:  # belt and braces: refuse a file that is not a valid container
        kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
    if kinds.get("layer_metadata") != "attributes":
        raise ExportError("GeoPackage: the layer_metadata table was not registered as attributes.")


def shapefile_field_map(names: Iterable[str]) -> dict[str, str]:
    """Map attribute names to unique DBF names of ≤ 10 characters, deterministically.

    Names that fit are kept; longer ones are shortened part by part (``residents_committees_2022`` →
    ``re_co_2022``), the longest ``_``-separated part losing a character first; a clash gets a numeric tail.
    Uniqueness is case-insensitive, as DBF readers compare names that way.
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    names = list(names)
    # Names that already fit are reserved first, so a shortened name never takes their place.
    for name in names:
        if len(name) <= SHP_FIELD_CHARS and name.lower() not in used:
            out[name] = name
            used.add(name.lower())
    for name in names:
        if name in out:
            continue
        parts = [p for p in name.split("_") if p] or ["f"]
        while len("_".join(parts)) > SHP_FIELD_CHARS:
            # Words shrink before numbers (years stay readable); among words the longest, then the first.
            longest = max(range(len(parts)), key=lambda i: (not parts[i].isdigit() and len(parts[i]) > 1,
                                                             len(parts[i]), -i))
            if len(parts[longest]) <= 1:
                parts = ["".join(parts)[:SHP_FIELD_CHARS]]
                break
            parts[longest] = parts[longest][:-1]
        base = "_".join(parts)[:SHP_FIELD_CHARS]
        candidate, n = base, 1
        while candidate.lower() in used:
            tail = str(n)
            candidate = base[:SHP_FIELD_CHARS - len(tail)] + tail
            n += 1
        out[name] = candidate
        used.add(candidate.lower())
    return {name: out[name] for name in names}


def _fit_dbf_text(value: Any) -> tuple[Any, bool]:
    """Cut a text value to 254 UTF-8 bytes on a character boundary; report whether it was cut."""
    if not isinstance(value, str):
        return value, False
    data = value.encode("utf-8")
    if len(data) <= SHP_TEXT_BYTES:
        return value, False
    return data[:SHP_TEXT_BYTES].decode("utf-8", errors="ignore"), True


def inert_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet cannot run: text starting like a formula (``= + - @``, tab, CR) gets a leading
    apostrophe, so Excel or LibreOffice show it as text instead of evaluating it (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_text(df: pd.DataFrame) -> str:
    df = df.copy()
    for col in df.columns:
        if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
            df[col] = pd.Series([inert_cell(v) for v in df[col]], index=df.index, dtype=object)
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return "\ufeff" + buf.getvalue()  # BOM: Excel then reads the file as UTF-8


def _write_shapefile(job: ExportJob, staging: _Staging) -> None:
    for layer_id, gdf in job.frames.items():
        spec = job.specs[layer_id]
        stem = job.stem(layer_id)
        cols = _attribute_columns(gdf)
        fmap = shapefile_field_map(cols)
        out = gdf.rename(columns=fmap)
        truncated: list[str] = []
        for col in cols:
            if out[fmap[col]].dtype == object or pd.api.types.is_string_dtype(out[fmap[col]]):
                fitted = [_fit_dbf_text(v) for v in out[fmap[col]]]
                if any(cut for _v, cut in fitted):
                    truncated.append(col)
                    out[fmap[col]] = pd.Series([v for v, _cut in fitted], index=out.index, dtype=object)
        families = [geometry_family(t) or "other" for t in out.geometry.geom_type]
        present = list(dict.fromkeys(f for f in families if f != "other")) or [
            {"polygon": "polygon", "line": "line", "point": "point"}.get(spec.geometry, "polygon")]
        if "other" in families:  # null geometries go with the first family
            families = [present[0] if f == "other" else f for f in families]
        parts = {fam: out[np.array([f == fam for f in families], dtype=bool)] for fam in present}
        scratch = staging.scratch_dir()
        try:
            members: list[Path] = []
            for fam, part in parts.items():
                part_stem = stem if len(parts) == 1 else f"{FILE_PREFIX}_{layer_id}_{fam}_epsg{job.crs}_{job.date}"
                if len(parts) > 1 and not job.flt.is_empty():
                    part_stem = f"{FILE_PREFIX}_{layer_id}_{fam}_filtered_epsg{job.crs}_{job.date}"
                shp = scratch / f"{part_stem}.shp"
                hint = _EMPTY_TYPES.get(fam) if part.empty else None
                pyogrio.write_dataframe(part, shp, driver="ESRI Shapefile", encoding="UTF-8", geometry_type=hint)
                for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                    f = shp.with_suffix(ext)
                    if not f.exists():
                        raise ExportError(f"Shapefile {shp.name}: GDAL did not write the {ext} part.")
                    members.append(f)
            fieldmap = pd.DataFrame({"field": list(fmap), "shapefile_field": list(fmap.values()),
                                     "label_zh": [job.catalog.label(c, "zh") for c in fmap],
                                     "label_en": [job.catalog.label(c, "en") for c in fmap],
                                     "truncated_to_254_bytes": ["yes" if c in truncated else "" for c in fmap]})
            (scratch / "fieldmap.csv").write_text(_csv_text(fieldmap), encoding="utf-8", newline="")
            full = pd.DataFrame(gdf[cols])
            full_name = f"{stem}_attributes.csv"
            (scratch / full_name).write_text(_csv_text(full), encoding="utf-8", newline="")
            extra = [
                "Files: .shp/.shx/.dbf/.prj/.cpg (text encoding UTF-8, declared in the .cpg).",
                "fieldmap.csv: original attribute name -> the 10-character Shapefile field name, with labels.",
            ]
            if len(parts) > 1:
                extra.append("This layer mixes geometry types, which a Shapefile cannot hold: it is split into "
                             + ", ".join(f"{FILE_PREFIX}_{layer_id}_{fam}_*.shp ({len(p)} feature(s))"
                                         for fam, p in parts.items()) + ".")
            if truncated:
                extra.append("DBF text is limited to 254 bytes; these fields were cut at a character boundary: "
                             + ", ".join(truncated) + f". The full values are in {full_name} (UTF-8).")
            else:
                extra.append(f"{full_name}: the same attributes as a UTF-8 CSV.")
            extra.append("DBF pads text with blanks, so trailing spaces of a value are not kept in the .dbf "
                         "(they are in the CSV).")
            (scratch / "README.txt").write_text(_readme(job, layer_id, extra), encoding="utf-8", newline="")
            members += [scratch / "fieldmap.csv", scratch / full_name, scratch / "README.txt"]
            zip_tmp = staging.new(f"{stem}.zip")
            stamp = tuple(int(x) for x in job.date.split("-")) + (0, 0, 0) if re.fullmatch(
                r"\d{4}-\d{2}-\d{2}", job.date) else (1980, 1, 1, 0, 0, 0)
            with zipfile.ZipFile(zip_tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for member in members:
                    info = zipfile.ZipInfo(member.name, date_time=stamp)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    zf.writestr(info, member.read_bytes())
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _description_table(catalog: Catalog, row: Mapping[str, Any]) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(catalog.label(k, 'zh'))} / {html.escape(catalog.label(k, 'en'))}</th>"
        f"<td>{html.escape(_text(v))}</td></tr>" for k, v in row.items())
    return f"<table>{cells}</table>"


def _write_kml(job: ExportJob, staging: _Staging) -> None:
    # KML is WGS84 lon/lat by definition; GDAL's KML driver adds every attribute as ExtendedData too.
    for layer_id, gdf in job.frames.items():
        cols = _attribute_columns(gdf)
        out = gdf.copy()
        out.insert(0, "Name", [" ".join(p for p in (_text(zh), _text(en)) if p)
                               for zh, en in zip(gdf["name_zh"], gdf["name_en"])])
        out.insert(1, "Description", [_description_table(job.catalog, dict(zip(cols, row)))
                                      for row in gdf[cols].itertuples(index=False, name=None)])
        stem = job.stem(layer_id)
        pyogrio.write_dataframe(out, staging.new(f"{stem}.kml"), layer=layer_id, driver="KML",
                                geometry_type=_geometry_type_hint(job.specs[layer_id], gdf))


def _write_csv(job: ExportJob, staging: _Staging) -> None:
    decimals = WKT_DECIMALS[job.crs]
    for layer_id, gdf in job.frames.items():
        df = pd.DataFrame(gdf[_attribute_columns(gdf)])
        df["wkt"] = [shapely.to_wkt(g, rounding_precision=decimals, trim=True) if g is not None else ""
                     for g in gdf.geometry.values]
        df["wkt_crs"] = f"EPSG:{job.crs}"
        staging.new(f"{job.stem(layer_id)}.csv").write_text(_csv_text(df), encoding="utf-8", newline="")


@dataclass(frozen=True)
class ExportFormat:
    """One download format: its writer and the CRSs it can hold (with the reason when limited)."""

    name: str
    label: str
    writer: Callable[[ExportJob, _Staging], None]
    crs: tuple[int, ...] = CRS_CHOICES
    crs_reason: str = ""


FORMATS: dict[str, ExportFormat] = {
    "geojson": ExportFormat("geojson", "GeoJSON (RFC 7946)", _write_geojson, (4326,),
                            "GeoJSON files follow RFC 7946, which allows only WGS 84 longitude/latitude "
                            "(EPSG:4326); choose GeoPackage, Shapefile or CSV for EPSG:4490 or EPSG:4549."),
    "gpkg": ExportFormat("gpkg", "GeoPackage", _write_gpkg),
    "shp": ExportFormat("shp", "Shapefile (zip)", _write_shapefile),
    "kml": ExportFormat("kml", "KML", _write_kml, (4326,),
                        "KML is always WGS 84 longitude/latitude (EPSG:4326) by definition; choose GeoPackage, "
                        "Shapefile or CSV for EPSG:4490 or EPSG:4549."),
    "csv": ExportFormat("csv", "CSV with WKT", _write_csv),
}


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


def _selection_label(job: ExportJob) -> str:
    ids = list(job.frames)
    if len(ids) == 1:
        return ids[0]
    if set(ids) == set(job.catalog.layer_ids):
        return "all"
    return "-".join(ids) if len(ids) <= 3 else f"{len(ids)}layers"


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
                  catalog: Catalog | None = None) -> list[Path]:
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

    Raises
    ------
    ExportError
        Unknown format, layer or CRS; a refused format × CRS pair; a failed write (no file is left behind).
    """
    catalog = catalog or get_catalog()
    if not isinstance(fmt, str) or fmt.lower() not in FORMATS:
        raise ExportError(f"Unknown format {str(fmt)[:40]!r}; choose one of: {', '.join(FORMATS)}.")
    spec_fmt = FORMATS[fmt.lower()]
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
                    catalog=catalog)
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
    from .load import load_layers

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
        frames[layer_id] = gpd.GeoDataFrame(gdf[cols].reset_index(drop=True),
                                            geometry=gdf.geometry.reset_index(drop=True), crs=gdf.crs)
    return frames


# ----------------------------------------------------------------------------------------------------------
# Command line: python -m layers export ...


def _filter_from_args(args: argparse.Namespace, options: Mapping[str, list[str]]) -> LayerFilter:
    values: dict[str, tuple[str, ...]] = {}
    problems = []
    for key in FILTER_KEYS:
        raw = getattr(args, key, None)
        if not raw:
            continue
        wanted = [v.strip() for v in raw.split(",") if v.strip()]
        bad = [v for v in wanted if v not in options.get(key, [])]
        if bad:
            problems.append(f"--{key.replace('_', '-')}: unknown value(s) {', '.join(describe_untrusted(b) for b in bad[:5])}; "
                            f"choose from: {', '.join(options.get(key, [])) or '(none in the data)'}")
        values[key] = tuple(wanted)
    if problems:
        raise FilterError("Invalid filter. " + " | ".join(problems))
    return LayerFilter(**values)


def _cmd_export(args: argparse.Namespace) -> int:
    from .load import load_layers

    catalog = get_catalog()
    flt = LayerFilter()
    layers = None
    if any(getattr(args, k, None) for k in FILTER_KEYS):
        layers, errors = load_layers(catalog=catalog)
        if errors:
            raise ExportError("Cannot export: " + "; ".join(errors.values()))
        flt = _filter_from_args(args, filter_options(layers))
    layer_ids = [p for chunk in args.layer for p in chunk.split(",") if p.strip()]
    written = export_layers(layer_ids, fmt=args.format, crs=args.crs, out_dir=args.out, flt=flt, layers=layers,
                            catalog=catalog)
    for path in written:
        print(path)
    return 0


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``export``: ``python -m layers export --layer ID|all --format F --crs EPSG --out DIR [filters]``."""
    p = subparsers.add_parser(
        "export", help="write layers as GeoJSON/GeoPackage/Shapefile/KML/CSV in EPSG:4326/4490/4549",
        description="Export layers for GIS tools. GeoJSON and KML are WGS 84 (EPSG:4326) only. "
                    "Filters take comma-separated values and combine with AND across options.")
    p.add_argument("--layer", action="append", required=True, metavar="ID|all",
                   help="layer id (repeat or comma-separate), or 'all'")
    p.add_argument("--format", required=True, choices=list(FORMATS), help="output format")
    p.add_argument("--crs", required=True, choices=[str(c) for c in CRS_CHOICES], help="EPSG code")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    helps = {"rail_status": "e.g. open,planned", "rail_mode": "hsr, rail, metro, tram",
             "rail_line": "line ids, e.g. L9,T2", "park_kind": "parks.kind values",
             "park_industry": "it, equipment, materials, health, consumer, culture",
             "zone": "industry_city, culture_tourism, urban_rural_green, new_town",
             "town": "9-digit town codes, e.g. 310117105"}
    for key in FILTER_KEYS:
        p.add_argument(f"--{key.replace('_', '-')}", dest=key, metavar="V[,V...]", help=helps[key])
    p.set_defaults(func=_cmd_export)


def export_download(layer_ids: Iterable[str], *, fmt: str, crs: int | str, flt: LayerFilter | None = None,
                    layers: Mapping[str, gpd.GeoDataFrame] | None = None, catalog: Catalog | None = None
                    ) -> tuple[str, bytes, str]:
    """One download for the app: (file name, content, MIME type).

    The files :func:`export_layers` writes for the chosen layers, format, CRS and filter — the one file itself
    when there is one, else a zip of them named after the selection, CRS and date. Nothing stays on disk.
    """
    import io
    import tempfile
    import zipfile

    catalog = catalog or get_catalog()
    with tempfile.TemporaryDirectory(prefix="songjiang-download-") as tmp:
        files = export_layers(list(layer_ids), fmt=fmt, crs=crs, out_dir=tmp, flt=flt, layers=layers,
                              catalog=catalog)
        if len(files) == 1:
            path = files[0]
            return path.name, path.read_bytes(), _MIME.get(path.suffix.lower(), "application/octet-stream")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, arcname=path.name)
        date = str(catalog.meta.get("release_date", "undated"))
        name = f"{FILE_PREFIX}_{len(files)}files_{fmt}_epsg{parse_crs(crs)}_{date}.zip"
        return name, buffer.getvalue(), "application/zip"


_MIME = {".geojson": "application/geo+json", ".gpkg": "application/geopackage+sqlite3", ".zip": "application/zip",
         ".kml": "application/vnd.google-earth.kml+xml", ".csv": "text/csv"}
