"""The legend of a print scene: sections of entries for the layers actually drawn."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from layers.core.catalog import Catalog, LayerSpec
from layers.map.style import DASH_SCHEMATIC, LegendEntry, accuracy_legend, feature_dash, legend_entries
from layers.scenes.frame import COLOUR_VALUE, FAINT, FOCUS_EDGE, NO_ZONE_FILL, PX_TO_PT, TEXT, SceneFrame, wrap_text
from layers.scenes.model import SceneLayer


def _dash(pattern: str | None, scale: float) -> Any:
    """A Leaflet dash pattern ("8 6", pixels) as a matplotlib linestyle in points."""
    if not pattern:
        return "solid"
    return (0, tuple(float(v) * PX_TO_PT * scale for v in pattern.split()))


def _handle(entry: LegendEntry, scale: float, alpha: float = 1.0, spec: LayerSpec | None = None) -> Any:
    if entry.shape == "fill":
        face: Any = entry.color
        face_alpha = 0.45
        if spec is not None and spec.style.fill_color:
            face, face_alpha = spec.style.fill_color, max(spec.style.fill_opacity, 0.3)
        if spec is not None and spec.style.fill_opacity == 0:
            face = "none"
        edge = matplotlib.colors.to_rgba(entry.color, alpha)
        face_rgba = "none" if face == "none" else matplotlib.colors.to_rgba(face, face_alpha * alpha)
        return Patch(facecolor=face_rgba, edgecolor=edge, linestyle=_dash(entry.dash, scale * 0.6),
                     linewidth=1.4 * scale)
    if entry.shape == "line":
        return Line2D([], [], color=entry.color, alpha=alpha, linewidth=2.2 * scale,
                      linestyle=_dash(entry.dash, scale * 0.6))
    if entry.shape == "ring":
        return Line2D([], [], marker="o", linestyle="none", markersize=11 * scale, markerfacecolor="#55555522",
                      markeredgecolor="#555555", markeredgewidth=0.9 * scale)
    return Line2D([], [], marker="o", linestyle="none", markersize=6.5 * scale, markerfacecolor=entry.color,
                  markeredgecolor="white", markeredgewidth=0.6 * scale, alpha=alpha)


@dataclass(frozen=True)
class LegendSection:
    """One block of a scene legend, shared by the printed and the web map."""

    title: str | None                   # None: the block's single row already names the layer
    entries: tuple[LegendEntry, ...]
    spec: LayerSpec | None = None       # the layer (fill swatches follow its style); None for the accuracy block
    faint: bool = False
    focus: bool = False                 # entries[0] is the chosen town, entries[1] its faint neighbours


def _drawn_values(frame: SceneFrame, field_name: str) -> set[str]:
    """Values of ``field_name`` among the features that show inside the view, of every scene layer."""
    values: set[str] = set()
    for _, _, gdf in frame.layers:
        visible = gdf[gdf.geometry.intersects(frame.view)]
        if visible.empty:
            continue
        values |= set(visible[field_name].astype(str)) if field_name in visible.columns else {"None"}
    return values


def _drawn_dashes(frame: SceneFrame) -> set[str]:
    """Dash patterns of the features that show inside the view."""
    dashes: set[str] = set()
    for _, _, gdf in frame.layers:
        visible = gdf[gdf.geometry.intersects(frame.view)]
        dashes |= {feature_dash(props) or "" for props in visible.drop(columns="geometry").to_dict("records")}
    return dashes


def _has_points(frame: SceneFrame) -> bool:
    """True when a point layer shows features inside the view (the uncertainty ring explains them)."""
    return any(spec.geometry == "point" and gdf.geometry.intersects(frame.view).any() for _, spec, gdf in frame.layers)


def _coloured_entries(frame: SceneFrame, scene_layer: SceneLayer, spec: LayerSpec, catalog: Catalog, lang: str
                      ) -> list[LegendEntry]:
    """One row per value of ``color_by`` that a shown feature has (a ring copy included), in the scene's order."""
    shown: set[str] = set()
    for layer, _, gdf in frame.layers:
        if layer.id == scene_layer.id and COLOUR_VALUE in gdf.columns:
            shown |= set(gdf[gdf.geometry.intersects(frame.view)][COLOUR_VALUE].astype(str))
    shape = "point" if spec.geometry == "point" else "fill"
    return [LegendEntry(str(catalog.value_label(scene_layer.color_by, value, lang)), colour, shape)
            for value, colour in scene_layer.colors if value in shown]


def legend_sections(frame: SceneFrame, catalog: Catalog, lang: str) -> list[LegendSection]:
    """The scene's legend: one block per shown layer (top layer first), then how accuracy and status are drawn.

    Only features inside the view count, so a close-up lists what it shows.
    """
    sections: list[LegendSection] = []
    zone_colours = catalog.layer("zones").style.colour_map()
    for scene_layer, spec, gdf in reversed(frame.layers):
        if not scene_layer.legend:
            continue
        visible = gdf[gdf.geometry.intersects(frame.view)]
        if visible.empty:
            continue
        if scene_layer.emphasis == "focus" and frame.town is not None:
            name = frame.town.get("name_en" if lang == "en" else "name_zh")
            colon = ": " if lang == "en" else "："
            entries = (LegendEntry(f"{TEXT[lang]['focus_town']}{colon}{name}",
                                   zone_colours.get(str(frame.town.get("zone_id")), NO_ZONE_FILL), "fill"),
                       LegendEntry(spec.title(lang), spec.style.color, "fill", DASH_SCHEMATIC))
            sections.append(LegendSection(spec.title(lang), entries, spec, focus=True))
            continue
        if scene_layer.color_by:
            found = _coloured_entries(frame, scene_layer, spec, catalog, lang)
        else:
            found = legend_entries(spec, visible.drop(columns="geometry").to_dict("records"), catalog, lang)
        # A one-row block needs no heading repeating its label.
        title = None if len(found) == 1 and found[0].label == spec.title(lang) else spec.title(lang)
        sections.append(LegendSection(title, tuple(found), spec, faint=scene_layer.emphasis == "faint"))
    accuracy = _drawn_values(frame, "accuracy")
    dashes = _drawn_dashes(frame)
    shown = {e.label for section in sections for e in section.entries}
    wanted = []
    for entry in accuracy_legend(catalog, lang):
        if entry.label in shown:
            continue
        if entry.shape == "ring":
            keep = "approximate" in accuracy and _has_points(frame)
        elif entry.dash == DASH_SCHEMATIC:
            keep = "schematic" in accuracy
        else:
            # A status row only when some drawn line uses its dash (a schematic line under construction is drawn
            # schematic, and its own legend row already says 在建).
            keep = entry.dash in dashes
        if keep:
            wanted.append(entry)
            shown.add(entry.label)
    if wanted:
        sections.append(LegendSection(TEXT[lang]["accuracy"], tuple(wanted)))
    return sections


def _legend_rows(sections: list[LegendSection], scale: float) -> list[tuple[Any, str, bool]]:
    """(handle, label, is_header) rows of the printed legend."""
    rows: list[tuple[Any, str, bool]] = []
    header = Patch(facecolor="none", edgecolor="none")
    for section in sections:
        if section.title is not None:
            rows.append((header, section.title, True))
        if section.focus:
            town, others = section.entries
            rows.append((Patch(facecolor=town.color, edgecolor=FOCUS_EDGE, alpha=0.6, linewidth=1.4 * scale),
                         town.label, False))
            rows.append((_handle(others, scale, FAINT, section.spec), others.label, False))
            continue
        alpha = FAINT if section.faint else 1.0
        rows.extend((_handle(e, scale, alpha, section.spec), wrap_text(e.label, 34), False)
                    for e in section.entries)
    return rows
