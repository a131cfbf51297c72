"""Every word in the page's language (issue 15): each page rendered with AppTest in zh and en, every text element
scanned (titles, captions, markdown, table headers and cells, widget labels, help, placeholders and options).

zh: no Latin word outside ``ZH_LATIN_OK`` (formats, standards, licences, units, codes, cited product names);
en: no Chinese outside ``EN_CJK_OK`` (the bilingual brand, the language switch, one quoted plan name).
The map's own texts (legend, tooltips, popups, controls) are checked in tests/browser/test_browser_language.py.
"""
import pytest
from _language import leaks, page_texts  # tests/_language.py, shared with the browser test
from streamlit.testing.v1 import AppTest

from layers.core import paths

PAGES = ["app.py", "pages/1_地图_Map.py", "pages/2_街镇_Towns.py", "pages/3_规划_Plan.py", "pages/4_数据_Data.py",
         "pages/5_演示_Present.py"]


def _run(path: str, lang: str) -> AppTest:
    at = AppTest.from_file(str(paths.PROJECT_DIR / path), default_timeout=120)
    at.query_params["lang"] = lang
    return at.run()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_every_text_of_every_page_is_in_the_page_language(path, lang):
    at = _run(path, lang)
    assert not at.exception, at.exception
    texts = page_texts(at)
    assert len(texts) > 10, "the scanner saw almost nothing: has Streamlit's element tree changed?"
    found = leaks(texts, lang)
    assert not found, "\n".join(f"{kind}: {word!r} in {text!r}" for kind, word, text in found[:20])
    raw = [text for kind, text in texts if kind.startswith("table") and text in ("None", "nan", "NaN", "<NA>")]
    assert not raw, f"{len(raw)} table cells show a raw missing value"


def test_the_scanner_finds_a_leak_in_each_language():
    assert leaks([("caption", "单位：persons")], "zh") == [("caption", "persons", "单位：persons")]
    assert leaks([("table cell", "Status: 已开通")], "en") == [("table cell", "已开通", "Status: 已开通")]
    assert not leaks([("caption", "GeoJSON、EPSG:4549、T1 线、accuracy_m、#d6efb3、town_facts.csv")], "zh")


@pytest.mark.parametrize("lang,everything", [("zh", "全部"), ("en", "All")])
def test_empty_filters_say_they_mean_everything(lang, everything):
    at = _run("pages/1_地图_Map.py", lang)
    filters = [m for m in at.multiselect if (m.key or "").startswith("w_") and m.key != "w_layers"]
    assert len(filters) == 7
    assert all(m.proto.placeholder == everything for m in filters)


def test_a_statistic_no_town_has_is_not_offered_and_says_so():
    at = _run("pages/2_街镇_Towns.py", "zh")
    options = at.selectbox(key="w_stat").options
    assert "常住人口" not in options and "从业人员" in options
    assert any("常住人口（暂无数据）" in c.value for c in at.caption)


def test_figures_have_separators_and_units_on_the_towns_page():
    at = _run("pages/2_街镇_Towns.py", "zh")
    texts = page_texts(at)
    cells = [text for kind, text in texts if kind == "table cell"]
    headers = [text for kind, text in texts if kind in ("table header", "table index")]
    assert "84,087" in cells  # 九里亭's employment, not 84087
    assert any(h.endswith("（人）") for h in headers) and any(h.endswith("（平方公里）") for h in headers)
    assert not [c for c in cells if c.replace(".", "").isdigit() and "." in c and len(c.split(".")[1]) > 2]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.slow  # a page run per statistic, every table scanned (~10 s)
def test_every_statistic_reads_in_the_page_language_with_formatted_figures(lang):
    import re

    at = _run("pages/2_街镇_Towns.py", lang)
    for stat in at.selectbox(key="w_stat").options:
        at.selectbox(key="w_stat").set_value(stat).run()
        assert not at.exception, (stat, at.exception)
        texts = page_texts(at)
        assert not leaks(texts, lang), (stat, leaks(texts, lang)[:5])
        cells = [text for kind, text in texts if kind == "table cell"]
        long = [c for c in cells if re.search(r"\d\.\d{3,}", c)]
        assert not long, (stat, long[:5])  # never 4 decimals (6196.1775), never 0.000000
        assert not [c for c in cells if re.fullmatch(r"\d{5,8}(\.\d+)?", c)], stat  # 35808: no separator
