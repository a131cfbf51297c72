"""Every explorer page runs in zh and en (AppTest, no browser); filters, search and URL state act on the map."""

import pytest
from streamlit.testing.v1 import AppTest

from layers.core import paths
from layers.core.i18n import t

ROOT = paths.PROJECT_DIR
PAGES = {"page_home": "app.py", "page_map": "pages/1_地图_Map.py", "page_towns": "pages/2_街镇_Towns.py",
         "page_plan": "pages/3_规划_Plan.py", "page_data": "pages/4_数据_Data.py"}
MAP = PAGES["page_map"]


def run_page(path: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def summary(at: AppTest) -> dict:
    return at.session_state["map_summary"]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page_key", list(PAGES))
def test_every_page_runs_in_both_languages(page_key, lang):
    at = run_page(PAGES[page_key], lang=lang)
    assert not at.exception, at.exception
    heading = at.title[0].value
    assert "松江规划地图" in heading if page_key == "page_home" else heading == t(page_key, lang)


def test_the_language_switch_changes_the_page_language():
    at = run_page(MAP)
    assert at.title[0].value == "地图"
    at.radio(key="_lang_widget").set_value("en").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Map"
    assert at.query_params["lang"] in ("en", ["en"])


def test_a_rail_status_filter_removes_features_and_reaches_the_url(layers):
    at = run_page(MAP)
    before = summary(at)
    assert before["features"]["rail_lines"] == len(layers["rail_lines"])
    at.multiselect(key="w_rail_status").set_value(["open"]).run()
    assert not at.exception, at.exception
    after = summary(at)
    n_open = int((layers["rail_lines"]["status"] == "open").sum())
    assert 0 < n_open < len(layers["rail_lines"])
    assert after["features"]["rail_lines"] == n_open
    assert after["features"]["stations"] < before["features"]["stations"]
    assert after["total"] < before["total"]
    assert at.query_params["rail_status"] in ("open", ["open"])


def test_a_shared_link_restores_the_filter_and_layers():
    at = run_page(MAP, rail_mode="tram", layers="district,rail_lines")
    assert not at.exception, at.exception
    assert at.multiselect(key="w_rail_mode").value == ["tram"]
    assert set(summary(at)["features"]) == {"district", "rail_lines"}
    assert not at.info  # a valid link gives no notice


def test_a_hostile_town_parameter_gives_a_notice_and_no_script():
    at = run_page(MAP, town="<script>alert(1)</script>")
    assert not at.exception, at.exception
    assert at.info, "the dropped parameter should be reported"
    assert all("<script" not in n.value for n in at.info)
    assert summary(at)["bounds"] is None  # no town was focused


def test_searching_a_place_zooms_to_its_bounds():
    from layers.map.load import load_layers
    from layers.map.search import build_gazetteer, search_places

    at = run_page(MAP)
    assert summary(at)["bounds"] is None
    at.text_input(key="w_search").input("九亭").run()
    assert not at.exception, at.exception
    fresh, _ = load_layers()  # read now: the session fixture may predate a rebuild of geodata/
    expected = search_places(build_gazetteer(fresh), "九亭")[0]
    assert expected.kind == "town"
    bounds = summary(at)["bounds"]
    assert bounds is not None
    (s, w), (n, e) = bounds
    minx, miny, maxx, maxy = expected.bounds
    assert s <= miny and w <= minx and n >= maxy and e >= maxx
    assert n - s < 0.3  # zoomed in, not the whole district


def test_a_search_with_no_match_says_so_and_keeps_the_view():
    at = run_page(MAP, lang="en")
    at.text_input(key="w_search").input("zzzz-no-such-place").run()
    assert not at.exception, at.exception
    assert summary(at)["bounds"] is None
    assert any(t("search_none", "en") in c.value for c in at.caption)


def test_choropleth_marks_missing_values_and_colours_the_rest(layers):
    import json

    import numpy as np
    import pandas as pd

    from layers.map.choropleth import MISSING_COLOUR, choropleth_map, legend_frame

    codes = layers["towns"]["code"].astype(str).tolist()
    values = pd.Series(np.arange(len(codes), dtype=float), index=codes)
    values.iloc[0] = np.nan
    fmap, rows, class_of = choropleth_map(layers["towns"], values, scheme="quantiles", k=4)
    assert class_of[codes[0]] == -1
    assert sorted({c for c in class_of.values() if c >= 0}) == list(range(len(rows)))
    legend = legend_frame(rows, class_of, missing_label="缺失")
    assert legend.iloc[-1]["range"] == "缺失" and legend.iloc[-1]["colour"] == MISSING_COLOUR
    html = fmap.get_root().render()
    assert "缺失" in html or json.dumps("缺失")[1:-1] in html  # the missing town's tooltip says so
    assert MISSING_COLOUR in html


def test_the_towns_page_notes_schematic_statistics():
    at = run_page(PAGES["page_towns"])
    at.selectbox(key="w_stat").set_value("stations").run()
    assert not at.exception, at.exception
    assert any("示意" in w.value for w in at.warning)


def test_the_plan_page_lists_the_21_indicators():
    at = run_page(PAGES["page_plan"])
    table = at.dataframe[0].value
    assert len(table) == 21
    assert "森林覆盖率" in set(table[t("ind_name", "zh")])


def test_the_towns_page_marks_approximate_figures_on_every_surface():
    # Issue 13: banner with a link to the import, ≈ in the statistics and comparison tables, a marked contents
    # list and a heading that says the boundary is schematic.
    at = run_page(PAGES["page_towns"])
    at.selectbox(key="w_stat").set_value("stations").run()
    assert not at.exception, at.exception
    assert any(t("towns_banner", "zh") in c.value and "数据_Data" in c.value for c in at.caption)
    frames = [df.value for df in at.dataframe]
    stats = next(f for f in frames if "≈" in getattr(f, "columns", []) and len(f) >= 17)
    assert (stats["≈"] == "≈").any() and (stats["≈"] == "").any()
    assert any(t("contents", "zh") == h.value for h in at.subheader)
    assert any(f.astype(str).apply(lambda c: c.str.startswith("≈")).any().any() for f in frames
               if hasattr(f, "astype") and len(f) and not hasattr(f, "data"))
    at.selectbox(key="w_detail").set_value("310117102").run()  # 泗泾: stated stations, no ≈ on them
    stations = next(df.value for df in at.dataframe if "名称" in getattr(df.value, "columns", [])
                    and "佘山" in set(df.value["名称"]))
    assert set(stations["≈"]) == {""}
    assert set(stations["名称"]) == {"佘山", "泗泾"}


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_a_search_selects_the_feature_and_a_town_opens_its_profile(layers):
    from layers.map.search import build_gazetteer, search_places

    gazetteer = build_gazetteer(layers)
    station = next(r for r in layers["stations"].to_dict("records")
                   if [h.feature_id for h in search_places(gazetteer, r["name_zh"])] == [r["id"]])
    at = run_page(MAP)
    at.text_input(key="w_search").input(station["name_zh"]).run()
    assert not at.exception, at.exception
    assert at.query_params["sel"] == f"stations:{station['id']}"
    assert "已选中" in _markdown(at) and "街镇档案" not in _markdown(at)
    (s, w), (n, e) = summary(at)["bounds"]
    assert s <= station["geometry"].y <= n and w <= station["geometry"].x <= e

    at.text_input(key="w_search").input("泗泾镇").run()  # a town: it is focused, and its profile opens
    assert not at.exception, at.exception
    assert at.query_params["town"] == "310117102" and "sel" not in at.query_params
    text = _markdown(at)
    assert "街镇档案：泗泾镇" in text
    assert "产城融合" in text  # its zone, as the plan states it
    assert "≈" in text  # its contents are counted on a schematic boundary, and say so

    at.button(key="tp_close").click().run()
    assert "town" not in at.query_params and "街镇档案" not in _markdown(at)


def test_a_shared_selection_is_restored_and_a_hostile_one_is_refused(layers):
    park = layers["parks"].iloc[0]
    at = run_page(MAP, sel=f"parks:{park['id']}")
    assert not at.exception, at.exception
    assert at.query_params["sel"] == f"parks:{park['id']}"
    (s, w), (n, e) = summary(at)["bounds"]
    assert s <= park.geometry.centroid.y <= n and w <= park.geometry.centroid.x <= e
    bad = run_page(MAP, sel="parks:<script>alert(1)</script>")
    assert not bad.exception, bad.exception
    assert "sel" not in bad.query_params and summary(bad)["bounds"] is None
    assert any(" sel" in n.value for n in bad.info) and all("<script" not in n.value for n in bad.info)
