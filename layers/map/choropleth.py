"""Town choropleth: towns coloured by the class of one statistic, missing values grey and labelled (no Streamlit)."""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import colormaps
from matplotlib.colors import to_hex

from layers.core.numbers import fmt_number
from layers.map.elements import VectorLayer, safe_text
from layers.map.render import new_map
from layers.map.stats import classify
from layers.map.style import DASH_SCHEMATIC

MISSING_COLOUR = "#bdbdbd"
PALETTE = "YlGnBu"


@dataclass(frozen=True)
class ClassRow:
    """One legend row: colour and the value range it covers (``lower`` is None for the first class)."""

    colour: str
    lower: float | None
    upper: float | None
    count: int


def class_colours(n: int, palette: str = PALETTE) -> list[str]:
    """``n`` hex colours, light to dark, from a matplotlib sequential palette."""
    cmap = colormaps[palette]
    return [to_hex(cmap(0.2 + 0.75 * (i / max(n - 1, 1)))) for i in range(n)]


def _format(value: float | None, kind: str = "plain", lang: str = "zh") -> str:
    """A class bound or a town's value through the one number formatter ("" when there is none)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return fmt_number(value, kind, lang)


def choropleth_map(towns: gpd.GeoDataFrame, values: pd.Series, *, scheme: str = "quantiles", k: int = 5,
                   missing_label: str = "缺失（未找到来源）", lang: str = "zh", kind: str = "plain"
                   ) -> tuple[folium.Map, list[ClassRow], dict[str, int]]:
    """Build a folium map of the towns coloured by class of ``values`` (indexed by 9-digit town code).

    Returns
    -------
    (map, legend_rows, class_of)
        ``class_of`` maps each town code to its class (0..), or -1 when its value is missing; missing towns are
        drawn grey with a dashed outline and their tooltip says ``missing_label``.
    """
    codes = towns["code"].astype(str).tolist()
    vals = pd.to_numeric(pd.Series([values.get(c) for c in codes]), errors="coerce").to_numpy(dtype=float)
    if np.isfinite(vals).any():
        bins, idx = classify(vals, scheme=scheme, k=k)
    else:
        bins, idx = (), np.full(len(vals), -1)
    colours = class_colours(len(bins)) if len(bins) else []
    class_of = {c: int(i) for c, i in zip(codes, idx)}
    rows = [ClassRow(colours[i], bins[i - 1] if i else None, bins[i], int((idx == i).sum()))
            for i in range(len(bins))]
    name_col = "name_en" if lang == "en" else "name_zh"
    geo_json = shapely.to_geojson(towns.geometry.values)
    features = []
    for code, name, value, i, geometry in zip(codes, towns[name_col], vals, idx, geo_json):
        features.append({"type": "Feature", "id": safe_text(code), "geometry": json.loads(geometry), "properties": {
            "label": safe_text(name), "value": _format(value, kind, lang) if i >= 0 else safe_text(missing_label),
            "_raw_fill": colours[i] if i >= 0 else MISSING_COLOUR, "_raw_missing": bool(i < 0)}})
    minx, miny, maxx, maxy = towns.total_bounds
    fmap = new_map(location=((miny + maxy) / 2, (minx + maxx) / 2), zoom=10, lang=lang)
    # The towns are schematic: their outlines stay dashed (missing values: a finer dash on grey).
    VectorLayer(features, name="choropleth", tip=[["label", ""], ["value", ""]], style=lambda f: {
        "fillColor": f["properties"]["_raw_fill"], "fillOpacity": 0.8, "color": "#555555", "weight": 1.0,
        "dashArray": "4 3" if f["properties"]["_raw_missing"] else DASH_SCHEMATIC}).add_to(fmap)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap, rows, class_of


def legend_frame(rows: list[ClassRow], class_of: Mapping[str, int], *, missing_label: str = "缺失（未找到来源）",
                 kind: str = "plain", lang: str = "zh") -> pd.DataFrame:
    """The legend as a small table: colour, range (figures of ``kind``), number of towns; a last row for missing."""
    def fmt(v: float | None) -> str:
        return _format(v, kind, lang)
    out = [{"colour": r.colour, "range": f"{fmt(r.lower)} – {fmt(r.upper)}" if r.lower is not None
            else f"≤ {fmt(r.upper)}", "towns": r.count} for r in rows]
    n_missing = sum(1 for v in class_of.values() if v < 0)
    if n_missing:
        out.append({"colour": MISSING_COLOUR, "range": missing_label, "towns": n_missing})
    return pd.DataFrame(out)
