"""One writer per export format (``FORMATS``): GeoJSON, GeoPackage, Shapefile (zip), KML, CSV."""
from __future__ import annotations

import csv
import html
import io
import math
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

# isort: split
import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
import shapely

from layers.core.catalog import Catalog, LayerSpec
from layers.core.datatext import has_wording, pick_lang, plan_ref_text
from layers.core.errors import ExportError
from layers.core.geojson import feature, feature_collection_text, geometry_family
from layers.core.i18n import t
from layers.core.numbers import fmt_count
from layers.export.gpkg import part_sheet, write_gpkg
from layers.export.job import (
    CRS_CHOICES,
    CRS_NAMES,
    FORMULA_PREFIXES,
    SHP_FIELD_CHARS,
    SHP_TEXT_BYTES,
    WKT_DECIMALS,
    ExportJob,
    LayerPart,
    _Staging,
    filter_text,
)
from layers.export.qml import layer_qml
from layers.export.sld import layer_sld
from layers.export.symbology import Symbol, symbol_for


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _text(value: Any) -> str:
    return "" if _is_missing(value) else str(value)


def _attribute_columns(gdf: gpd.GeoDataFrame) -> list[str]:
    return [c for c in gdf.columns if c != gdf.geometry.name]


KML_NS = "http://www.opengis.net/kml/2.2"
ET.register_namespace("", KML_NS)
#: Attribute name of the feature id in KML: readers take 'id' for the Placemark's own id.
KML_ID_FIELD = "feature_id"
KML_POINT_ICON = "http://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"
#: Geometry column of a CSV: GDAL and QGIS take a column named WKT as the geometry (the .csvt says so too).
CSV_WKT_FIELD = "wkt"

_EMPTY_TYPES = {"polygon": "MultiPolygon", "line": "MultiLineString", "point": "Point", "mixed": "Unknown"}


def _geometry_type_hint(spec: LayerSpec, gdf: gpd.GeoDataFrame) -> str | None:
    """Geometry type to declare for an empty frame (GDAL cannot infer one from no rows)."""
    return _EMPTY_TYPES.get(spec.geometry, "Unknown") if gdf.empty else None


def _readme(job: ExportJob, layer_id: str, extra: Sequence[str] = ()) -> str:
    spec = job.specs[layer_id]
    prov = spec.provenance
    gdf = job.frames[layer_id]
    accuracy = ", ".join(sorted(set(gdf["accuracy"].dropna().astype(str)))) or prov.accuracy
    lines = [
        f"{job.catalog.meta.get('title_zh', '')} / {job.catalog.meta.get('title_en', '')}",
        f"Layer: {spec.id} — {spec.title_zh} / {spec.title_en}",
        f"Features: {fmt_count(len(gdf), 'en')}",
        f"CRS: EPSG:{job.crs} ({CRS_NAMES[job.crs]})",
        f"Release date: {job.date}",
        f"Filter: {filter_text(job.flt)}",
        "",
        f"Attribution: {prov.attribution}",
        f"Source: {prov.source}",
        f"Licence: {prov.licence}",
        f"Source date: {prov.date}",
        f"Accuracy: {accuracy} (every feature carries its own 'source', 'licence' and 'accuracy'"
        + (", and 'accuracy_m', the position uncertainty in metres)" if "accuracy_m" in gdf.columns else ")"),
        "Accuracy levels: authoritative = official survey; osm = OpenStreetMap; provider = map provider; "
        "approximate = located within accuracy_m metres; schematic = an illustration, not for measurement.",
        f"Plan reference: {prov.plan_ref or '-'} ({job.catalog.meta.get('plan_en', '')})",
    ]
    if "town_basis" in gdf.columns:
        approx = int(gdf["town_approx"].fillna(False).astype(bool).sum()) if "town_approx" in gdf.columns else 0
        lines += ["", "Town of each feature: town_code (the unit it is counted in), town_codes (every unit it may lie "
                  "in), town_basis = stated / inferred (a source says so) / boundary (on a unit boundary) / "
                  "computed_schematic (≈ approximate: computed on schematic town cells) / computed_osm / "
                  f"computed_authoritative. town_approx marks the ≈ approximate ones: {approx} of {len(gdf)} here."]
    if "area_km2" in gdf.columns and "accuracy" in gdf.columns and (gdf["accuracy"] == "schematic").any():
        lines += ["≈ area_km2 of schematic features is approximate (see area_km2_basis where present)."]
    if spec.notes_en:
        lines += ["", f"Notes: {spec.notes_en}"]
    if extra:
        lines += ["", *extra]
    zh = _readme_zh(job, layer_id, accuracy)
    blocks = [zh, lines] if job.lang == "zh" else [lines, zh]
    return "\r\n".join([*blocks[0], "", "-" * 40, "", *blocks[1]]) + "\r\n"


def _readme_zh(job: ExportJob, layer_id: str, accuracy: str) -> list[str]:
    """The Chinese half of a README (the English half names the files in detail)."""
    spec = job.specs[layer_id]
    prov = spec.provenance
    levels = ", ".join(job.catalog.value_label("accuracy", a.strip(), "zh") for a in accuracy.split(","))
    lines = [
        f"{job.catalog.meta.get('title_zh', '')}",
        f"{t('exp_rd_layer', 'zh')}：{spec.id} — {spec.title_zh}",
        f"{t('exp_rd_features', 'zh')}：{fmt_count(len(job.frames[layer_id]), 'zh')}",
        f"{t('exp_rd_crs', 'zh')}：EPSG:{job.crs}（{t(f'crs_{job.crs}', 'zh')}）",
        f"{t('exp_rd_release', 'zh')}：{job.date}",
        f"{t('exp_rd_filter', 'zh')}：{filter_text(job.flt) if job.flt.to_params() else t('exp_rd_no_filter', 'zh')}",
        f"{t('exp_rd_attribution', 'zh')}：{prov.text('attribution', 'zh')}",
        f"{t('exp_rd_source', 'zh')}：{prov.text('source', 'zh')}",
        f"{t('exp_rd_licence', 'zh')}：{prov.text('licence', 'zh')}",
        f"{t('exp_rd_date', 'zh')}：{prov.text('date', 'zh')}",
        f"{t('exp_rd_accuracy', 'zh')}：{levels}",
        f"{t('exp_rd_plan', 'zh')}：{plan_ref_text(prov.plan_ref, 'zh') if prov.plan_ref else '-'}"
        f"（{job.catalog.meta.get('plan_zh', '')}）",
        t("exp_rd_styles", "zh"),
    ]
    if spec.notes_zh:
        lines.append(f"{t('exp_rd_notes', 'zh')}：{spec.notes_zh}")
    return lines


def _write_geojson(job: ExportJob, staging: _Staging) -> None:
    # RFC 7946: lon/lat WGS84, 6 decimals, CCW exteriors, no crs member (layers.geojson does all of it).
    for layer_id, gdf in job.frames.items():
        cols = _attribute_columns(gdf)
        feats = [feature(geom, dict(zip(cols, row, strict=True)))
                 for geom, row in zip(gdf.geometry.values, gdf[cols].itertuples(index=False, name=None), strict=True)]
        stem = job.stem(layer_id)
        text = feature_collection_text(feats, name=stem)
        staging.new(f"{stem}.geojson").write_text(text, encoding="utf-8", newline="\n")


def shapefile_field_map(names: Iterable[str]) -> dict[str, str]:
    """Map attribute names to unique DBF names of ≤ 10 characters, deterministically.

    Names that fit are kept; longer ones are shortened part by part (``residents_committees_2022`` →
    ``re_co_2022``), the longest ``_``-separated part losing a character first; a clash gets a numeric tail.
    Uniqueness is case-insensitive, as DBF readers compare names that way.
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    names = list(names)
    # Names that already fit are reserved first, so a shortened name never takes their place.
    for name in names:
        if len(name) <= SHP_FIELD_CHARS and name.lower() not in used:
            out[name] = name
            used.add(name.lower())
    for name in names:
        if name in out:
            continue
        parts = [p for p in name.split("_") if p] or ["f"]
        while len("_".join(parts)) > SHP_FIELD_CHARS:
            # Words shrink before numbers (years stay readable); among words the longest, then the first.
            longest = max(range(len(parts)), key=lambda i: (not parts[i].isdigit() and len(parts[i]) > 1,
                                                             len(parts[i]), -i))
            if len(parts[longest]) <= 1:
                parts = ["".join(parts)[:SHP_FIELD_CHARS]]
                break
            parts[longest] = parts[longest][:-1]
        base = "_".join(parts)[:SHP_FIELD_CHARS]
        candidate, n = base, 1
        while candidate.lower() in used:
            tail = str(n)
            candidate = base[:SHP_FIELD_CHARS - len(tail)] + tail
            n += 1
        out[name] = candidate
        used.add(candidate.lower())
    return {name: out[name] for name in names}


def _fit_dbf_text(value: Any) -> tuple[Any, bool]:
    """Cut a text value to 254 UTF-8 bytes on a character boundary; report whether it was cut."""
    if not isinstance(value, str):
        return value, False
    data = value.encode("utf-8")
    if len(data) <= SHP_TEXT_BYTES:
        return value, False
    return data[:SHP_TEXT_BYTES].decode("utf-8", errors="ignore"), True


def inert_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet cannot run: text starting like a formula (``= + - @``, tab, CR) gets a leading
    apostrophe, so Excel or LibreOffice show it as text instead of evaluating it (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_text(df: pd.DataFrame) -> str:
    df = df.copy()
    for col in df.columns:
        if df[col].dtype.kind == "b":  # the .csvt says Integer: 1/0, as GDAL and QGIS read it
            df[col] = df[col].astype(int)
        elif df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
            df[col] = pd.Series([inert_cell(v) for v in df[col]], index=df.index, dtype=object)
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return "\ufeff" + buf.getvalue()  # BOM: Excel then reads the file as UTF-8


def _shapefile_frame(gdf: gpd.GeoDataFrame, fmap: Mapping[str, str]) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The frame with DBF field names and text cut to 254 bytes; the original names of the cut columns."""
    out = gdf.rename(columns=dict(fmap))
    truncated: list[str] = []
    for col, short in fmap.items():
        if out[short].dtype == object or pd.api.types.is_string_dtype(out[short]):
            fitted = [_fit_dbf_text(v) for v in out[short]]
            if any(cut for _v, cut in fitted):
                truncated.append(col)
                out[short] = pd.Series([v for v, _cut in fitted], index=out.index, dtype=object)
    return out, truncated


def _style_files(job: ExportJob, part: LayerPart, rename: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{".qml": text, ".sld": text}`` for one part (QGIS applies a same-named .qml when it opens a file);
    ``rename`` maps attribute names to those in the file (DBF field names)."""
    sheet = part_sheet(job, part)
    if rename:
        sheet = replace(sheet, aliases=tuple((rename.get(c, c), a) for c, a in sheet.aliases))
    return {".qml": layer_qml(sheet), ".sld": layer_sld(sheet)}


def _part_stem(job: ExportJob, part: LayerPart) -> str:
    return job.stem(part.name)


def _write_shapefile(job: ExportJob, staging: _Staging) -> None:
    for layer_id, gdf in job.frames.items():
        stem = job.stem(layer_id)
        cols = _attribute_columns(gdf)
        fmap = shapefile_field_map(cols)
        parts = job.parts(layer_id)
        scratch = staging.scratch_dir()
        try:
            members: list[Path] = []
            truncated: list[str] = []
            for part in parts:
                out, cut = _shapefile_frame(part.frame, fmap)
                truncated += [c for c in cut if c not in truncated]
                shp = scratch / f"{_part_stem(job, part)}.shp"
                hint = _EMPTY_TYPES.get(part.family) if out.empty else None
                pyogrio.write_dataframe(out, shp, driver="ESRI Shapefile", encoding="UTF-8", geometry_type=hint)
                for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                    f = shp.with_suffix(ext)
                    if not f.exists():
                        raise ExportError(f"Shapefile {shp.name}: GDAL did not write the {ext} part.")
                    members.append(f)
                for suffix, text in _style_files(job, part, rename=fmap).items():
                    shp.with_suffix(suffix).write_text(text, encoding="utf-8", newline="\n")
                    members.append(shp.with_suffix(suffix))
            truncated = [c for c in cols if c in truncated]
            fieldmap = pd.DataFrame({"field": list(fmap), "shapefile_field": list(fmap.values()),
                                     "label_zh": [job.catalog.label(c, "zh") for c in fmap],
                                     "label_en": [job.catalog.label(c, "en") for c in fmap],
                                     "truncated_to_254_bytes": ["yes" if c in truncated else "" for c in fmap]})
            (scratch / "fieldmap.csv").write_text(_csv_text(fieldmap), encoding="utf-8", newline="")
            full = pd.DataFrame(gdf[cols])
            full_name = f"{stem}_attributes.csv"
            (scratch / full_name).write_text(_csv_text(full), encoding="utf-8", newline="")
            extra = [
                "Files: .shp/.shx/.dbf/.prj/.cpg (text encoding UTF-8, declared in the .cpg); .qml (QGIS style, "
                "applied on open) and .sld (OGC style) with the web map's colours.",
                "fieldmap.csv: original attribute name -> the 10-character Shapefile field name, with labels.",
            ]
            if len(parts) > 1:
                extra.append("This layer mixes geometry types, which a Shapefile cannot hold: it is split into "
                             + ", ".join(f"{_part_stem(job, p)}.shp ({len(p.frame)} feature(s))" for p in parts)
                             + ".")
            if truncated:
                extra.append("DBF text is limited to 254 bytes; these fields were cut at a character boundary: "
                             + ", ".join(truncated) + f". The full values are in {full_name} (UTF-8).")
            else:
                extra.append(f"{full_name}: the same attributes as a UTF-8 CSV.")
            extra.append("DBF pads text with blanks, so trailing spaces of a value are not kept in the .dbf "
                         "(they are in the CSV).")
            (scratch / "README.txt").write_text(_readme(job, layer_id, extra), encoding="utf-8", newline="")
            members += [scratch / "fieldmap.csv", scratch / full_name, scratch / "README.txt"]
            _zip_members(staging.new(f"{stem}.zip"), members, job.date)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def zip_stamp(date: str) -> tuple[int, int, int, int, int, int]:
    """The time stamp of zip members: the release date (so the same data gives the same zip)."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        year, month, day = (int(x) for x in date.split("-"))
        return (year, month, day, 0, 0, 0)
    return (1980, 1, 1, 0, 0, 0)


def _zip_members(target: Path, members: Sequence[Path], date: str) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member in members:
            info = zipfile.ZipInfo(member.name, date_time=zip_stamp(date))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.read_bytes())


def _description_cell(value: Any) -> str:
    """A KML popup's value: a citation recorded in English with its Chinese wording above it, both escaped."""
    text = _text(value)
    zh = pick_lang(text, "zh") if text and has_wording(text) else text
    return html.escape(text) if zh == text else f"{html.escape(zh)}<br>{html.escape(text)}"


def _description_table(catalog: Catalog, row: Mapping[str, Any]) -> str:
    """The bilingual table a KML reader shows on click: "标签 / Label" headers; the attributes themselves stay as
    recorded in ExtendedData."""
    cells = "".join(
        f"<tr><th>{html.escape(catalog.label(k, 'zh'))} / {html.escape(catalog.label(k, 'en'))}</th>"
        f"<td>{_description_cell(v)}</td></tr>" for k, v in row.items())
    return f"<table>{cells}</table>"


def _kml_colour(hex_colour: str, opacity: float) -> str:
    """KML colours are ``aabbggrr``."""
    alpha = round(max(0.0, min(1.0, opacity)) * 255)
    return f"{alpha:02x}{hex_colour[5:7]}{hex_colour[3:5]}{hex_colour[1:3]}".lower()


def _kml_style(sym: Symbol) -> ET.Element:
    style = ET.Element(f"{{{KML_NS}}}Style")
    if sym.family == "point":
        icon = ET.SubElement(style, f"{{{KML_NS}}}IconStyle")
        ET.SubElement(icon, f"{{{KML_NS}}}color").text = _kml_colour(sym.fill or sym.stroke, 1.0)
        ET.SubElement(icon, f"{{{KML_NS}}}scale").text = f"{sym.size / 16:.2f}"
        href = ET.SubElement(ET.SubElement(icon, f"{{{KML_NS}}}Icon"), f"{{{KML_NS}}}href")
        href.text = KML_POINT_ICON
        return style
    line = ET.SubElement(style, f"{{{KML_NS}}}LineStyle")
    ET.SubElement(line, f"{{{KML_NS}}}color").text = _kml_colour(sym.stroke, sym.stroke_opacity)
    ET.SubElement(line, f"{{{KML_NS}}}width").text = f"{sym.width:g}"
    if sym.family == "polygon":
        poly = ET.SubElement(style, f"{{{KML_NS}}}PolyStyle")
        ET.SubElement(poly, f"{{{KML_NS}}}color").text = _kml_colour(sym.fill or sym.stroke, sym.fill_opacity)
        ET.SubElement(poly, f"{{{KML_NS}}}fill").text = "1" if sym.fill_opacity > 0 else "0"
        ET.SubElement(poly, f"{{{KML_NS}}}outline").text = "1"
    return style


def _kml_xml_id(layer_id: str, feature_id: Any) -> str:
    return f"{layer_id}.{re.sub(r'[^A-Za-z0-9_.-]', '_', _text(feature_id))}"


def _style_kml(path: Path, job: ExportJob, layer_id: str) -> None:
    """Give every Placemark a ``<Style>`` (the web map's colours and widths) and an id of its own feature's."""
    spec = job.specs[layer_id]
    gdf = job.frames[layer_id]
    cols = _attribute_columns(gdf)
    tree = ET.parse(path)
    marks = tree.getroot().findall(f".//{{{KML_NS}}}Placemark")
    if len(marks) != len(gdf):
        raise ExportError(f"KML {path.name}: {len(marks)} placemarks written for {len(gdf)} features.")
    for mark, geom_type, row in zip(marks, gdf.geom_type, gdf[cols].to_dict("records"), strict=True):
        family = geometry_family(geom_type) or ("line" if spec.geometry == "mixed" else spec.geometry)
        mark.set("id", _kml_xml_id(layer_id, row.get("id")))
        for default in mark.findall(f"{{{KML_NS}}}Style"):  # GDAL's own: a red outline, no fill
            mark.remove(default)
        # KML order: name, description, Style, ExtendedData, geometry.
        children = list(mark)
        at = next((i for i, c in enumerate(children) if c.tag == f"{{{KML_NS}}}ExtendedData"), len(children))
        mark.insert(at, _kml_style(symbol_for(spec, row, family)))
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _write_kml(job: ExportJob, staging: _Staging) -> None:
    # KML is WGS84 lon/lat by definition; GDAL's KML driver adds every attribute as ExtendedData too. Readers
    # (GDAL, Google Earth) call the Placemark's own id 'id', so the feature id travels as 'feature_id'.
    for layer_id, gdf in job.frames.items():
        cols = _attribute_columns(gdf)
        out = gdf.rename(columns={"id": KML_ID_FIELD})
        out.insert(0, "Name", [" ".join(p for p in (_text(zh), _text(en)) if p)
                               for zh, en in zip(gdf["name_zh"], gdf["name_en"], strict=True)])
        out.insert(1, "Description", [_description_table(job.catalog, dict(zip(cols, row, strict=True)))
                                      for row in gdf[cols].itertuples(index=False, name=None)])
        target = staging.new(f"{job.stem(layer_id)}.kml")
        pyogrio.write_dataframe(out, target, layer=layer_id, driver="KML",
                                geometry_type=_geometry_type_hint(job.specs[layer_id], gdf))
        _style_kml(target, job, layer_id)


_CSVT_TYPES = {"i": "Integer", "u": "Integer", "f": "Real", "b": "Integer"}


def _csvt(df: pd.DataFrame) -> str:
    """The GDAL/QGIS column types of a CSV: one quoted type per column, WKT for the geometry."""
    types = ["WKT" if c == CSV_WKT_FIELD else _CSVT_TYPES.get(df[c].dtype.kind, "String") for c in df.columns]
    return ",".join(f'"{t}"' for t in types) + "\r\n"


def _write_csv(job: ExportJob, staging: _Staging) -> None:
    decimals = WKT_DECIMALS[job.crs]
    prj = pyproj.CRS.from_epsg(job.crs).to_wkt(pyproj.enums.WktVersion.WKT1_GDAL)
    for layer_id in job.frames:
        parts = job.parts(layer_id)
        for part in parts:
            gdf = part.frame
            df = pd.DataFrame(gdf[_attribute_columns(gdf)])
            df[CSV_WKT_FIELD] = [shapely.to_wkt(g, rounding_precision=decimals, trim=True) if g is not None else ""
                                 for g in gdf.geometry.values]
            df["wkt_crs"] = f"EPSG:{job.crs}"
            stem = _part_stem(job, part)
            staging.new(f"{stem}.csv").write_text(_csv_text(df), encoding="utf-8", newline="")
            staging.new(f"{stem}.csvt").write_text(_csvt(df), encoding="utf-8", newline="")
            staging.new(f"{stem}.prj").write_text(prj, encoding="utf-8", newline="")
            for suffix, text in _style_files(job, part).items():
                staging.new(f"{stem}{suffix}").write_text(text, encoding="utf-8", newline="\n")


@dataclass(frozen=True)
class ExportFormat:
    """One download format: its writer and the CRSs it can hold (with the reason when limited)."""

    name: str
    label: str
    writer: Callable[[ExportJob, _Staging], None]
    crs: tuple[int, ...] = CRS_CHOICES
    crs_reason: str = ""


FORMATS: dict[str, ExportFormat] = {
    "geojson": ExportFormat("geojson", "GeoJSON (RFC 7946)", _write_geojson, (4326,),
                            "GeoJSON files follow RFC 7946, which allows only WGS 84 longitude/latitude "
                            "(EPSG:4326); choose GeoPackage, Shapefile or CSV for EPSG:4490 or EPSG:4549."),
    "gpkg": ExportFormat("gpkg", "GeoPackage", write_gpkg),
    "shp": ExportFormat("shp", "Shapefile (zip)", _write_shapefile),
    "kml": ExportFormat("kml", "KML", _write_kml, (4326,),
                        "KML is always WGS 84 longitude/latitude (EPSG:4326) by definition; choose GeoPackage, "
                        "Shapefile or CSV for EPSG:4490 or EPSG:4549."),
    "csv": ExportFormat("csv", "CSV with WKT", _write_csv),
}
