"""The one number formatter: each kind of figure with separators, its decimals and its unit; missing said so."""

import numpy as np
import pandas as pd
import pytest

from layers.core.numbers import (
    fmt_count,
    fmt_km,
    fmt_km2,
    fmt_number,
    fmt_pct,
    fmt_stated,
    fmt_yi,
    is_missing,
    with_unit,
)


def test_counts_have_thousands_separators_and_no_decimals():
    assert fmt_count(35808) == "35,808"
    assert fmt_count(35808.0) == "35,808"
    assert fmt_count(np.int64(20532), "en") == "20,532"
    assert fmt_count(7) == "7"


def test_lengths_have_two_decimals_below_100_km_and_one_above():
    assert fmt_km(2.3747, "en") == "2.37 km"
    assert fmt_km(2.3747, "zh") == "2.37 公里"
    assert fmt_km(123.456, "en") == "123.5 km"
    assert fmt_km(2.3747, "en", unit=False, approx=True) == "≈2.37"


def test_areas_carry_their_unit_in_the_page_language():
    assert fmt_km2(604.64, "zh") == "604.6 平方公里"
    assert fmt_km2(2.47, "en") == "2.47 km²"
    assert fmt_km2(6196.1775, "en") == "6,196.2 km²"


def test_percentages_and_money():
    assert fmt_pct(12.345, "zh") == "12.3%"
    assert fmt_pct("8", "en") == "8.0%"
    assert fmt_yi(1234.5, "zh") == "1,234.5 亿元"
    assert fmt_yi(12.345, "en") == "12.35 100 million yuan"


def test_density_is_a_whole_number_per_km2():
    assert fmt_number(6196.1775, "density", "zh", unit=True) == "6,196 人/平方公里"
    assert fmt_number(6196.1775, "density", "en", unit=True) == "6,196 persons/km²"


@pytest.mark.parametrize("value", [None, float("nan"), np.nan, pd.NA, "", "nan", "None"])
@pytest.mark.parametrize("kind", ["count", "km", "km2", "pct", "yi", "persons"])
def test_missing_is_said_never_none_nan_or_zero(value, kind):
    assert is_missing(value)
    assert fmt_number(value, kind, "zh") == "缺失（未找到来源）"
    assert fmt_number(value, kind, "en", unit=True) == "missing (no source found)"


def test_zero_is_a_value_not_missing():
    assert not is_missing(0)
    assert fmt_count(0) == "0"
    assert fmt_km(-0.001, "en", unit=False) == "0.00"


def test_text_that_is_not_a_number_passes_through():
    assert fmt_number("≥ 1,000", "count", "zh") == "≥ 1,000"
    assert fmt_number("1,234", "count", "zh") == "1,234"


def test_headers_carry_units_and_counts_keep_their_label():
    assert with_unit("从业人员", "persons", "zh") == "从业人员（人）"
    assert with_unit("Open rail length", "km", "en") == "Open rail length (km)"
    assert with_unit("车站数", "count", "zh") == "车站数"


def test_stated_figures_keep_their_decimals_and_gain_separators():
    assert fmt_stated("4072.65") == "4,072.65"
    assert fmt_stated("3200", "en") == "3,200"
    assert fmt_stated("6.5") == "6.5" and fmt_stated("0.024") == "0.024"
    assert fmt_stated("70/500（25）") == "70/500（25）" and fmt_stated("PM2.5：35") == "PM2.5：35"
    assert fmt_stated("", "en") == "missing (no source found)"
