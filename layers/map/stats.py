"""Per-town statistics: official facts next to counts and lengths computed live from the layers, and classification."""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from layers.core.crs import to_measure
from layers.core.errors import ClassificationError, UnknownTownError
from layers.core.i18n import t
from layers.core.numbers import fmt_number, unit_label

#: Rail status counted in ``rail_km_open``.
OPEN_STATUS = "open"
_COMPUTED_SOURCE = "src_computed"  # i18n key: computed by this project in EPSG:4549 from the map layers


@dataclass(frozen=True)
class StatisticMeta:
    """What one statistic means and how far it can be trusted."""

    label_zh: str
    label_en: str
    unit: str  # a kind of layers.core.numbers.KINDS: how the figure is formatted and its unit
    year: str | None
    source: str  # an i18n key: where the figure comes from
    computed: bool
    on_schematic_geometry: bool
    note_zh: str = ""
    note_en: str = ""

    def label(self, lang: str) -> str:
        """Label in ``lang`` ("zh" or "en")."""
        return self.label_en if lang == "en" else self.label_zh

    def note(self, lang: str) -> str:
        """Caveat in ``lang``; empty when there is none."""
        return self.note_en if lang == "en" else self.note_zh

    def unit_label(self, lang: str) -> str:
        """The unit in words in ``lang`` ("个" / "count" for a count)."""
        return unit_label(self.unit, lang) or t("unit_count", lang)

    def source_text(self, lang: str) -> str:
        """Where the figure comes from, in ``lang``."""
        return t(self.source, lang)

    def format(self, value: Any, lang: str, *, approx: bool = False, unit: bool = False) -> str:
        """One figure of this statistic as text (separators, decimals, missing said so)."""
        return fmt_number(value, self.unit, lang, approx=approx, unit=unit)


_SCHEMATIC_NOTE_ZH = "按示意街镇边界计算，边界不真实，仅供比较"
_SCHEMATIC_NOTE_EN = "Computed on the schematic town cells, whose boundaries are not real: for comparison only"

#: Every column of :func:`town_statistics` that is a statistic, with its metadata (the order is the table's).
STATISTICS: dict[str, StatisticMeta] = {
    "employment_2023": StatisticMeta("从业人员", "Persons employed", "persons", "2023",
                                     "src_census5", False, False),
    "residents_committees_2022": StatisticMeta("居委会", "Residents' committees", "count", "2022",
                                               "src_nbs2022", False, False),
    "village_committees_2022": StatisticMeta("村委会", "Village committees", "count", "2022",
                                             "src_nbs2022", False, False),
    "villages_2022": StatisticMeta("村居委会合计", "Committees in total", "count", "2022",
                                   "src_nbs2022", False, False),
    "population_2020": StatisticMeta("常住人口", "Residents", "persons", "2020", "src_census7",
                                     False, False, "暂无街镇数据，不作估算", "No town figures yet; not estimated"),
    "area_official_km2": StatisticMeta("官方面积", "Official area", "km2", "2002–2015",
                                       "src_areas", False, False,
                                       "年份各异，见面积年份与可信度", "Years differ; see area year and grade"),
    "area_km2": StatisticMeta("示意面积", "Schematic area", "km2", None, _COMPUTED_SOURCE, True, True,
                              _SCHEMATIC_NOTE_ZH, _SCHEMATIC_NOTE_EN),
    "employment_density": StatisticMeta(
        "从业人员密度", "Employment density", "density", "2023", "src_density",
        True, True, "以示意面积为分母，" + _SCHEMATIC_NOTE_ZH,
        "Divides by the schematic cell area. " + _SCHEMATIC_NOTE_EN),
    "stations": StatisticMeta("车站数", "Stations", "count", None, _COMPUTED_SOURCE, True, True,
                              _SCHEMATIC_NOTE_ZH, _SCHEMATIC_NOTE_EN),
    "rail_km_open": StatisticMeta("已开通轨道长度", "Open rail length", "km", None, _COMPUTED_SOURCE, True, True,
                                  "各线路长度相加（共线段重复计算）；" + _SCHEMATIC_NOTE_ZH,
                                  "Sum over lines (shared track counted per line). " + _SCHEMATIC_NOTE_EN),
    "rail_km_total": StatisticMeta("轨道长度（含在建、规划）", "Rail length (incl. building, planned)", "km", None,
                                   _COMPUTED_SOURCE, True, True,
                                   "各线路长度相加（共线段重复计算）；" + _SCHEMATIC_NOTE_ZH,
                                   "Sum over lines (shared track counted per line). " + _SCHEMATIC_NOTE_EN),
    "parks": StatisticMeta("园区与重点地区", "Parks and key sites", "count", None, _COMPUTED_SOURCE, True, True,
                           "仅计已定位的点，位置多为近似；" + _SCHEMATIC_NOTE_ZH,
                           "Located points only, mostly approximate. " + _SCHEMATIC_NOTE_EN),
}
OFFICIAL_FIELDS = tuple(k for k, m in STATISTICS.items() if not m.computed)


# --------------------------------------------------------------------------------------------------------------
# Spatial assignment (EPSG:4549)
# --------------------------------------------------------------------------------------------------------------
def _cells_m(towns: gpd.GeoDataFrame) -> list[tuple[str, BaseGeometry]]:
    return [(str(code), to_measure(geom)) for code, geom in zip(towns["code"], towns.geometry, strict=False)]


def _point_town(cells: Sequence[tuple[str, BaseGeometry]], point_m: BaseGeometry) -> str | None:
    """The first cell that covers the point: a stop on a shared boundary is counted once."""
    for code, cell in cells:
        if cell.covers(point_m):
            return code
    return None


def _attributed(points: gpd.GeoDataFrame) -> bool:
    return "town_code" in points.columns


def _assign_points(cells: Sequence[tuple[str, BaseGeometry]], points: gpd.GeoDataFrame | None) -> list[str | None]:
    """The town each point is counted in: its built attribution (``town_code``: stated first, see
    layers/build/attribution.py) when the layer has one, otherwise the cell that covers it."""
    if points is None or points.empty:
        return []
    if _attributed(points):
        return [_plain_code(v) for v in points["town_code"]]
    return [None if g is None or g.is_empty else _point_town(cells, to_measure(g)) for g in points.geometry]


def _plain_code(value: Any) -> str | None:
    value = _plain(value)
    return None if value in (None, "") else str(value)


def _member_codes(points: gpd.GeoDataFrame, cells: Sequence[tuple[str, BaseGeometry]]) -> list[set[str]]:
    """Every unit each point may lie in (``town_codes``; a boundary stop or a park spanning units has several)."""
    counted = _assign_points(cells, points)
    if "town_codes" not in points.columns:
        return [{c} if c else set() for c in counted]
    out = []
    for codes, code in zip(points["town_codes"], counted, strict=False):
        members = {c for c in str(_plain(codes) or "").split(",") if c}
        out.append(members | ({code} if code else set()))
    return out


def _approx_points(cells: Sequence[tuple[str, BaseGeometry]], points: gpd.GeoDataFrame | None,
                   schematic: set[str]) -> list[bool]:
    """Per point: does its town depend on schematic geometry? (``town_approx`` when built; otherwise whether the
    covering cell is schematic)."""
    if points is None or points.empty:
        return []
    if "town_approx" in points.columns:
        return [bool(_plain(v)) for v in points["town_approx"]]
    return [c in schematic for c in _assign_points(cells, points)]


def _line_km(cells: Sequence[tuple[str, BaseGeometry]], lines: gpd.GeoDataFrame | None
             ) -> dict[str, list[tuple[int, float]]]:
    """Town code → [(row position of the line, km of it inside the town)], zero lengths left out."""
    out: dict[str, list[tuple[int, float]]] = {code: [] for code, _ in cells}
    if lines is None or lines.empty:
        return out
    lines_m = [None if g is None or g.is_empty else to_measure(g) for g in lines.geometry]
    for code, cell in cells:
        for pos, line in enumerate(lines_m):
            if line is None:
                continue
            km = cell.intersection(line).length / 1000.0
            if km > 0:
                out[code].append((pos, km))
    return out


def _towns(layers: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    towns = layers.get("towns")
    if towns is None or towns.empty:
        raise UnknownTownError("The towns layer is not loaded, so no town statistics can be computed.")
    return towns


def town_statistics(layers: Mapping[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Official facts and live-computed figures for every town, indexed by the 9-digit town code.

    Parameters
    ----------
    layers
        Layer id → GeoDataFrame (WGS84). ``towns`` is required; ``stations``, ``rail_lines`` and ``parks`` are used
        when present (a missing layer gives zeros).

    Returns
    -------
    pandas.DataFrame
        Columns ``name_zh``, ``name_en`` and every key of :data:`STATISTICS`. Missing official figures stay NaN;
        they are never filled or estimated.
    """
    towns = _towns(layers)
    cells = _cells_m(towns)
    codes = [code for code, _ in cells]
    table = pd.DataFrame({"name_zh": towns["name_zh"].astype(str).values,
                          "name_en": towns["name_en"].astype(str).values}, index=pd.Index(codes, name="code"))
    for name in OFFICIAL_FIELDS:
        values = towns[name] if name in towns.columns else pd.Series([None] * len(towns))
        table[name] = pd.to_numeric(pd.Series(list(values), index=table.index), errors="coerce")
    table["area_km2"] = [cell.area / 1e6 for _, cell in cells]
    table["employment_density"] = table["employment_2023"] / table["area_km2"]
    for layer_id, column in (("stations", "stations"), ("parks", "parks")):
        assigned = pd.Series(_assign_points(cells, layers.get(layer_id)), dtype=object)
        table[column] = [int((assigned == code).sum()) for code in codes]
    lines = layers.get("rail_lines")
    km = _line_km(cells, lines)
    is_open = [] if lines is None else list(lines["status"].astype(str) == OPEN_STATUS)
    table["rail_km_total"] = [sum(k for _, k in km[code]) for code in codes]
    table["rail_km_open"] = [sum(k for pos, k in km[code] if is_open[pos]) for code in codes]
    return table[["name_zh", "name_en", *STATISTICS]]


def schematic_codes(towns: gpd.GeoDataFrame) -> set[str]:
    """Codes of the towns whose geometry is schematic (generated, not imported)."""
    acc = towns["accuracy"] if "accuracy" in towns.columns else pd.Series(["schematic"] * len(towns))
    return {str(c) for c, a in zip(towns["code"], acc, strict=False) if a == "schematic"}


def town_statistic_marks(layers: Mapping[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Which figure of :func:`town_statistics` is approximate because it depends on schematic geometry.

    Same index and statistic columns as :func:`town_statistics`, booleans. Official facts are never approximate;
    areas, densities and rail lengths are approximate on a schematic cell; a count is approximate when any point
    counted in it was placed by a schematic cell. Marks follow the accuracy of each town after an import.
    """
    towns = _towns(layers)
    cells = _cells_m(towns)
    codes = [code for code, _ in cells]
    schematic = schematic_codes(towns)
    marks = pd.DataFrame(False, index=pd.Index(codes, name="code"), columns=list(STATISTICS))
    for stat in ("area_km2", "employment_density", "rail_km_open", "rail_km_total"):
        marks[stat] = [c in schematic for c in codes]
    for layer_id in ("stations", "parks"):
        points = layers.get(layer_id)
        counted = _assign_points(cells, points)
        approx = _approx_points(cells, points, schematic)
        marks[layer_id] = [any(a for c, a in zip(counted, approx, strict=False) if c == code) for code in codes]
    return marks


def mark_value(value: Any, approximate: bool, *, kind: str = "plain", lang: str = "zh") -> str:
    """A figure as text (the one formatter of ``kind``), with "≈" in front when it is approximate; a missing value
    gives ""."""
    value = _plain(value)
    if value is None:
        return ""
    if not isinstance(value, (int, float)):
        return f"≈{value}" if approximate else str(value)
    return fmt_number(value, kind, lang, approx=approximate)


def available_statistics(table: pd.DataFrame) -> list[str]:
    """The statistics at least one town has a value for: only these can be mapped."""
    return [s for s in STATISTICS if s in table.columns and table[s].notna().any()]


def compare_towns(table: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """Rows = statistics, columns = the given towns, for a side-by-side view; unknown codes raise UnknownTownError."""
    codes = [_check_code(table.index, c) for c in codes]
    return table.loc[codes, list(STATISTICS)].T


def _check_code(known: Sequence[str] | pd.Index, code: object) -> str:
    text = str(code).strip() if isinstance(code, (str, int)) else ""
    if text not in set(known):
        shown = repr(str(code)[:20])
        raise UnknownTownError(f"Unknown town code {shown}; use one of the 17 codes 310117001–310117121 "
                               f"listed in the towns layer.")
    return text


def town_contents(layers: Mapping[str, gpd.GeoDataFrame], code: str) -> dict[str, Any]:
    """What lies inside one town, for the detail view.

    Returns
    -------
    dict
        ``code``, ``name_zh``, ``name_en``, ``area_km2``, ``accuracy`` of the town and ``approximate`` (its
        geometry is schematic), ``stations`` (id, name_zh, name_en, lines, status), ``lines`` (id, name_zh, name_en,
        mode, status, km inside, longest first; approximate with the town) and ``parks`` (id, name_zh, name_en,
        kind, accuracy, accuracy_m). Stations and parks are those attributed to the town (stated first, then
        computed; a boundary stop or a park spanning units is listed in each of its units), each with
        ``town_basis``, ``approximate``, ``counted_here`` (the unit its count goes to), ``town_codes`` and
        ``town_conflict`` (the stated unit differs from the computed one).

    Raises
    ------
    UnknownTownError
        When ``code`` is not one of the towns.
    """
    towns = _towns(layers)
    code = _check_code(towns["code"].astype(str).tolist(), code)
    cells = _cells_m(towns)
    cell = dict(cells)[code]
    row = towns[towns["code"].astype(str) == code].iloc[0]

    schematic = schematic_codes(towns)

    def records(layer_id: str, fields: Sequence[str]) -> list[dict[str, Any]]:
        gdf = layers.get(layer_id)
        if gdf is None or gdf.empty:
            return []
        members = _member_codes(gdf, cells)
        counted = _assign_points(cells, gdf)
        approx = _approx_points(cells, gdf, schematic)
        out = []
        for r, m, c, a in zip(gdf.to_dict("records"), members, counted, approx, strict=False):
            if code not in m:
                continue
            basis = _plain(r.get("town_basis")) or ("computed_schematic" if a else "computed")
            out.append({f: _plain(r.get(f)) for f in fields} | {
                "town_basis": basis, "approximate": bool(a), "counted_here": c == code,
                "town_codes": ",".join(sorted(m)), "town_conflict": bool(_plain(r.get("town_conflict")))})
        return out

    lines = layers.get("rail_lines")
    line_rows = []
    for pos, km in _line_km([(code, cell)], lines)[code]:
        r = lines.iloc[pos]
        line_rows.append({f: _plain(r.get(f)) for f in ("id", "name_zh", "name_en", "mode", "status")}
                         | {"km": km, "approximate": code in schematic})
    line_rows.sort(key=lambda d: -d["km"])
    return {
        "code": code, "name_zh": str(row["name_zh"]), "name_en": str(row["name_en"]), "area_km2": cell.area / 1e6,
        "accuracy": str(row.get("accuracy", "schematic")), "approximate": code in schematic,
        "stations": records("stations", ("id", "name_zh", "name_en", "lines", "status")),
        "lines": line_rows,
        "parks": records("parks", ("id", "name_zh", "name_en", "kind", "accuracy", "accuracy_m")),
    }


def _plain(value: Any) -> Any:
    """numpy scalars → Python, NaN → None, so the result is JSON-friendly."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


# --------------------------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------------------------
def _mapclassify(name: str) -> Callable[[np.ndarray, int], np.ndarray]:
    def bins(y: np.ndarray, k: int) -> np.ndarray:
        import mapclassify

        with warnings.catch_warnings():
            # mapclassify warns when there are fewer distinct values than classes; k is already capped.
            warnings.simplefilter("ignore")
            return np.asarray(getattr(mapclassify, name)(y, k=k).bins, dtype=float)
    return bins


#: Scheme name → function(values without NaN, k) → upper bounds of the classes.
#: "natural_breaks" uses mapclassify's FisherJenks (optimal Jenks breaks, deterministic, unlike its k-means
#: NaturalBreaks, so the legend does not change between reruns).
SCHEMES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "quantiles": _mapclassify("Quantiles"),
    "equal_interval": _mapclassify("EqualInterval"),
    "natural_breaks": _mapclassify("FisherJenks"),
}


def classify(values: Sequence[float] | np.ndarray | pd.Series, *, scheme: str = "quantiles", k: int = 5
             ) -> tuple[tuple[float, ...], np.ndarray]:
    """Put values into ``k`` classes with a mapclassify scheme.

    Parameters
    ----------
    values
        Numbers; NaN / None / inf are treated as missing.
    scheme
        A key of :data:`SCHEMES`: "quantiles", "equal_interval" or "natural_breaks".
    k
        Wanted number of classes (1–12); fewer are made when there are fewer distinct values.

    Returns
    -------
    (bins, class_index)
        Upper bounds of the classes, increasing; and per value its class 0..len(bins)-1, or -1 for missing
        values, which take no part in the binning.

    Raises
    ------
    ClassificationError
        For an unknown scheme or a k out of range.
    """
    if scheme not in SCHEMES:
        raise ClassificationError(f"Unknown classification scheme {str(scheme)[:30]!r}; "
                                  f"use one of {', '.join(SCHEMES)}.")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 12:
        raise ClassificationError("The number of classes k must be a whole number from 1 to 12.")
    y = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").astype(float).to_numpy()
    valid = np.isfinite(y)
    classes = np.full(len(y), -1, dtype=int)
    distinct = np.unique(y[valid])
    if distinct.size == 0:
        return (), classes
    if distinct.size == 1:
        classes[valid] = 0
        return (float(distinct[0]),), classes
    bins = SCHEMES[scheme](y[valid], int(min(k, distinct.size)))
    bins = np.unique(bins)  # a skewed distribution can give repeated quantile bounds
    bins[-1] = max(bins[-1], distinct[-1])
    classes[valid] = np.searchsorted(bins, y[valid], side="left")
    return tuple(float(b) for b in bins), classes
