"""Plan an import without writing anything: pick fields, match units, clip, check, report."""
from __future__ import annotations

import datetime as dt
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from layers.build.overlay import (
    IMPORT_ACCURACY,
    NOT_FINITE,
    _anchor,
    _as_polygons,
    refit_towns,
)
from layers.build.sources import Inputs, read_inputs
from layers.core import paths, settings
from layers.core.crs import geometry_bd09_to_wgs84, geometry_gcj02_to_wgs84, to_measure
from layers.core.errors import PartitionError, TownImportError
from layers.core.geojson import feature
from layers.core.names import normalise_name
from layers.core.store import Store, open_store
from layers.core.upload import read_town_file
from layers.core.worker import Limits, run_bounded
from layers.imports.report import ImportReport, UnitResult

DEFAULT_LICENCE = {"osm": "ODbL-1.0, © OpenStreetMap contributors",
                   "authoritative": "As supplied by the importer; check the data owner's terms"}


#: Attribute names tried, in order and case-insensitively, when no --code-field / --name-field is given.
CODE_FIELDS = ("code", "adcode", "xzqdm", "towncode", "town_code", "dm", "统计代码", "区划代码", "代码")
NAME_FIELDS = ("name_zh", "name", "name:zh", "xzqmc", "townname", "town_name", "名称", "name_en", "name:en")
_MARKUP = re.compile(r"<\s*/?\s*[a-z!?]|javascript\s*:|\bon[a-z]+\s*=", re.IGNORECASE)


def _pick_field(columns: Sequence[str], given: str | None, candidates: Sequence[str], what: str,
                report: ImportReport) -> list[str]:
    if given:
        if given not in columns:
            report.add("field", "error", key="imr_field_missing", given=repr(given), what_key=what,
                       fields=", ".join(map(str, columns)) or "-")
            return []
        return [given]
    lower = {str(c).lower(): c for c in columns}
    return [lower[c] for c in candidates if c in lower]


def _code_of(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and (math.isnan(value) or not value.is_integer())):
        return None
    if isinstance(value, float):
        value = int(value)
    text = re.sub(r"\s", "", str(value))
    if re.fullmatch(r"\d{12}", text) and text.endswith("000"):
        text = text[:9]  # 12-digit NBS form of a township code
    return text if re.fullmatch(r"\d{9}", text) else None


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _relation_of(row: Mapping[str, Any]) -> str:
    for key in ("osm_relation", "osm_id", "@id"):
        value = _text(row.get(key))
        if value:
            return value
    return ""


def _gcj02_check(geoms: Sequence[BaseGeometry], outline_m: BaseGeometry) -> tuple[float, float, float]:
    """(area outside the outline as given, after a GCJ-02 → WGS84 shift, shift in m), in m²/m."""
    given = shapely.union_all([to_measure(g) for g in geoms])
    shifted = shapely.union_all([to_measure(geometry_gcj02_to_wgs84(g)) for g in geoms])
    return (given.difference(outline_m).area, shifted.difference(outline_m).area,
            given.centroid.distance(shifted.centroid))


@dataclass
class _Plan:
    """What the steps of :func:`plan_import` hand on to each other."""

    gdf: gpd.GeoDataFrame
    report: ImportReport
    inputs: Inputs
    accuracy: str
    date: str
    file_name: str
    code_fields: list[str] = field(default_factory=list)
    name_fields: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    polygons: list[tuple[int, BaseGeometry]] = field(default_factory=list)
    accepted: dict[str, list[tuple[int, BaseGeometry, str, str]]] = field(default_factory=dict)
    store: Store | None = None

    @property
    def rows(self) -> dict[str, dict[str, str]]:
        return {r["code"]: r for r in self.inputs.towns}

    def label(self, k: int) -> str:
        row = self.records[k]
        return next((_text(row[f]) for f in [*self.name_fields, *self.code_fields] if _text(row[f])), f"#{k + 1}")


def _read_step(plan: _Plan, *, code_field: str | None, name_field: str | None, geodata_dir: Path) -> bool:
    """Read: what the file replaces, its size for the re-fit, and the fields holding codes and names."""
    gdf, report = plan.gdf, plan.report
    if gdf.attrs.get("note"):
        report.add("read", "info", str(gdf.attrs["note"]))
    store = plan.store or open_store()
    version = store.version()
    current = store.current()
    text = store.overlay(current.version) if current else None
    previous = list(json.loads(text)["features"]) if text else None
    report.based_on = f"v{version}"
    report.file_sha256 = gdf.attrs.get("sha256")
    if previous:
        report.replaces = sorted(f["properties"]["code"] for f in previous)
        report.add("replaces", "info", key="imr_replaces", n=len(previous))
    if gdf.empty:
        report.add("empty", "error", key="imr_empty", file=plan.file_name)
        return False
    vertices = int(shapely.get_num_coordinates(np.asarray(gdf.geometry.values, dtype=object)).sum())
    if vertices > settings.IMPORT_PLAN_MAX_VERTICES:
        report.add("vertices", "error", key="imr_vertices", file=plan.file_name, n=f"{vertices:,}",
                   limit=f"{settings.IMPORT_PLAN_MAX_VERTICES:,}")
        return False
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    plan.code_fields = _pick_field(columns, code_field, CODE_FIELDS, "imr_what_code", report)[:1]
    plan.name_fields = _pick_field(columns, name_field, NAME_FIELDS, "imr_what_name", report)
    report.code_field = plan.code_fields[0] if plan.code_fields else None
    report.name_fields = plan.name_fields
    if report.rejected:
        return False
    if not plan.code_fields and not plan.name_fields:
        report.add("field", "error", key="imr_no_field", fields=", ".join(columns) or "-")
        return False
    marked = sorted({c for c in columns for v in gdf[c] if isinstance(v, str) and _MARKUP.search(v)})
    if marked:
        report.add("markup", "warning", key="imr_markup", fields=", ".join(marked))
    plan.records = gdf.drop(columns=gdf.geometry.name).to_dict("records")
    return True


def _geometry_step(plan: _Plan) -> bool:
    """Check the geometry: polygons only, finite, repaired when invalid, near the district at all."""
    report = plan.report
    wrong: list[str] = []
    for k, geom in enumerate(plan.gdf.geometry.values):
        poly, problem, reason = _as_polygons(geom)
        if problem:
            report.rejected_features.append({"feature": plan.label(k), "reason": problem})
            if problem.startswith("wrong geometry type"):
                wrong.append(problem[len("wrong geometry type ("):-1])
            continue
        if reason:
            report.repaired.append({"feature": plan.label(k), "reason": reason})
        plan.polygons.append((k, poly))
    broken = [r["feature"] for r in report.rejected_features if r["reason"] == NOT_FINITE]
    if broken:
        report.add("coordinates", "warning" if plan.polygons else "error", key="imr_coordinates", n=len(broken),
                   features="; ".join(broken[:10]) + ("; …" if len(broken) > 10 else ""))
    if not plan.polygons and broken and not wrong:
        return False
    if not plan.polygons:
        kinds = ", ".join(sorted(set(wrong))) or "none"
        report.add("geometry_type", "error", key="imr_no_polygons", file=plan.file_name, kinds=kinds)
        return False
    if wrong:
        report.add("geometry_type", "warning", key="imr_wrong_type", n=len(wrong), kinds=", ".join(sorted(set(wrong))))
    if report.repaired:
        report.add("repaired", "warning", key="imr_repaired",
                   features="; ".join(f"{r['feature']} ({r['reason']})" for r in report.repaired))
    nearest = min(to_measure(p).distance(plan.inputs.outline_m) for _k, p in plan.polygons)
    if not nearest <= settings.IMPORT_FAR_M:
        report.add("far", "error", key="imr_far", km=f"{nearest / 1000:,.0f}")
        return False
    return True


def _match_one(plan: _Plan, k: int, by_name: Mapping[str, str]) -> tuple[str | None, str, str | None]:
    """(code, how, raw code) of feature ``k``: by its 9-digit code, else by one of its names."""
    row = plan.records[k]
    raw_code = _code_of(row[plan.code_fields[0]]) if plan.code_fields else None
    if raw_code in plan.rows:
        return raw_code, "code", raw_code
    for f in plan.name_fields:
        hit = by_name.get(normalise_name(_text(row[f])))
        if hit:
            return hit, "name", raw_code
    return None, "", raw_code


def _match_step(plan: _Plan) -> bool:
    """Match each polygon to a unit (code, then name); reject those far outside; refuse duplicates."""
    report = plan.report
    by_name: dict[str, str] = {}
    for r in plan.inputs.towns:
        by_name.setdefault(normalise_name(r["name_zh"]), r["code"])
        by_name.setdefault(normalise_name(r["name_en"]), r["code"])
    near = plan.inputs.outline_m.buffer(settings.IMPORT_NEAR_M)
    outside_names: list[str] = []
    for k, poly in plan.polygons:
        label = plan.label(k)
        code, how, raw_code = _match_one(plan, k, by_name)
        if code is None:
            report.unmatched.append(label + (f" (code {raw_code} is not in Songjiang)" if raw_code else ""))
            continue
        poly_m = to_measure(poly)
        share = poly_m.intersection(near).area / poly_m.area if poly_m.area > 0 else 0.0
        if share < settings.IMPORT_MIN_INSIDE_SHARE:
            reason = (f"far outside the district ({share:.0%} inside, "
                      f"{poly_m.distance(plan.inputs.outline_m) / 1000:.1f} km from the outline)")
            report.rejected_features.append({"feature": label, "reason": reason})
            outside_names.append(f"{label}: {reason}")
            continue
        plan.accepted.setdefault(code, []).append((k, poly, how, label))
    return _match_verdict(plan, outside_names)


def _match_verdict(plan: _Plan, outside_names: list[str]) -> bool:
    report, rows, accepted = plan.report, plan.rows, plan.accepted
    if report.unmatched:
        sev = "warning" if accepted else "error"
        fields = {"code_field": report.code_field} if report.code_field else {"code_field_key": "imr_no_code_field"}
        fields.update({"name_fields": ", ".join(plan.name_fields)} if plan.name_fields
                      else {"name_fields_key": "imr_no_name_field"})
        report.add("names", sev, key="imr_names", n=len(report.unmatched), **fields,
                   labels="; ".join(report.unmatched[:10]) + ("; …" if len(report.unmatched) > 10 else ""),
                   then_key="imr_names_skipped" if accepted else "imr_names_nothing")
    if outside_names:
        sev = "warning" if accepted else "error"
        report.add("outside", sev, key="imr_outside", items="; ".join(outside_names))
    duplicates = {c: v for c, v in accepted.items() if len(v) > 1}
    if duplicates:
        report.add("duplicates", "error", key="imr_duplicates", items="; ".join(
            f"{rows[c]['name_zh']} ({c}) × {len(v)} ({', '.join(x[3] for x in v)})"
            for c, v in sorted(duplicates.items())))
    if report.rejected or not accepted:
        if not report.rejected:
            report.add("nothing", "error", key="imr_nothing")
        return False
    return True


def _shift_step(plan: _Plan, geoms: Mapping[str, BaseGeometry]) -> None:
    """Check the position: GCJ-02 or BD-09 coordinates declared as WGS 84, units far from their reference point."""
    report, rows, outline_m = plan.report, plan.rows, plan.inputs.outline_m
    given, shifted, shift = _gcj02_check(list(geoms.values()), outline_m)
    baidu = _bd09_outside(geoms, outline_m) if given >= settings.IMPORT_REPORT_MIN_M2 else given
    if _set_right(given, baidu) and baidu < shifted:
        report.add("bd09", "confirm", key="imr_bd09", given=f"{given / 1e6:,.2f}", baidu=f"{baidu / 1e6:,.2f}",
                   shifted=f"{shifted / 1e6:,.2f}")
    elif _set_right(given, shifted):
        report.add("gcj02", "confirm", key="imr_gcj02", shift=f"{shift:,.0f}", given=f"{given / 1e6:,.2f}",
                   shifted=f"{shifted / 1e6:,.2f}")
    elif given < settings.IMPORT_REPORT_MIN_M2 and shifted < settings.IMPORT_REPORT_MIN_M2:
        report.add("gcj02", "info", key="imr_gcj02_unsure")
    for code, poly in geoms.items():
        row = rows[code]
        away = to_measure(poly).distance(_anchor(row))
        if away > max(float(row["ref_accuracy_m"] or 0), 200.0):
            report.add("ref_point", "warning", key="imr_ref_point", name=row["name_zh"], m=f"{away:,.0f}",
                       ref=row["ref_kind"])


def _set_right(given: float, converted: float) -> bool:
    """Whether a conversion puts the boundaries right: enough area gained, at most half of it left outside."""
    return (given - converted >= settings.IMPORT_GCJ02_MIN_GAIN_KM2 * 1e6
            and converted <= settings.IMPORT_GCJ02_RATIO * given)


def _bd09_outside(geoms: Mapping[str, BaseGeometry], outline_m: BaseGeometry) -> float:
    """Area (m²) of the units outside the outline once converted BD-09 (Baidu) → WGS 84."""
    return shapely.union_all([to_measure(geometry_bd09_to_wgs84(g)) for g in geoms.values()]).difference(
        outline_m).area


def _unit_features(plan: _Plan, geoms: Mapping[str, BaseGeometry], source: str | None,
                   licence: str | None) -> None:
    """Clip: the overlay's features, each unit with its own provenance."""
    rows, report = plan.rows, plan.report
    for code in sorted(geoms):
        k, poly, how, label = plan.accepted[code][0]
        row, rec = rows[code], plan.records[k]
        relation = _relation_of(rec)
        default_source = (f"OpenStreetMap relation {relation} via {plan.file_name}, imported {plan.date}"
                          if relation and plan.accuracy == "osm"
                          else f"{plan.file_name} (feature {label}), imported {plan.date}")
        props = {
            "id": code, "code": code, "name_zh": row["name_zh"], "name_en": row["name_en"],
            "source": _text(rec.get("source")) or source or default_source,
            "licence": (_text(rec.get("licence")) or _text(rec.get("license")) or licence
                        or DEFAULT_LICENCE[plan.accuracy]),
            "accuracy": plan.accuracy, "import_date": plan.date, "import_file": plan.file_name,
            "import_label": label, "matched_by": how,
        }
        report.features.append(feature(poly, props))


def _refit_step(plan: _Plan, geoms: Mapping[str, BaseGeometry]) -> bool:
    """Re-fit the units not supplied around the imported ones and report the figures."""
    report, rows = plan.report, plan.rows
    snapped = {f["id"]: shape(f["geometry"]) for f in report.features}
    try:
        fit = refit_towns(plan.inputs, snapped)
    except (PartitionError, TownImportError) as exc:
        report.add("refit", "error", key="imr_refit", detail=str(exc))
        return False
    report.overlaps = fit.overlaps
    if fit.overlaps:
        report.add("overlaps", "warning", key="imr_overlaps", items="; ".join(
            f"{rows[o['a']]['name_zh']} / {rows[o['b']]['name_zh']} {o['area_m2'] / 1e6:.4f} km²"
            for o in fit.overlaps))
    report.gaps = [{**g, "to_name": rows[g["to"]]["name_zh"]} for g in fit.gaps]
    if report.gaps:
        report.add("gaps", "warning", key="imr_gaps", n=len(report.gaps),
                   total=f"{sum(g['area_m2'] for g in report.gaps) / 1e6:,.3f}",
                   largest=f"{report.gaps[0]['area_m2'] / 1e6:,.3f}", to=report.gaps[0]["to_name"])
    for m in fit.moved:
        inside = rows[m["inside"]]["name_zh"] if m["inside"] else ""
        report.add("ref_point", "warning", key="imr_moved", name=m["name_zh"], inside=inside,
                   m=f"{m['moved_m']:,.0f}", where_key="imr_moved_inside" if m["inside"] else "imr_moved_sliver")
    _report_step(plan, geoms, snapped, fit)
    return True


def _report_step(plan: _Plan, geoms: Mapping[str, BaseGeometry], snapped: Mapping[str, BaseGeometry],
                 fit: Any) -> None:
    """Report: the figures of the re-fit and one row per unit."""
    report, rows = plan.report, plan.rows
    report.outside_km2 = round(sum(fit.clipped_m2.values()) / 1e6, 4)
    report.slivers_km2 = round(fit.slivers_m2 / 1e6, 4)
    report.result_overlap_m2 = round(fit.overlap_m2, 2)
    report.result_symdiff_m2 = round(fit.symdiff_m2, 2)
    for row, cell in zip(plan.inputs.towns, fit.cells, strict=False):
        code = row["code"]
        item = plan.accepted.get(code)
        report.units.append(UnitResult(
            code=code, name_zh=row["name_zh"], name_en=row["name_en"],
            status="imported" if code in geoms else "schematic",
            matched_by=item[0][2] if item else "", input_label=item[0][3] if item else "",
            supplied_km2=round(to_measure(snapped[code]).area / 1e6, 3) if code in geoms else None,
            clipped_km2=round(fit.clipped_m2[code] / 1e6, 3) if code in geoms else None,
            added_km2=round(fit.added_m2[code] / 1e6, 3), area_km2=round(to_measure(cell).area / 1e6, 3),
            official_km2=float(row["area_official_km2"])))
    n_imp = len(geoms)
    report.add("summary", "info", key="imr_summary", n=n_imp, rest=len(rows) - n_imp,
               accuracy_key=f"imr_acc_{plan.accuracy}")


def plan_import(gdf: gpd.GeoDataFrame, *, code_field: str | None = None, name_field: str | None = None,
                accuracy: str = "authoritative", source: str | None = None, licence: str | None = None,
                date: str | None = None, geodata_dir: Path = paths.GEODATA_DIR,
                inputs: Inputs | None = None, store: Store | None = None) -> ImportReport:
    """Match, validate and re-fit without writing anything: read → match → clip → check → report.

    Parameters
    ----------
    gdf : GeoDataFrame
        From :func:`read_town_file` (EPSG:4326).
    code_field, name_field : str, optional
        Attribute holding the 9-digit code / the name; found among common names when not given.
    accuracy : {"authoritative", "osm"}
        Accuracy written on every imported unit.
    source, licence : str, optional
        Provenance for units whose feature has no ``source`` / ``licence`` attribute of its own.
    date : str, optional
        Import date (ISO); today when not given.
    geodata_dir : Path
        The shipped baseline (kept for callers; imports live in the workspace store).
    store : Store, optional
        The workspace store (default :func:`open_store`): its version is what apply checks is still in force, its
        import in force what this one replaces.

    Returns
    -------
    ImportReport
        ``rejected`` when the file cannot be imported; its ``features`` are the overlay to write otherwise.
    """
    started = time.perf_counter()
    if accuracy not in IMPORT_ACCURACY:
        raise TownImportError(f"accuracy must be one of {', '.join(IMPORT_ACCURACY)}, not {accuracy!r}.")
    date = date or dt.date.today().isoformat()
    file_name = str(gdf.attrs.get("file_name", "")) or "(unnamed)"
    report = ImportReport(file_name=file_name, accuracy=accuracy, source_crs=str(gdf.attrs.get("source_crs", "")),
                          import_date=date, features_read=len(gdf))
    plan = _Plan(gdf=gdf, report=report, inputs=inputs or read_inputs(), accuracy=accuracy, date=date,
                 file_name=file_name, store=store)
    if not (_read_step(plan, code_field=code_field, name_field=name_field, geodata_dir=geodata_dir)
            and _geometry_step(plan) and _match_step(plan)):
        return report
    geoms = {c: v[0][1] for c, v in plan.accepted.items()}
    _shift_step(plan, geoms)
    _unit_features(plan, geoms, source, licence)
    if _refit_step(plan, geoms):
        report.elapsed_s = round(time.perf_counter() - started, 2)
    return report


def plan_file(data: bytes, *, filename: str, crs: str | None = None, accuracy: str = "authoritative",
              geodata_dir: Path = paths.GEODATA_DIR, store: Store | None = None) -> ImportReport:
    """Read an uploaded file (:func:`read_town_file`) and plan its import: what the worker process runs."""
    return plan_import(read_town_file(data, filename=filename, crs=crs), accuracy=accuracy, geodata_dir=geodata_dir,
                       store=store)


def plan_upload(data: bytes, *, filename: str, crs: str | None = None, accuracy: str = "authoritative",
                geodata_dir: Path = paths.GEODATA_DIR, limits: Limits | None = None, store: Store | None = None
                ) -> ImportReport:
    """:func:`plan_file` in a bounded worker process (``layers.core.worker``): an upload can neither freeze nor
    bloat the server.

    Raises
    ------
    TownImportError, WorkerLimitError, UnexpectedError
        The file was refused, hit a limit, or something unforeseen happened (logged with an id).
    """
    # The store is named here, in the server, so that the worker reads the same one whatever its environment.
    return run_bounded(plan_file, data, filename=filename, crs=crs, accuracy=accuracy, geodata_dir=geodata_dir,
                       store=store or open_store(), limits=limits, where="import plan")
