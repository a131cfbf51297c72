"""Pure styling functions: feature colours, dash patterns by accuracy and status, legend entries."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from layers.core.catalog import Catalog, LayerSpec
from layers.core.i18n import STRINGS, t

#: Dash patterns. Schematic geometry must *look* schematic, whatever else it is.
DASH_SCHEMATIC = "8 6"
DASH_BY_STATUS = {"under_construction": "12 6", "planned": "3 6", "closed": "2 4"}
APPROXIMATE_RING = {"color": "#555555", "weight": 1.0, "dashArray": "4 4", "fillColor": "#888888",
                    "fillOpacity": 0.06}


@dataclass(frozen=True)
class LegendEntry:
    """One row of a legend: a swatch (fill, line or point) with a label; ``layer`` and ``ids`` name the features it
    stands for (the in-page map hides a row when its filter leaves none of them)."""

    label: str
    color: str
    shape: str          # "fill", "line" or "point"
    dash: str | None = None
    layer: str = ""
    ids: tuple[str, ...] = ()


def layer_title(spec: LayerSpec, frame: pd.DataFrame | None, lang: str) -> str:
    """The layer's title, following the accuracy of its features: a schematic layer whose features were partly or
    wholly imported says so (i18n ``layer_title_<id>_mixed`` / ``_real``) instead of calling itself schematic."""
    if frame is None or "accuracy" not in frame.columns or spec.provenance.accuracy != "schematic" or frame.empty:
        return spec.title(lang)
    schematic = int((frame["accuracy"] == "schematic").sum())
    state = "mixed" if 0 < schematic < len(frame) else "real" if schematic == 0 else ""
    key = f"layer_title_{spec.id}_{state}"
    return t(key, lang) if state and key in STRINGS["zh"] else spec.title(lang)


def feature_colour(spec: LayerSpec, props: dict[str, Any]) -> str:
    """Colour of a feature: from ``color_field`` (a category or a literal '#rrggbb'), else the layer colour."""
    style = spec.style
    if style.color_field:
        value = props.get(style.color_field)
        if isinstance(value, str) and value.startswith("#") and len(value) == 7:
            return value
        return style.colour_map().get(str(value), style.color)
    return style.color


def feature_dash(props: dict[str, Any]) -> str | None:
    """Dash pattern for a line or outline: schematic first, then the status of planned lines."""
    if props.get("accuracy") == "schematic":
        return DASH_SCHEMATIC
    return DASH_BY_STATUS.get(str(props.get("status")))


def leaflet_style(spec: LayerSpec, props: dict[str, Any]) -> dict[str, Any]:
    """Leaflet path options for one feature."""
    colour = feature_colour(spec, props)
    style = spec.style
    fill = style.fill_color or colour
    geometry_kind = spec.geometry
    result: dict[str, Any] = {"color": colour, "weight": style.weight, "opacity": 0.95}
    if geometry_kind in ("polygon", "mixed"):
        result.update(fillColor=fill, fillOpacity=style.fill_opacity)
    if geometry_kind == "point":
        result.update(fillColor=colour, fillOpacity=style.fill_opacity, color="#ffffff", weight=style.weight)
    dash = feature_dash(props)
    if dash and geometry_kind != "point":
        result["dashArray"] = dash
    return result


def style_function(spec: LayerSpec) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A folium ``style_function`` for the layer."""
    return lambda feat: leaflet_style(spec, feat.get("properties", {}))


def legend_entries(spec: LayerSpec, features: list[dict[str, Any]], catalog: Catalog, lang: str
                   ) -> list[LegendEntry]:
    """Legend rows for a layer, built from the features actually present (in their order)."""
    shape = {"polygon": "fill", "mixed": "fill", "line": "line", "point": "point"}[spec.geometry]
    field = spec.style.color_field
    ids = tuple(str(props["id"]) for props in features if props.get("id") is not None)
    if not field:
        return [LegendEntry(spec.title(lang), spec.style.color, shape,
                            DASH_SCHEMATIC if spec.provenance.accuracy == "schematic" else None, spec.id, ids)]
    entries: dict[str, LegendEntry] = {}
    members: dict[str, list[str]] = {}
    for props in features:
        value = str(props.get(field))
        if field in ("id", "colour"):
            label = props.get("name_en" if lang == "en" else "name_zh") or value
            key = label if field == "id" else value + str(props.get("status"))
        else:
            label = catalog.value_label(field, value, lang)
            key = value
        if props.get("id") is not None:
            members.setdefault(key, []).append(str(props["id"]))
        if key in entries:
            continue
        entries[key] = LegendEntry(str(label), feature_colour(spec, props), shape,
                                   feature_dash(props) if shape != "point" else None, spec.id)
    return [replace(entry, ids=tuple(members.get(key, ()))) for key, entry in entries.items()]


def accuracy_legend(catalog: Catalog, lang: str) -> list[LegendEntry]:
    """The legend rows that explain how accuracy is drawn."""
    return [
        LegendEntry(catalog.value_label("accuracy", "schematic", lang), "#444444", "line", DASH_SCHEMATIC),
        LegendEntry(catalog.value_label("accuracy", "approximate", lang), APPROXIMATE_RING["color"], "ring",
                    APPROXIMATE_RING["dashArray"]),
        LegendEntry(catalog.value_label("status", "under_construction", lang), "#444444", "line",
                    DASH_BY_STATUS["under_construction"]),
        LegendEntry(catalog.value_label("status", "planned", lang), "#444444", "line", DASH_BY_STATUS["planned"]),
    ]
