"""One writer per export format (``FORMATS``): GeoJSON, GeoPackage, Shapefile (zip), KML, CSV."""
from __future__ import annotations

import csv
import html
import io
import math
import re
import shutil
import sqlite3
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layers.core import upload as _gdal_environment  # noqa: F401  (GDAL_SAFE_ENV set before pyogrio loads)

# isort: split
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from layers.core.catalog import Catalog, LayerSpec
from layers.core.errors import ExportError
from layers.core.geojson import feature, feature_collection_text, geometry_family
from layers.export.job import (
    CRS_CHOICES,
    CRS_NAMES,
    FILE_PREFIX,
    FORMULA_PREFIXES,
    SHP_FIELD_CHARS,
    SHP_TEXT_BYTES,
    WKT_DECIMALS,
    ExportJob,
    _selection_label,
    _Staging,
)
from layers.map.filters import LayerFilter


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


def _write_geojson(job: ExportJob, staging: _Staging) -> None:
    # RFC 7946: lon/lat WGS84, 6 decimals, CCW exteriors, no crs member (layers.geojson does all of it).
    for layer_id, gdf in job.frames.items():
        cols = _attribute_columns(gdf)
        feats = [feature(geom, dict(zip(cols, row, strict=False)))
                 for geom, row in zip(gdf.geometry.values, gdf[cols].itertuples(index=False, name=None), strict=False)]
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
                               for zh, en in zip(gdf["name_zh"], gdf["name_en"], strict=False)])
        out.insert(1, "Description", [_description_table(job.catalog, dict(zip(cols, row, strict=False)))
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
