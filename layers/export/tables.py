"""Downloads beside the catalogue layers: the user's own layer with its per-town summary, and the places the plan
names that are listed but not drawn (unlocated parks, undrawn lines) as attribute tables with their reasons."""
from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from layers.core.catalog import Catalog, get_catalog
from layers.core.errors import ExportError
from layers.export.download import parse_crs
from layers.export.formats import _csv_text, zip_stamp
from layers.export.gpkg import GEOMETRY_COLUMN, GPKG_VERSION
from layers.export.job import EXPORT_LANGS, FILE_PREFIX
from layers.map.load import unlocated_parks

USER_LAYER_TABLE = "user_layer"
USER_SUMMARY_TABLE = "user_layer_by_town"
#: Columns of the undrawn-lines table, in order (reasons in both languages).
UNDRAWN_COLUMNS = ("line_id", "name_zh", "name_en", "mode", "status", "plan_ref", "reason_zh", "reason_en", "layer")


def undrawn_lines_frame(catalog: Catalog) -> pd.DataFrame:
    """Every line the plan names that no layer draws, with why (one row per catalogue ``undrawn`` entry)."""
    rows = [{**{k: u.get(k, "") for k in UNDRAWN_COLUMNS[:-1]}, "layer": spec.id}
            for spec in catalog.layers for u in spec.undrawn]
    return pd.DataFrame(rows, columns=list(UNDRAWN_COLUMNS))


def listed_not_drawn_download(*, catalog: Catalog | None = None, parks: pd.DataFrame | None = None,
                              lang: str = "zh") -> tuple[str, bytes, str]:
    """(file name, zip bytes, MIME) of two UTF-8 CSV tables: the unlocated parks and the undrawn lines, each row
    with its reason, and a README. ``parks`` defaults to the build's list (:func:`unlocated_parks`)."""
    catalog = catalog or get_catalog()
    if lang not in EXPORT_LANGS:
        raise ExportError(f"Unknown language {str(lang)[:10]!r}; choose one of: {', '.join(EXPORT_LANGS)}.")
    date = str(catalog.meta.get("release_date", "undated"))
    parks = unlocated_parks() if parks is None else parks
    members = {
        f"{FILE_PREFIX}_unlocated_parks_{date}.csv": _csv_text(parks),
        f"{FILE_PREFIX}_undrawn_lines_{date}.csv": _csv_text(undrawn_lines_frame(catalog)),
        "README.txt": "\r\n".join([
            f"{catalog.meta.get('title_zh', '')} / {catalog.meta.get('title_en', '')} — {date}",
            "未能定位的园区（仅列出，不绘制），原因见 reason 列 / Parks the plan names whose position was not found "
            "(listed, not drawn); the 'reason' column says why.",
            "规划提及但未绘制的线路，原因见 reason_zh / reason_en 列 / Lines the plan names without a drawn "
            "alignment; 'reason_zh' and 'reason_en' say why.",
            "No geometry: these are attribute tables (UTF-8 CSV with BOM).",
        ]) + "\r\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=zip_stamp(date)), text.encode("utf-8"),
                             compress_type=zipfile.ZIP_DEFLATED)
    return f"{FILE_PREFIX}_listed_not_drawn_{date}.zip", buffer.getvalue(), "application/zip"


def user_layer_download(gdf: gpd.GeoDataFrame, summary: pd.DataFrame, *, crs: int | str = 4326,
                        name: str = USER_LAYER_TABLE, description: str = "") -> tuple[str, bytes, str]:
    """(file name, GeoPackage bytes, MIME) of the user's own layer as uploaded (every attribute kept), in ``crs``,
    with its per-town summary as a second, attribute-only table.

    Raises
    ------
    ExportError
        The layer has no CRS, or the CRS is not one an export may use.
    """
    code = parse_crs(crs)
    if gdf.crs is None:
        raise ExportError("The layer has no coordinate reference system; it cannot be exported.")
    layer = gdf.to_crs(epsg=code)
    stem = f"{FILE_PREFIX}_{name}_epsg{code}"
    with tempfile.TemporaryDirectory(prefix="songjiang-user-layer-") as tmp:
        path = Path(tmp) / f"{stem}.gpkg"
        pyogrio.write_dataframe(layer, path, layer=USER_LAYER_TABLE, driver="GPKG",
                                dataset_options={"VERSION": GPKG_VERSION},
                                layer_options={"IDENTIFIER": name, "DESCRIPTION": description or name,
                                               "SPATIAL_INDEX": "YES", "GEOMETRY_NAME": GEOMETRY_COLUMN})
        pyogrio.write_dataframe(pd.DataFrame(summary).reset_index(drop=True), path, layer=USER_SUMMARY_TABLE,
                                driver="GPKG", append=True,
                                layer_options={"IDENTIFIER": f"{name} — by town",
                                               "DESCRIPTION": "Per-town summary of the user's layer"})
        return path.name, path.read_bytes(), "application/geopackage+sqlite3"
