"""Page tables built below Streamlit: real data, missing values said to be missing."""
import pytest

from layers.core.i18n import t
from layers.map.tables import (
    accuracy_table,
    catalogue_table,
    indicators_table,
    read_indicators,
    town_facts_table,
    undrawn_lines_table,
)


def test_undrawn_lines_table_lists_every_undrawn_line(catalog):
    table = undrawn_lines_table(catalog, "en")
    expected = sum(len(s.undrawn) for s in catalog.layers)
    assert len(table) == expected and expected >= 7
    assert "JQSJ" in set(table[catalog.label("line_id", "en")])


def test_catalogue_table_counts_features_and_leaves_failed_layers_empty(catalog, layers):
    partial = {k: v for k, v in layers.items() if k != "parks"}
    table = catalogue_table(catalog, partial, "zh").set_index(t("col_layer", "zh"))
    counts = table[t("col_features", "zh")]
    assert counts[catalog.layer("stations").title("zh")] == f"{len(layers['stations']):,}"
    assert counts[catalog.layer("parks").title("zh")] == "缺失（未找到来源）"  # failed: said so, never 0 or None


def test_accuracy_table_covers_the_vocabulary(catalog):
    assert len(accuracy_table(catalog, "en")) == 5


def test_town_facts_show_missing_population_as_missing(catalog, layers):
    table = town_facts_table(catalog, layers["towns"], "310117107", "en").set_index("Statistic")
    assert table.loc[catalog.label("population_2020", "en"), "Value"] == "missing (no source found)"
    assert table.loc[catalog.label("employment_2023", "en"), "Value"] == "84,087"
    chedun = town_facts_table(catalog, layers["towns"], "310117104", "zh").set_index("指标")
    assert chedun.loc[t("zone", "zh"), "数值"].startswith("未纳入")


def test_indicators_table_has_21_rows_and_marks_missing_2020_values():
    raw = read_indicators()
    shown = indicators_table(raw, "zh")
    assert len(shown) == 21
    missing = (raw["value_2020"] == "").sum()
    assert (shown[t("ind_2020", "zh")] == t("missing", "zh")).sum() == missing > 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_headline_figures_come_from_curation_with_plan_lines_that_hold_the_value(lang):
    from layers.core import paths
    from layers.map.tables import headline_figures

    figures = headline_figures(lang)
    assert len(figures) == 6
    plan = (paths.SHARED_DIR / "seeds" / "002_7ff42bc869d1aa1a.txt")
    if not plan.is_file():
        pytest.skip("plan text not available")
    lines = plan.read_text(encoding="utf-8").splitlines()
    import csv

    with open(paths.CURATION_DIR / "headlines.csv", encoding="utf-8") as fh:
        for row, fig in zip(csv.DictReader(fh), figures, strict=False):
            ref = row["plan_ref"].removeprefix("FYP ").replace("–", "-").split("-")
            first, last = int(ref[0]), int(ref[-1])
            cited = "".join(lines[first - 1:last])
            assert row["value"] in cited, (row["key"], cited)
            assert fig["value"].replace(",", "").startswith(row["value"]) and row["plan_ref"] in fig["source"]
            assert row["year"] in fig["label"]


@pytest.mark.parametrize("lang,name_header", [("zh", "名称"), ("en", "Name (en)")])
def test_town_statistic_table_names_its_columns_in_the_page_language(layers, catalog, lang, name_header):
    from layers.map.stats import town_statistics
    from layers.map.tables import town_statistic_table

    table = town_statistics(layers)
    shown = town_statistic_table(table, "employment_2023", "X", catalog, lang)
    # Issue 13: a "≈" marker column follows the value, and the development zone's statistical unit and the
    # district total are rows of the employment table.
    assert list(shown.columns) == [name_header, "X", "≈"] and shown.index.name == catalog.label("code", lang)
    names = shown[name_header].tolist()
    assert ("九亭镇" in names) if lang == "zh" else ("Jiuting Town" in names)


def test_choropleth_legend_paints_each_colour_and_translates_headers():
    import pandas as pd

    from layers.map.tables import choropleth_legend

    frame = pd.DataFrame([{"colour": "#d6efb3", "range": "≤ 1", "towns": 3}])
    styled = choropleth_legend(frame, "en")
    html = styled.to_html()
    assert "background-color: #d6efb3" in html and "Colour" in html and "Towns" in html


def test_town_statistic_bars_leave_missing_values_out_and_run_largest_first(layers):
    from layers.map.stats import town_statistics
    from layers.map.tables import town_statistic_bars

    table = town_statistics(layers)
    bars = town_statistic_bars(table, "employment_2023", "en")
    assert list(bars) == sorted(bars, reverse=True) and "Jiuting Town" in bars.index
    assert town_statistic_bars(table, "population_2020", "zh").empty  # no census figure by town: nothing drawn


def test_2020_values_the_plan_gives_are_filled_and_the_rest_stay_missing():
    from layers.map.tables import indicators_table, read_indicators

    ind = read_indicators().set_index("no")
    given = {"3": ("29", "FYP 103–105"), "8": ("1755", "FYP 164–166"), "9": ("29/408（5）", "FYP 174–176"),
             "10": ("4.32", "FYP 160–162"), "11": ("50.52", "FYP 162"), "12": ("PM2.5：35", "FYP 493–495"),
             "16": ("18.5", "FYP 499"), "17": ("5.95", "FYP 352–354"), "20": ("84.05", "FYP 395–397")}
    for no, (value, ref) in given.items():
        assert (ind.loc[no, "value_2020"], ind.loc[no, "value_2020_ref"]) == (value, ref), no
    assert (ind.drop(index=list(given))["value_2020"] == "").all()
    assert (ind.loc["10", "latest_value"], ind.loc["10", "latest_year"]) == ("6.79", "2023")
    shown = indicators_table(read_indicators(), "en")
    cols = list(shown.columns)
    assert cols.index("2020 value") < cols.index("Latest value") < cols.index("2025 target")
    assert (shown["2020 value"] == "missing (no source found)").sum() == 21 - len(given)
