"""The GeoPackage download: version 1.2 (valid for GDAL ≥ 2.3), one spatially indexed table per layer part,
field aliases (Schema extension), the QGIS ``layer_styles`` table, a metadata table and a QGIS project beside it."""
from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyogrio

from layers.core.errors import ExportError
from layers.core.i18n import t
from layers.export.job import ExportJob, LayerPart, _selection_label, _Staging, filter_text
from layers.export.qgs import project_qgs
from layers.export.qml import layer_qml
from layers.export.sld import layer_sld
from layers.export.symbology import LayerSheet, layer_sheet

#: GeoPackage version written: 1.4 makes GDAL < 3.7 (Debian 12, many QGIS LTR builds) warn and fail validation.
GPKG_VERSION = "1.2"
#: Geometry column GDAL gives every table (named in ``layer_styles`` and the project).
GEOMETRY_COLUMN = "geom"
_EMPTY_TYPES = {"polygon": "MultiPolygon", "line": "MultiLineString", "point": "Point"}
_SCHEMA_DEFINITION = "http://www.geopackage.org/spec121/#extension_schema"
_CREATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS gpkg_data_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT, mime_type TEXT,
  constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), CONSTRAINT gdc_tn UNIQUE (table_name, name));
CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
  constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN,
  max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
  CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
"""


def part_sheet(job: ExportJob, part: LayerPart) -> LayerSheet:
    """The style sheet of one exported table or file."""
    cols = [c for c in part.frame.columns if c != part.frame.geometry.name]
    return layer_sheet(job.specs[part.layer_id], job.catalog, name=part.name, family=part.family, columns=cols,
                       features=part.frame[cols].to_dict("records"), lang=job.lang)


def provenance_text(job: ExportJob, layer_id: str) -> str:
    """One paragraph of provenance: attribution, source, licence, date and accuracy."""
    prov = job.specs[layer_id].provenance
    return (f"{prov.attribution}. Source: {prov.source}. Licence: {prov.licence}. Date: {prov.date}. "
            f"Accuracy: {prov.accuracy}.")


def _write_tables(job: ExportJob, path: Path, parts: Sequence[LayerPart], sheets: Sequence[LayerSheet]) -> None:
    for i, (part, sheet) in enumerate(zip(parts, sheets, strict=True)):
        pyogrio.write_dataframe(
            part.frame, path, layer=part.name, driver="GPKG", append=i > 0,
            dataset_options={"VERSION": GPKG_VERSION} if i == 0 else None,
            geometry_type=_EMPTY_TYPES[part.family] if part.frame.empty else None,
            layer_options={"IDENTIFIER": sheet.title, "DESCRIPTION": provenance_text(job, part.layer_id),
                           "SPATIAL_INDEX": "YES", "GEOMETRY_NAME": GEOMETRY_COLUMN})


def _styles_frame(job: ExportJob, sheets: Sequence[LayerSheet]) -> pd.DataFrame:
    # Stamped with the release date, not the clock: the same data gives the same file.
    stamp = pd.Timestamp(f"{job.date}T00:00:00Z") if job.date[:4].isdigit() else pd.Timestamp("1970-01-01", tz="UTC")
    return pd.DataFrame({
        "f_table_catalog": "", "f_table_schema": "", "f_table_name": [s.name for s in sheets],
        "f_geometry_column": GEOMETRY_COLUMN, "styleName": [s.name for s in sheets],
        "styleQML": [layer_qml(s) for s in sheets], "styleSLD": [layer_sld(s) for s in sheets],
        "useAsDefault": True, "description": [s.title for s in sheets], "owner": "", "ui": None,
        "update_time": stamp,
    })


def _write_data_columns(job: ExportJob, path: Path, parts: Sequence[LayerPart],
                        sheets: Sequence[LayerSheet]) -> None:
    other = "en" if job.lang == "zh" else "zh"
    with sqlite3.connect(path) as con:
        con.executescript(_CREATE_SCHEMA)
        for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
            con.execute("INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) "
                        "VALUES (?, NULL, 'gpkg_schema', ?, 'read-write')", (table, _SCHEMA_DEFINITION))
        for part, sheet in zip(parts, sheets, strict=True):
            con.executemany(
                "INSERT INTO gpkg_data_columns (table_name, column_name, name, title, description) "
                "VALUES (?, ?, ?, ?, ?)",
                [(part.name, col, alias, alias, job.catalog.label(col, other)) for col, alias in sheet.aliases])


def write_gpkg(job: ExportJob, staging: _Staging) -> None:
    """The GeoPackage of every layer part, and ``<same stem>.qgs``, a QGIS project opening it styled."""
    stem = job.stem(_selection_label(job))
    tmp = staging.new(f"{stem}.gpkg")
    parts = job.all_parts()
    sheets = [part_sheet(job, p) for p in parts]
    _write_tables(job, tmp, parts, sheets)
    pyogrio.write_dataframe(_metadata_rows(job), tmp, layer="layer_metadata", driver="GPKG", append=True,
                            layer_options={"IDENTIFIER": t("exp_metadata", job.lang),
                                           "DESCRIPTION": "Source, licence, accuracy and CRS of each layer"})
    pyogrio.write_dataframe(_styles_frame(job, sheets), tmp, layer="layer_styles", driver="GPKG", append=True,
                            layer_options={"FID": "id", "IDENTIFIER": "layer_styles",
                                           "DESCRIPTION": "QGIS layer styles (QML and SLD), applied on open"})
    _write_data_columns(job, tmp, parts, sheets)
    with sqlite3.connect(tmp) as con:  # belt and braces: refuse a file that is not a valid container
        kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
    if kinds.get("layer_metadata") != "attributes" or kinds.get("layer_styles") != "attributes":
        raise ExportError("GeoPackage: the layer_metadata or layer_styles table was not registered as attributes.")
    tables = [(p.layer_id, s) for p, s in zip(parts, sheets, strict=True)]
    qgs = project_qgs(job.catalog, tables, gpkg_name=f"{stem}.gpkg",
                      crs=job.crs, lang=job.lang, title=stem, extent=_extent(parts))
    staging.new(f"{stem}.qgs").write_text(qgs, encoding="utf-8", newline="\n")


def _extent(parts: Sequence[LayerPart]) -> tuple[float, float, float, float] | None:
    bounds = [p.frame.total_bounds for p in parts if not p.frame.empty]
    if not bounds:
        return None
    return (min(b[0] for b in bounds), min(b[1] for b in bounds), max(b[2] for b in bounds),
            max(b[3] for b in bounds))


def _metadata_rows(job: ExportJob) -> pd.DataFrame:
    rows = []
    for layer_id, gdf in job.frames.items():
        spec = job.specs[layer_id]
        prov = spec.provenance
        rows.append({
            "layer": layer_id, "title_zh": spec.title_zh, "title_en": spec.title_en, "source": prov.source,
            "licence": prov.licence, "attribution": prov.attribution, "accuracy": prov.accuracy,
            "source_date": prov.date, "release_date": job.date, "crs": f"EPSG:{job.crs}", "plan_ref": prov.plan_ref,
            "feature_count": int(len(gdf)), "filter": filter_text(job.flt),
            "tables": ",".join(p.name for p in job.parts(layer_id)),
        })
    return pd.DataFrame(rows)
