"""Tables shown on the pages (catalogue, undrawn lines, town facts, indicators), built as plain DataFrames."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from layers.core import paths, settings
from layers.core.catalog import Catalog, get_catalog
from layers.core.datatext import pick_lang, plan_ref_text
from layers.core.i18n import t
from layers.core.numbers import (
    fmt_count,
    fmt_field,
    fmt_km,
    fmt_number,
    fmt_stated,
    is_missing,
    missing_text,
    with_unit,
)
from layers.map.load import town_name
from layers.map.stats import STATISTICS, compare_towns, mark_value

#: Official facts shown in a town's detail view, in order.
TOWN_FACT_FIELDS = ("type", "employment_2023", "residents_committees_2022", "village_committees_2022",
                    "villages_2022", "population_2020", "area_official_km2", "area_year", "area_grade",
                    "area_note", "facts_source", "accuracy")


def headline_figures(lang: str) -> list[dict[str, str]]:
    """The home page's headline figures (``geodata/curation/headlines.csv``): label with year, value with unit,
    and the source line (plan title and line references)."""
    import csv


    plan = get_catalog().meta["plan_en" if lang == "en" else "plan_zh"]
    with open(paths.CURATION_DIR / "headlines.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        label = row[f"label_{lang}"]
        year = t("fig_target", lang, year=row["year"]) if row["kind"] == "target" else f"{row['year']} "
        out.append({"key": row["key"], "label": year + label,
                    "value": f"{fmt_stated(row['value'], lang)} {row[f'unit_{lang}']}",
                    "source": t("fig_source", lang, plan=plan, ref=row["plan_ref"])})
    return out


def undrawn_lines_table(catalog: Catalog, lang: str) -> pd.DataFrame:
    """Lines the plan names but the map does not draw, with status, reference and reason (labelled columns)."""
    rows = [dict(u) for spec in catalog.layers for u in spec.undrawn]
    if not rows:
        return pd.DataFrame()
    for row in rows:
        for coded in ("mode", "status"):
            if row.get(coded):
                row[coded] = catalog.value_label(coded, str(row[coded]), lang)
        row["plan_ref"] = plan_ref_text(row.get("plan_ref", ""), lang)
    frame = pd.DataFrame(rows)
    cols = [c for c in ("line_id", f"name_{lang}", "mode", "status", "plan_ref", f"reason_{lang}") if c in frame]
    return frame[cols].rename(columns=lambda c: catalog.label(c, lang))


def _layer_accuracy(catalog: Catalog, prov: Any, lang: str) -> str:
    """A layer's accuracy in words; a mixed layer lists how many features have each level."""
    label = catalog.value_label("accuracy", prov.accuracy, lang)
    if prov.accuracy_counts:
        parts = [f"{catalog.value_label('accuracy', k, lang)} {n}" for k, n in prov.accuracy_counts.items()]
        label += ": " + ", ".join(parts)
    return label


def catalogue_table(catalog: Catalog, layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> pd.DataFrame:
    """One row per layer: title, provenance, accuracy, feature count (empty when the layer failed), CRS, dates."""
    rows = []
    for spec in catalog.layers:
        p = spec.provenance
        frame = layers.get(spec.id)
        rows.append({t("col_layer", lang): spec.title(lang), t("col_source", lang): p.text("source", lang),
                     t("col_licence", lang): p.text("licence", lang),
                     t("col_accuracy", lang): _layer_accuracy(catalog, p, lang),
                     t("col_features", lang): missing_text(lang) if frame is None else fmt_count(len(frame), lang),
                     t("col_crs", lang): settings.WGS84, t("col_date", lang): p.text("date", lang),
                     t("col_release", lang): catalog.meta.get("release_date", ""),
                     t("col_plan_ref", lang): plan_ref_text(p.plan_ref, lang),
                     t("col_attribution", lang): p.text("attribution", lang)})
    return pd.DataFrame(rows)


def accuracy_table(catalog: Catalog, lang: str) -> pd.DataFrame:
    """The accuracy vocabulary, each level explained."""
    levels = settings.ACCURACY_LEVELS
    return pd.DataFrame({t("col_accuracy", lang): [catalog.value_label("accuracy", a, lang) for a in levels],
                         "": [t(f"acc_{a}", lang) for a in levels]})


#: Fact fields that are remarks, not figures: empty means there is nothing to remark, not a missing figure.
REMARK_FIELDS = frozenset({"area_note"})


def _fact_value(catalog: Catalog, field: str, value: Any, lang: str) -> str:
    if is_missing(value):
        return t("year_unknown", lang) if field in REMARK_FIELDS else missing_text(lang)
    figure = fmt_field(field, value, lang)
    if figure is not None:
        return figure
    return pick_lang(catalog.value_label(field, str(value), lang), lang)


def town_facts_table(catalog: Catalog, towns: gpd.GeoDataFrame, code: str, lang: str) -> pd.DataFrame:
    """The official facts of one town (missing ones said to be missing), its zone and plan reference."""
    row = towns[towns["code"].astype(str) == code].iloc[0]
    head, value = t("col_statistic", lang), t("col_value", lang)
    rows = [{head: catalog.label(f, lang), value: _fact_value(catalog, f, row.get(f), lang)}
            for f in TOWN_FACT_FIELDS]
    rows.append({head: t("zone", lang), value: _fact_value(catalog, "zone", row.get(f"zone_name_{lang}"), lang)})
    rows.append({head: t("plan_ref", lang), value: plan_ref_text(pick_lang(str(row.get("fyp_zone_ref")), lang), lang)})
    return pd.DataFrame(rows)


def read_indicators() -> pd.DataFrame:
    """The plan's 21 headline indicators (geodata/curation/indicators.csv), as text; empty cells stay empty."""
    return pd.read_csv(paths.CURATION_DIR / "indicators.csv", dtype=str, keep_default_na=False)


#: Columns of the indicators table in reading order: 2020 → latest → 2025 target.
INDICATOR_COLUMNS = ("no", "name_zh", "unit", "kind", "value_2020", "value_2020_ref", "latest_value", "latest_year",
                     "latest_ref", "target_2025", "plan_ref")


def indicators_table(indicators: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Indicators with labelled columns, 2020 → latest → 2025 target; a 2020 value the plan does not state is shown
    as missing; the latest value is filled only where an article (seed) gives one for the same definition. In en
    the English name, unit, kind and wording of text targets (``*_en`` columns of indicators.csv)."""
    shown = indicators[[c for c in INDICATOR_COLUMNS if c in indicators.columns]].copy()
    if lang == "en":
        for col, en in (("name_zh", "name_en"), ("unit", "unit_en"), ("target_2025", "target_2025_en"),
                        ("value_2020", "value_2020_en")):
            if en in indicators.columns:
                shown[col] = [e or z for z, e in zip(shown[col], indicators[en], strict=False)]
    shown["kind"] = [t(f"ind_kind_{k}", lang) if k else k for k in shown["kind"]]
    for col in ("value_2020", "latest_value", "target_2025"):
        shown[col] = [fmt_stated(v, lang) if v else v for v in shown[col]]
    for col in ("value_2020_ref", "latest_ref", "plan_ref"):
        shown[col] = [plan_ref_text(v, lang) if v else v for v in shown[col]]
    shown["value_2020"] = shown["value_2020"].replace("", t("missing", lang))
    return shown.rename(columns={
        "no": t("ind_no", lang), "name_zh": t("ind_name", lang), "unit": t("ind_unit", lang),
        "kind": t("ind_kind", lang), "target_2025": t("ind_target", lang), "plan_ref": t("ind_ref", lang),
        "value_2020": t("ind_2020", lang), "value_2020_ref": t("ind_2020_ref", lang),
        "latest_value": t("ind_latest", lang), "latest_year": t("ind_latest_year", lang),
        "latest_ref": t("ind_latest_ref", lang)})


def read_statistical_units() -> pd.DataFrame:
    """Statistical units without territory of their own (geodata/curation/statistical_units.csv), by code."""
    return pd.read_csv(paths.CURATION_DIR / "statistical_units.csv", dtype={"code": str}).set_index("code")


def town_statistic_table(table: pd.DataFrame, stat: str, label: str, catalog: Catalog, lang: str,
                         marks: pd.DataFrame | None = None) -> pd.DataFrame:
    """One statistic per town for the sortable table: the town's name, the value and a "≈" marker where the value
    depends on schematic geometry (``marks``, from :func:`layers.map.stats.town_statistic_marks`), indexed by its
    code. For employment the statistical unit of the development zone (no territory of its own) gets its own row
    and a district total follows, so the figures add up."""
    name_col = "name_en" if lang == "en" else "name_zh"
    shown = table[[name_col, stat]].copy()
    shown[t("approx_col", lang)] = ["≈" if marks is not None and bool(marks.loc[c, stat]) else "" for c in shown.index]
    if stat == "employment_2023":
        units = read_statistical_units()
        extra = pd.DataFrame({name_col: [f"{r[name_col]}（{r[f'note_{lang}']}）" if lang == "zh"
                                         else f"{r[name_col]} ({r[f'note_{lang}']})" for _, r in units.iterrows()],
                              stat: units[stat].astype(float).values, t("approx_col", lang): ""}, index=units.index)
        shown = pd.concat([shown, extra])
        total = pd.DataFrame({name_col: [t("district_total", lang)], stat: [shown[stat].sum()],
                              t("approx_col", lang): [""]}, index=pd.Index(["310117"]))
        shown = pd.concat([shown, total])
    shown = shown.rename(columns={name_col: catalog.label(name_col, lang), stat: label})
    shown.index.name = catalog.label("code", lang)
    return shown


def town_comparison(table: pd.DataFrame, marks: pd.DataFrame | None, codes: list[str], lang: str) -> pd.DataFrame:
    """Statistics of the given towns side by side (rows = statistics, columns = codes), as text with "≈" on the
    figures that depend on schematic geometry; missing figures said to be missing."""
    side = compare_towns(table, codes)
    out = pd.DataFrame(index=side.index, columns=side.columns, dtype=object)
    for stat in side.index:
        for code in side.columns:
            text = mark_value(side.loc[stat, code], marks is not None and bool(marks.loc[code, stat]),
                              kind=STATISTICS[stat].unit, lang=lang)
            out.loc[stat, code] = text or missing_text(lang)
    return out.rename(index=lambda s: with_unit(STATISTICS[s].label(lang), STATISTICS[s].unit, lang))


def number_styler(frame: pd.DataFrame, kinds: Mapping[str, str], lang: str) -> Any:
    """``frame`` with the given columns shown through the one number formatter (column → kind), the numbers kept
    underneath so the table still sorts by value; missing figures said to be missing."""
    formats = {c: (lambda v, k=k: fmt_number(v, k, lang)) for c, k in kinds.items() if c in frame.columns}
    return frame.style.format(formats)


def town_statistic_view(table: pd.DataFrame, stat: str, catalog: Catalog, lang: str,
                        marks: pd.DataFrame | None = None) -> Any:
    """:func:`town_statistic_table` for the page: the header carries the unit, figures formatted for their kind."""
    meta = STATISTICS[stat]
    label = with_unit(meta.label(lang), meta.unit, lang)
    return number_styler(town_statistic_table(table, stat, label, catalog, lang, marks), {label: meta.unit}, lang)


def unlocated_parks_table(parks: pd.DataFrame, catalog: Catalog, lang: str) -> pd.DataFrame:
    """Parks the plan names that were not located, in ``lang``: name, kind, industries, town, description, plan
    reference, reason and source (coded values through their labels)."""
    if parks.empty:
        return parks
    rows = []
    for rec in parks.to_dict("records"):
        name = rec.get(f"name_{lang}") or rec.get("name_zh")
        industries = [catalog.value_label("industries", v.strip(), lang)
                      for v in str(rec.get("industries") or "").split(",") if v.strip()]
        rows.append({
            catalog.label("name_zh" if lang == "zh" else "name_en", lang): name,
            catalog.label("kind", lang): catalog.value_label("kind", str(rec.get("kind", "")), lang),
            catalog.label("industries", lang): "、".join(industries) if lang == "zh" else ", ".join(industries),
            catalog.label("town_zh", lang): _town_name(rec.get("town_zh"), lang),
            t("col_description", lang): rec.get(f"description_{lang}") or missing_text(lang),
            catalog.label("plan_ref", lang): plan_ref_text(str(rec.get("plan_ref") or ""), lang),
            t("col_reason", lang): pick_lang(str(rec.get("reason") or ""), lang),
            catalog.label("source", lang): pick_lang(str(rec.get("source") or ""), lang)})
    return pd.DataFrame(rows)


def _town_name(name_zh: Any, lang: str) -> str:
    """A town's name in ``lang`` from its Chinese name (the towns layer's names); missing said so."""
    if is_missing(name_zh):
        return missing_text(lang)
    return town_name(str(name_zh), lang)


def towns_banner_text(towns: gpd.GeoDataFrame | None, lang: str) -> str | None:
    """The one-line caveat of pages that use towns: None when no town is schematic any more."""
    if towns is None or towns.empty:
        return None
    n = int((towns["accuracy"] == "schematic").sum()) if "accuracy" in towns.columns else len(towns)
    if n == 0:
        return None
    return t("towns_banner", lang) if n == len(towns) else t("towns_banner_partial", lang, n=n)


def contents_heading(contents: Mapping[str, Any], lang: str) -> str:
    """Heading of a town's contents: says "schematic boundary" only while the town's boundary is schematic."""
    if contents.get("approximate", True):
        return t("contents", lang)
    return t("contents_real", lang, accuracy=get_catalog().value_label("accuracy", contents["accuracy"], lang))


#: Columns of a town's contents tables, in order (the ≈ marker first).
CONTENT_FIELDS = {
    "stations": ("name", "lines", "status", "town_basis", "counted_here", "town_codes"),
    "lines": ("name", "mode", "status", "km"),
    "parks": ("name", "kind", "town_basis", "counted_here", "town_codes", "accuracy_m"),
}


def contents_table(contents: Mapping[str, Any], key: str, catalog: Catalog, lang: str) -> pd.DataFrame:
    """One list of a town's contents (stations, lines or parks) with labelled columns, the town basis in words, a
    "≈" marker on every row whose presence or figure depends on schematic geometry, and "≈" on lengths measured on
    a schematic cell."""
    rows = []
    for item in contents[key]:
        approx = bool(item.get("approximate"))
        row = {t("approx_col", lang): "≈" if approx else ""}
        for f in CONTENT_FIELDS[key]:
            value = item.get(f)
            if f == "name":  # one name, in the page's language (the Chinese one when there is no English)
                f = "name_zh" if lang == "zh" else "name_en"
                value = item.get(f) if lang == "zh" else (item.get("name_en") or item.get("name_zh"))
            if f == "town_basis" and value:
                value = catalog.value_label("town_basis", str(value), lang)
                if item.get("town_conflict"):
                    value += " ⚠ " + catalog.label("town_conflict", lang)
            elif f == "km" and value is not None:
                value = fmt_km(value, lang, unit=False, approx=approx)
            elif f == "accuracy_m":
                value = fmt_number(value, "m", lang)
            elif f == "counted_here":
                value = "✓" if value else ""
            elif f in ("status", "mode", "kind") and value:
                value = catalog.value_label(f, str(value), lang)
            row[catalog.label(f, lang)] = value
        rows.append(row)
    return pd.DataFrame(rows)


def town_statistic_bars(table: pd.DataFrame, stat: str, lang: str) -> pd.Series:
    """The statistic by town name, largest first, missing values left out (the bar chart: missing is not 0)."""
    name_col = "name_en" if lang == "en" else "name_zh"
    return table.set_index(name_col)[stat].dropna().sort_values(ascending=False)


def choropleth_legend(frame: pd.DataFrame, lang: str) -> Any:
    """The choropleth legend (colour, range, towns) with each colour shown as the cell's background."""
    labelled = frame.rename(columns={"colour": t("legend_colour", lang), "range": t("legend_range", lang),
                                     "towns": t("legend_towns", lang)})
    colour_col = t("legend_colour", lang)

    def swatch(column: pd.Series) -> list[str]:
        return [f"background-color: {c}; color: {c}" for c in column]

    return labelled.style.apply(swatch, subset=[colour_col])
