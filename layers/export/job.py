"""An export job: the frames to write, their specs and target CRS, staged in a temporary folder."""
from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from layers.core.catalog import Catalog, LayerSpec
from layers.core.errors import ExportError
from layers.core.files import replace_together
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


def _selection_label(job: ExportJob) -> str:
    ids = list(job.frames)
    if len(ids) == 1:
        return ids[0]
    if set(ids) == set(job.catalog.layer_ids):
        return "all"
    return "-".join(ids) if len(ids) <= 3 else f"{len(ids)}layers"
