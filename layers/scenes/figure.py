"""A scene drawn offline as a print-quality matplotlib figure (title, map, legend, north arrow, scale)."""
from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, box
from shapely.prepared import prep

from layers.core import settings
from layers.core.catalog import Catalog, LayerSpec, get_catalog
from layers.core.crs import TO_MEASURE
from layers.core.errors import SceneError
from layers.core.i18n import LANGS
from layers.map.style import feature_colour, feature_dash
from layers.scenes.fonts import find_cjk_font
from layers.scenes.frame import (
    FAINT,
    FAINT_WEIGHT,
    FOCUS_EDGE,
    FOCUS_FILL_OPACITY,
    FOCUS_WEIGHT,
    NO_ZONE_FILL,
    PAPER_MM,
    PX_TO_PT,
    TEXT,
    label_text,
    prepare_frame,
    scene_titles,
    source_lines,
    wrap_text,
)
from layers.scenes.legend import _dash, _legend_rows, legend_sections
from layers.scenes.model import get_scene

TO_WGS84 = Transformer.from_crs(settings.MEASURE_CRS, settings.WGS84, always_xy=True)


def _true_north_degrees(x: float, y: float) -> float:
    """Angle (degrees clockwise from grid up) of true north at an EPSG:4549 point: the grid convergence."""
    lon, lat = TO_WGS84.transform(x, y)
    x2, y2 = TO_MEASURE.transform(lon, lat + 0.01)
    return math.degrees(math.atan2(x2 - x, y2 - y))


def _area_path(geom: Any) -> Path:
    """A (multi)polygon as one matplotlib path, holes included (drawn straight, without a GeoSeries per feature)."""
    rings = [ring for part in getattr(geom, "geoms", [geom]) for ring in (part.exterior, *part.interiors)]
    return Path.make_compound_path(*(Path(np.asarray(ring.coords)[:, :2]) for ring in rings))


def _fit_view(view: Any, aspect: float) -> Any:
    """Grow the view box (EPSG:4549) around its centre to the map frame's width/height ratio."""
    minx, miny, maxx, maxy = view.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    width, height = maxx - minx, maxy - miny
    if width / height < aspect:
        width = height * aspect
    else:
        height = width / aspect
    return box(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


def _nice_length_km(span_m: float) -> float:
    """The largest round length (km) not longer than a quarter of the map's width."""
    fitting = [km for km in (0.2, 0.5, 1, 2, 5, 10, 20, 50) if km * 1000.0 <= span_m / 4]
    return float(fitting[-1]) if fitting else 0.1


class _Painter:
    """Draws scene layers on an EPSG:4549 axes with the web map's colours and dash patterns."""

    def __init__(self, ax: Any, catalog: Catalog, lang: str, scale: float):
        self.ax, self.catalog, self.lang, self.scale = ax, catalog, lang, scale
        self.labels: list[tuple[int, Text, str]] = []       # rank, label, its layer (for its marker's radius)
        self.marker_radius: dict[str, float] = {}
        self.markers: list[tuple[float, float, float]] = []   # x, y (EPSG:4549) and radius in points
        self.zone_colours = catalog.layer("zones").style.colour_map()
        self.view: Any = None

    def _alpha(self, emphasis: str, value: float) -> float:
        return value * FAINT if emphasis == "faint" else value

    def polygon(self, spec: LayerSpec, gdf: gpd.GeoDataFrame, emphasis: str, focus_code: str | None) -> None:
        style = spec.style
        for props, geom in zip(gdf.drop(columns="geometry").to_dict("records"), gdf.geometry, strict=True):
            colour = feature_colour(spec, props)
            fill = style.fill_color or colour
            feature_emphasis = emphasis
            weight = style.weight
            fill_alpha = style.fill_opacity
            if emphasis == "focus":
                if str(props.get("code")) == focus_code:
                    fill = self.zone_colours.get(str(props.get("zone_id")), NO_ZONE_FILL)
                    fill_alpha, weight, colour, feature_emphasis = (FOCUS_FILL_OPACITY, weight * FOCUS_WEIGHT,
                                                                    FOCUS_EDGE, "normal")
                else:
                    feature_emphasis = "faint"
            dash = _dash(feature_dash(props), self.scale)
            self._add_area(geom, fill=fill, alpha=self._alpha(feature_emphasis, fill_alpha), zorder=1)
            self._add_lines(geom.boundary, colour=colour, alpha=self._alpha(feature_emphasis, 0.95), dash=dash,
                            zorder=2, width=weight * PX_TO_PT * self.scale
                            * (FAINT_WEIGHT if feature_emphasis == "faint" else 1.0))

    def _add_area(self, geom: Any, *, fill: str, alpha: float, zorder: float) -> None:
        """A filled (multi)polygon without an outline; added as a collection, as ``add_patch`` would walk every
        curve of it to grow the data limits that the scene's fixed view ignores."""
        self.ax.add_collection(PatchCollection([PathPatch(_area_path(geom))], facecolors=fill, edgecolors="none",
                                               alpha=alpha, zorder=zorder), autolim=False)

    def _add_lines(self, geom: Any, *, colour: str, alpha: float, width: float, dash: Any, zorder: float) -> None:
        """One line collection for a (multi)line, straight onto the axes (no GeoSeries per feature)."""
        parts = [np.asarray(part.coords) for part in getattr(geom, "geoms", [geom]) if not part.is_empty]
        if parts:
            self.ax.add_collection(LineCollection(parts, colors=colour, alpha=alpha, linewidths=width,
                                                  linestyles=dash, zorder=zorder), autolim=False)

    def line(self, spec: LayerSpec, gdf: gpd.GeoDataFrame, emphasis: str) -> None:
        for props, geom in zip(gdf.drop(columns="geometry").to_dict("records"), gdf.geometry, strict=True):
            self._add_lines(geom, colour=feature_colour(spec, props), alpha=self._alpha(emphasis, 0.95),
                            width=spec.style.weight * PX_TO_PT * self.scale,
                            dash=_dash(feature_dash(props), self.scale), zorder=3)

    def point(self, spec: LayerSpec, gdf: gpd.GeoDataFrame, emphasis: str) -> None:
        approx = gdf[(gdf["accuracy"] == "approximate") & gdf["accuracy_m"].notna()]
        if not approx.empty:
            # The uncertainty circle is a true buffer in metres: EPSG:4549 keeps it round and to scale.
            rings = approx.geometry.buffer(approx["accuracy_m"].astype(float), quad_segs=24)
            for ring in rings:
                self._add_area(ring, fill="#555555", alpha=self._alpha(emphasis, 0.08), zorder=4)
                self._add_lines(ring.boundary, colour="#555555", alpha=self._alpha(emphasis, 0.9),
                                width=0.8 * self.scale, dash=_dash("4 4", self.scale), zorder=4)
        size = (spec.style.radius * 2 * PX_TO_PT * 1.15 * self.scale) ** 2
        self.marker_radius[spec.id] = max(self.marker_radius.get(spec.id, 0.0), math.sqrt(size) / 2)
        # Wider rings of a feature with several colours (scene color_by) go under its first marker.
        zorder = 6 - 0.01 * spec.style.radius
        colours = [feature_colour(spec, props) for props in gdf.drop(columns="geometry").to_dict("records")]
        xs, ys = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
        self.markers.extend((x, y, math.sqrt(size) / 2) for x, y in zip(xs, ys, strict=True))
        self.ax.scatter(xs, ys, s=size, c=colours, edgecolors="white", linewidths=0.8 * self.scale,
                        alpha=self._alpha(emphasis, 1.0), zorder=zorder)

    def label(self, layer_id: str, gdf: gpd.GeoDataFrame, emphasis: str, geometry: str, priority: int,
              focus_code: str | None) -> None:
        halo = [patheffects.withStroke(linewidth=2.4 * self.scale, foreground="white")]
        for props, geom in zip(gdf.drop(columns="geometry").to_dict("records"), gdf.geometry, strict=True):
            text = label_text(layer_id, props, self.lang)
            if not text or geom is None or geom.is_empty:
                continue
            focus = focus_code is not None and str(props.get("code")) == focus_code
            faint = emphasis == "faint" or (emphasis == "focus" and not focus)
            if geometry == "point":
                artist = self.ax.annotate(text, (geom.x, geom.y), xytext=(6 * self.scale, 3 * self.scale),
                                          textcoords="offset points", fontsize=7.2 * self.scale,
                                          color="#202020", path_effects=halo, zorder=8, annotation_clip=True)
                rank = priority
            else:
                # Label the part inside the view, so a neighbour cut by the frame is still named.
                visible = geom.intersection(self.view) if self.view is not None else geom
                anchor = (visible if not visible.is_empty else geom).representative_point()
                artist = self.ax.text(anchor.x, anchor.y, text, ha="center", va="center",
                                      fontsize=(11 if focus else 7.4) * self.scale,
                                      fontweight="bold" if focus else "normal",
                                      color="#6a6a6a" if faint else "#202020", path_effects=halo, zorder=7)
                rank = -1 if focus else priority
            self.labels.append((rank, artist, layer_id))


#: Where a point label may go, tried in turn: unit offsets (times the marker radius plus a gap) and alignment.
POINT_LABEL_SLOTS = ((1, 0.3, "left", "bottom"), (1, -0.3, "left", "top"), (-1, 0.3, "right", "bottom"),
                     (-1, -0.3, "right", "top"), (0, 1, "center", "bottom"), (0, -1, "center", "top"),
                     (1, 0, "left", "center"), (-1, 0, "right", "center"))


#: Where an area's name may go when its centre is taken: shifts in units of the label's own height/width.
AREA_LABEL_SHIFTS = ((0, 0), (0, 1), (0, -1), (0.5, 0), (-0.5, 0), (0, 2), (0, -2), (0.5, 1), (-0.5, -1))
#: artist gid of what labels must keep clear of, and of the labels themselves (tests find them by it).
GID_LABEL, GID_SCALE, GID_NORTH, GID_LEGEND = "sj-label", "sj-scale", "sj-north", "sj-legend"


def _lines_in_pixels(ax: Any, lines: list[Any]) -> Any:
    """The lines a name may not cross (rail lines, the district edge), in the figure's pixel space, prepared."""
    parts = []
    for geom in lines:
        for line in getattr(geom, "geoms", [geom]):
            if line.is_empty:
                continue
            parts.append(LineString(ax.transData.transform(list(line.coords))))
    return prep(MultiLineString(parts)) if parts else None


def _declutter(fig: Figure, ax: Any, labels: list[tuple[int, Text, float]], reserved: list[Any],
               scale: float, *, lines: Any = None) -> list[Any]:
    """Place labels without collisions, best ranked first: a point label tries eight slots around its marker, an
    area label its centre and then small shifts; a label that fits nowhere is hidden.

    Kept labels may not overlap each other, the markers, the reserved boxes (scale bar, north arrow) or a
    line in ``lines`` (pixel space, e.g. rail lines and the district edge). Returns the kept label boxes.
    """
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    kept = list(reserved)
    placed = []
    to_data = ax.transData.inverted()
    for _, artist, radius in sorted(labels, key=lambda item: item[0]):
        artist.set_gid(GID_LABEL)
        reach = radius + 2.5 * scale
        point = hasattr(artist, "xyann")
        if point:
            tries = POINT_LABEL_SLOTS
        else:
            base = ax.transData.transform(artist.get_position())
            size = artist.get_window_extent(renderer)
            tries = tuple((base[0] + dx * size.width, base[1] + dy * size.height, None, None)
                          for dx, dy in AREA_LABEL_SHIFTS)
        for dx, dy, ha, va in tries:
            if point:
                artist.xyann = (dx * reach, dy * reach)
                artist.set_ha(ha)
                artist.set_va(va)
            else:
                artist.set_position(tuple(to_data.transform((dx, dy))))
            bbox = artist.get_window_extent(renderer).expanded(1.04, 1.1)
            inside = (bbox.x0 >= frame.x0 and bbox.x1 <= frame.x1 and bbox.y0 >= frame.y0 and bbox.y1 <= frame.y1)
            if not inside or any(bbox.overlaps(other) for other in kept):
                continue
            if lines is not None and lines.intersects(box(bbox.x0, bbox.y0, bbox.x1, bbox.y1)):
                continue
            kept.append(bbox)
            placed.append(bbox)
            break
        else:
            artist.set_visible(False)
    return placed


def _scale_bar(ax: Any, view: Any, scale: float, lang: str) -> Any:
    """A km scale bar in the lower left, measured in EPSG:4549 metres; returns the artist to reserve."""
    minx, miny, maxx, maxy = ax.get_xlim()[0], ax.get_ylim()[0], ax.get_xlim()[1], ax.get_ylim()[1]
    km = _nice_length_km(maxx - minx)
    x0 = minx + 0.04 * (maxx - minx)
    y0 = miny + 0.045 * (maxy - miny)
    height = 0.011 * (maxy - miny)
    parts = 4
    step = km * 1000.0 / parts
    for i in range(parts):
        ax.add_patch(Rectangle((x0 + i * step, y0), step, height, facecolor="#222222" if i % 2 == 0 else "white",
                               edgecolor="#222222", linewidth=0.6 * scale, zorder=9))
    label_style = dict(fontsize=7 * scale, ha="center", va="bottom", zorder=9,
                       path_effects=[patheffects.withStroke(linewidth=2.2 * scale, foreground="white")])
    unit = TEXT[lang]["km"]

    def fmt(value: float) -> str:
        return f"{value:g}"

    ax.text(x0, y0 + height * 1.6, "0", **label_style)
    ax.text(x0 + km * 500.0, y0 + height * 1.6, fmt(km / 2), **label_style)
    ax.text(x0 + km * 1000.0, y0 + height * 1.6, fmt(km), **label_style)
    ax.text(x0 + km * 1000.0 + 0.008 * (maxx - minx), y0 + height / 2, unit,
            **{**label_style, "ha": "left", "va": "center"})
    backing = Rectangle((x0 - 0.015 * (maxx - minx), y0 - height), km * 1000.0 + 0.065 * (maxx - minx),
                        height * 5.2, facecolor="white", edgecolor="none", alpha=0.8, zorder=8.5, gid=GID_SCALE)
    ax.add_patch(backing)
    return backing


def _north_arrow(ax: Any, scale: float, lang: str) -> None:
    """A north arrow in the upper right, turned by the grid convergence so it points to true north."""
    x = sum(ax.get_xlim()) / 2
    y = sum(ax.get_ylim()) / 2
    angle = math.radians(_true_north_degrees(x, y))
    length = 26 * scale
    ax.add_patch(Rectangle((0.925, 0.855), 0.05, 0.115, transform=ax.transAxes, facecolor="white",
                           edgecolor="none", alpha=0.8, zorder=8.5, gid=GID_NORTH))
    ax.annotate("", xy=(0.95, 0.93), xycoords="axes fraction",
                xytext=(-math.sin(angle) * length, -math.cos(angle) * length), textcoords="offset points",
                arrowprops=dict(arrowstyle="-|>", color="#222222", lw=1.4 * scale, mutation_scale=16 * scale),
                zorder=9)
    ax.annotate(TEXT[lang]["north"], xy=(0.95, 0.93), xycoords="axes fraction",
                xytext=(math.sin(angle) * 8 * scale, math.cos(angle) * 8 * scale), textcoords="offset points",
                ha="center", va="center", fontsize=10 * scale, fontweight="bold", zorder=9)


def build_figure(scene_id: str, *, town: str | None = None, lang: str = "zh", paper: str = "A4",
                 catalog: Catalog | None = None) -> Figure:
    """Draw a scene as a landscape page: title, map in EPSG:4549, legend, scale bar, north arrow and notes.

    Parameters
    ----------
    scene_id
        A scene of ``layers/scenes.toml`` ("structure", "zones", "transport", "industry", "town").
    town
        The 9-digit statistical code (or Chinese name) of the town, for town scenes only.
    lang
        "zh" or "en".
    paper
        "A4" or "A3"; the layout scales with the page so both look alike.

    Returns
    -------
    matplotlib.figure.Figure
        Not yet saved; the caller closes it.
    """
    if lang not in LANGS:
        raise SceneError(f"Unknown language {lang!r}; use one of {LANGS}.")
    if paper not in PAPER_MM:
        raise SceneError(f"Unknown paper {paper!r}; use one of {tuple(PAPER_MM)}.")
    catalog = catalog or get_catalog()
    scene = get_scene(scene_id)
    font = find_cjk_font()
    frame = prepare_frame(scene, town, catalog)
    width_mm, height_mm = PAPER_MM[paper]
    scale = width_mm / PAPER_MM["A4"][0]
    rc = {"font.family": font.family, "pdf.fonttype": 42, "text.parse_math": False,
          "lines.scale_dashes": False, "axes.unicode_minus": False}
    with plt.rc_context(rc):
        fig = plt.figure(figsize=(width_mm / 25.4, height_mm / 25.4))
        title, subtitle = scene_titles(scene, frame.town, lang)
        fig.text(0.022, 0.965, title, fontsize=21 * scale, fontweight="bold", va="top", color="#111111")
        # 160 display columns: a line of Chinese (2 columns a character, 10 pt each) stays inside the page.
        fig.text(0.022, 0.912, wrap_text(subtitle, 160), fontsize=10 * scale, va="top", color="#333333",
                 linespacing=1.25)
        fig.add_artist(Line2D([0.022, 0.978], [0.853, 0.853], color="#999999", linewidth=0.6 * scale))

        map_box = (0.022, 0.035, 0.655, 0.805)
        ax = fig.add_axes(map_box)
        frame.view = _fit_view(frame.view, map_box[2] * width_mm / (map_box[3] * height_mm))
        ax.set_aspect("equal", adjustable="box")
        minx, miny, maxx, maxy = frame.view.bounds
        ax.set_xlim(minx, maxx)
        ax.set_ylim(miny, maxy)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_edgecolor("#888888")
            spine.set_linewidth(0.6 * scale)
        painter = _Painter(ax, catalog, lang, scale)
        painter.view = frame.view
        focus_code = str(frame.town["code"]) if frame.town is not None else None
        for priority, (scene_layer, spec, gdf) in enumerate(reversed(frame.layers)):
            if gdf.empty:
                continue
            parts = {"polygon": gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])],
                     "line": gdf[gdf.geom_type.isin(["LineString", "MultiLineString"])],
                     "point": gdf[gdf.geom_type == "Point"]}
            if not parts["polygon"].empty:
                painter.polygon(spec, parts["polygon"], scene_layer.emphasis, focus_code)
            if not parts["line"].empty:
                painter.line(spec, parts["line"], scene_layer.emphasis)
            if not parts["point"].empty:
                painter.point(spec, parts["point"], scene_layer.emphasis)
            if scene_layer.labels:
                kind = "point" if spec.geometry == "point" else "polygon"
                painter.label(spec.id, gdf, scene_layer.emphasis, kind, priority, focus_code)
        # Drawing order above is bottom first; re-apply the view after geopandas autoscaled.
        ax.set_xlim(minx, maxx)
        ax.set_ylim(miny, maxy)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.apply_aspect()
        reserved_bar = _scale_bar(ax, frame.view, scale, lang)
        _north_arrow(ax, scale, lang)

        panel = fig.add_axes((0.70, 0.035, 0.28, 0.805))
        panel.set_axis_off()
        rows = _legend_rows(legend_sections(frame, catalog, lang), scale)
        legend = panel.legend([r[0] for r in rows], [r[1] for r in rows], loc="upper left",
                              bbox_to_anchor=(0.0, 1.0), frameon=False, fontsize=8.2 * scale,
                              title=TEXT[lang]["legend"], title_fontsize=10.5 * scale, alignment="left",
                              handlelength=2.6, handleheight=1.1, labelspacing=0.45, borderaxespad=0.0)
        for (_, _, is_header), text in zip(rows, legend.get_texts(), strict=False):
            if is_header:
                text.set_fontweight("bold")
                text.set_fontsize(8.8 * scale)
        for (_, _, is_header), legend_handle in zip(rows, legend.legend_handles, strict=False):
            if is_header and legend_handle is not None:
                legend_handle.set_visible(False)
        legend.get_title().set_fontweight("bold")
        legend.set_gid(GID_LEGEND)
        note = "\n".join(wrap_text(line, 62) for line in source_lines(scene, frame, catalog, lang))
        panel.text(0.0, 0.0, note, fontsize=6.3 * scale, va="bottom",
                   ha="left", color="#333333", linespacing=1.35, transform=panel.transAxes)

        # No drawing pass here: label boxes are measured with the canvas renderer (the map's transforms are fixed
        # by apply_aspect above), and only the saves paint the page.
        reserved = [ax.transData.transform_bbox(reserved_bar.get_bbox()),
                    ax.transAxes.transform_bbox(Rectangle((0.90, 0.80), 0.10, 0.20).get_bbox())]
        points_to_px = fig.dpi / 72.0
        for x, y, radius in painter.markers:
            px, py = ax.transData.transform((x, y))
            r = (radius + 1.0) * points_to_px
            reserved.append(Bbox.from_extents(px - r, py - r, px + r, py + r))
        # The widest marker of a layer is known only once all its copies are drawn (rings of color_by layers).
        labels = [(rank, artist, painter.marker_radius.get(layer_id, 0.0))
                  for rank, artist, layer_id in painter.labels]
        # Names keep off the rail lines and the district edge (an area's name never sits on the district line).
        avoid = [geom for _, spec, gdf in frame.layers if spec.geometry == "line" for geom in gdf.geometry]
        avoid += [geom.boundary for _, spec, gdf in frame.layers if spec.id == "district" for geom in gdf.geometry]
        _declutter(fig, ax, labels, reserved, scale, lines=_lines_in_pixels(ax, avoid))
    return fig
