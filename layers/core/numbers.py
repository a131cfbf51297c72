"""The one number formatter: a figure of a given kind (count, persons, km, km², %, 亿元, density) as text in the
page's language, with thousands separators, a fixed number of decimals per kind and the unit in words; a missing
figure says so ("缺失（未找到来源）"), never ``None``, ``nan`` or 0."""
from __future__ import annotations

from typing import Any

import pandas as pd

from layers.core.i18n import t

#: Every kind of figure and the decimals it is shown with: (below 100, from 100 up).
KINDS: dict[str, tuple[int, int]] = {
    "count": (0, 0),
    "persons": (0, 0),
    "km": (2, 1),
    "km2": (2, 1),
    "m": (0, 0),
    "pct": (1, 1),
    "yi": (2, 1),
    "density": (0, 0),
    "plain": (2, 1),
}

#: Attribute fields that hold figures, and their kind (popups, tables and exports format them alike).
FIELD_KINDS: dict[str, str] = {
    "area_km2": "km2", "official_area_km2": "km2", "area_official_km2": "km2", "length_km": "km", "km": "km",
    "accuracy_m": "m", "ref_accuracy_m": "m", "employment_2023": "persons", "population_2020": "persons",
    "residents_committees_2022": "count", "village_committees_2022": "count", "villages_2022": "count",
}


def is_missing(value: Any) -> bool:
    """True for None, NaN, pandas' NA and empty text: a figure no source gives."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == "" or value.strip().lower() in ("nan", "none", "<na>")
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array is not one figure
        return False


def missing_text(lang: str) -> str:
    """What a missing figure reads: "缺失（未找到来源）" / "missing (no source found)"."""
    return t("num_missing", lang)


def unit_label(kind: str, lang: str) -> str:
    """The unit of ``kind`` in words ("" for a plain count)."""
    return t(f"unit_{kind}", lang) if kind in KINDS and kind not in ("count", "plain") else ""


def with_unit(label: str, kind: str, lang: str) -> str:
    """A column header with its unit: "从业人员（人）" / "Persons employed (persons)"; a count keeps its label."""
    unit = unit_label(kind, lang)
    if not unit:
        return label
    return f"{label}（{unit}）" if lang == "zh" else f"{label} ({unit})"


def fmt_number(value: Any, kind: str = "plain", lang: str = "zh", *, unit: bool = False,
               approx: bool = False) -> str:
    """``value`` as text for a ``kind`` of figure: thousands separators, the kind's decimals, "≈" in front when
    ``approx``, the unit after it when ``unit``; a missing value gives :func:`missing_text`. Text that is not a
    number (e.g. "≥ 1,000") is returned as it is."""
    if is_missing(value):
        return missing_text(lang)
    try:
        number = float(str(value).replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return str(value)
    small, large = KINDS.get(kind, KINDS["plain"])
    digits = small if abs(number) < 100 else large
    text = f"{number:,.{digits}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    if approx:
        text = "≈" + text
    if unit and unit_label(kind, lang):
        sep = "" if kind == "pct" else " "
        text = f"{text}{sep}{unit_label(kind, lang)}"
    return text


def fmt_count(value: Any, lang: str = "zh") -> str:
    """A whole count with thousands separators (35,808)."""
    return fmt_number(value, "count", lang)


def fmt_km(value: Any, lang: str = "zh", *, unit: bool = True, approx: bool = False) -> str:
    """A length in km (2.37 km, 123.4 km)."""
    return fmt_number(value, "km", lang, unit=unit, approx=approx)


def fmt_km2(value: Any, lang: str = "zh", *, unit: bool = True, approx: bool = False) -> str:
    """An area in km² (2.47 平方公里, 604.6 km²)."""
    return fmt_number(value, "km2", lang, unit=unit, approx=approx)


def fmt_pct(value: Any, lang: str = "zh") -> str:
    """A percentage, one decimal (12.5%)."""
    return fmt_number(value, "pct", lang, unit=True)


def fmt_yi(value: Any, lang: str = "zh") -> str:
    """Money in 亿元 (hundred million yuan)."""
    return fmt_number(value, "yi", lang, unit=True)


def fmt_field(field: str, value: Any, lang: str = "zh") -> str | None:
    """A figure of a known attribute field (:data:`FIELD_KINDS`) formatted for its kind, its label carrying the
    unit; None when ``field`` holds no figure (the caller shows the value as it is)."""
    kind = FIELD_KINDS.get(field)
    return None if kind is None else fmt_number(value, kind, lang)


def fmt_stated(value: Any, lang: str = "zh") -> str:
    """A figure as a source states it: its decimals kept, thousands separated ("4072.65" → "4,072.65"); text that
    is not a plain number (e.g. "70/500（25）") as it is; missing said so."""
    if is_missing(value):
        return missing_text(lang)
    text = str(value).strip()
    whole, dot, decimals = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.removeprefix("-")
    if not digits.isdigit() or (dot and not decimals.isdigit()):
        return text
    return f"{sign}{int(digits):,}{dot}{decimals}"
