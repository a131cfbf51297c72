"""An export job: the frames to write, their specs and target CRS, staged in a temporary folder."""
from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.core.catalog import Catalog, LayerSpec
from layers.core.errors import ExportError
from layers.core.files import replace_together
from layers.core.geojson import geometry_family
from layers.map.filters import LayerFilter

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
#: Attributes that are numbers by meaning: typed REAL even when every value is missing (GDAL would make TEXT).
REAL_FIELDS = ("population_2020", "area_km2", "official_area_km2", "area_official_km2", "accuracy_m",
               "ref_accuracy_m", "length_km", "ref_lon_wgs84", "ref_lat_wgs84")
#: Geometry families of a layer's parts: a ``mixed`` layer becomes one table/file per family listed here.
MIXED_PARTS = ("line", "polygon")
#: Languages an export's titles, aliases and README can be written in.
EXPORT_LANGS = ("zh", "en")


@dataclass(frozen=True)
class ExportJob:
    """Everything a format writer needs: frames already filtered and in the target CRS."""

    frames: dict[str, gpd.GeoDataFrame]
    specs: dict[str, LayerSpec]
    crs: int
    date: str
    flt: LayerFilter
    catalog: Catalog
    lang: str = "zh"

    def stem(self, label: str) -> str:
        """File stem: ``songjiang_<label>[_filtered]_epsg<crs>_<date>``."""
        filtered = "_filtered" if not self.flt.is_empty() else ""
        return f"{FILE_PREFIX}_{label}{filtered}_epsg{self.crs}_{self.date}"

    def parts(self, layer_id: str) -> list[LayerPart]:
        """The tables/files of one layer: itself, or one per geometry family when it mixes lines and polygons."""
        spec = self.specs[layer_id]
        gdf = self.frames[layer_id]
        if spec.geometry != "mixed":
            return [LayerPart(layer_id, layer_id, spec.geometry, gdf)]
        families = np.array([geometry_family(t) if t else None for t in gdf.geom_type], dtype=object)
        # Null geometries go with the first family, so no feature is lost.
        families[pd.isna(families)] = MIXED_PARTS[0]
        return [LayerPart(f"{layer_id}_{fam}", layer_id, fam, gdf[families == fam].reset_index(drop=True))
                for fam in MIXED_PARTS]

    def all_parts(self) -> list[LayerPart]:
        """The parts of every layer, in draw order."""
        return [part for layer_id in self.frames for part in self.parts(layer_id)]


@dataclass(frozen=True)
class LayerPart:
    """One table or file of an export: a whole layer, or the lines or the polygons of a mixed one."""

    name: str
    layer_id: str
    family: str
    frame: gpd.GeoDataFrame


def typed_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame with number-by-meaning columns (:data:`REAL_FIELDS`) made float when they hold no text."""
    out = gdf
    for col in REAL_FIELDS:
        if col in gdf.columns and not pd.api.types.is_numeric_dtype(gdf[col]):
            numbers = pd.to_numeric(gdf[col], errors="coerce")
            if numbers.isna().equals(gdf[col].isna()):  # every present value is a number: nothing is lost
                out = out.assign(**{col: numbers.astype("float64")})
    return out


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


def _selection_label(job: ExportJob) -> str:
    ids = list(job.frames)
    if len(ids) == 1:
        return ids[0]
    if set(ids) == set(job.catalog.layer_ids):
        return "all"
    return "-".join(ids) if len(ids) <= 3 else f"{len(ids)}layers"


def filter_text(flt: LayerFilter) -> str:
    """A filter as ``key=value; …``, or a note that there is none."""
    params = flt.to_params()
    return "; ".join(f"{k}={v}" for k, v in params.items()) if params else "none (all features)"
