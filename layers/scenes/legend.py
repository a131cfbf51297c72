"""The legend of a print scene: sections of entries for the layers actually drawn."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from layers.core.catalog import Catalog, LayerSpec
from layers.map.style import DASH_BY_STATUS, DASH_SCHEMATIC, LegendEntry, accuracy_legend, legend_entries
from layers.scenes.frame import FAINT, FOCUS_EDGE, NO_ZONE_FILL, PX_TO_PT, TEXT, SceneFrame, wrap_text


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
            entries = (LegendEntry(f"{TEXT[lang]['focus_town']}: {name}",
                                   zone_colours.get(str(frame.town.get("zone_id")), NO_ZONE_FILL), "fill"),
                       LegendEntry(spec.title(lang), spec.style.color, "fill", DASH_SCHEMATIC))
            sections.append(LegendSection(spec.title(lang), entries, spec, focus=True))
            continue
        found = legend_entries(spec, visible.drop(columns="geometry").to_dict("records"), catalog, lang)
        # A one-row block needs no heading repeating its label.
        title = None if len(found) == 1 and found[0].label == spec.title(lang) else spec.title(lang)
        sections.append(LegendSection(title, tuple(found), spec, faint=scene_layer.emphasis == "faint"))
    accuracy = _drawn_values(frame, "accuracy")
    status = _drawn_values(frame, "status")
    wanted = []
    for entry in accuracy_legend(catalog, lang):
        if entry.shape == "ring" and "approximate" in accuracy or entry.dash == DASH_SCHEMATIC and "schematic" in accuracy or entry.dash == DASH_BY_STATUS["under_construction"] and "under_construction" in status or entry.dash == DASH_BY_STATUS["planned"] and "planned" in status:
            wanted.append(entry)
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
