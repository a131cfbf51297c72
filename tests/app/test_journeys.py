"""Journeys across pages, as a planner makes them: what was set on the Map page is still there on return."""
from __future__ import annotations

import io
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from layers.app.cache import cached_listed_download
from layers.core import paths
from layers.core.i18n import t
from layers.map.stats import STATISTICS

APP = str(paths.PROJECT_DIR / "app.py")
MAP = "pages/1_地图_Map.py"
TOWNS = "pages/2_街镇_Towns.py"


def _features(at: AppTest) -> dict[str, int]:
    return dict(at.session_state["map_summary"]["features"])


@pytest.mark.slow  # 7-8 page runs across three pages: seconds even on warm caches
def test_map_then_towns_then_map_keeps_layers_filters_and_town():
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page(MAP).run()
    assert not at.exception, at.exception
    at.multiselect(key="w_layers").set_value(["district", "towns", "rail_lines", "stations"]).run()
    at.multiselect(key="w_rail_mode").set_value(["tram"]).run()
    at.selectbox(key="w_focus").set_value("310117102").run()
    before = _features(at)
    assert set(before) == {"district", "towns", "rail_lines", "stations"}
    assert before["rail_lines"] >= 1

    at.switch_page(TOWNS).run()
    assert not at.exception, at.exception
    at.switch_page(MAP).run()
    assert not at.exception, at.exception

    assert at.multiselect(key="w_layers").value == ["district", "towns", "rail_lines", "stations"]
    assert at.multiselect(key="w_rail_mode").value == ["tram"]
    assert at.selectbox(key="w_focus").value == "310117102"
    assert _features(at) == before
    assert at.query_params.get("town") in (["310117102"], "310117102")


@pytest.mark.slow  # 7-8 page runs across three pages: seconds even on warm caches
def test_the_towns_page_follows_the_town_focused_on_the_map_and_keeps_its_own_choice():
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page(TOWNS).run()
    first = at.selectbox(key="w_detail").value
    target, other = [code for code in ("310117102", "310117109", "310117001") if code != first][:2]
    at.switch_page(MAP).run()
    at.selectbox(key="w_focus").set_value(target).run()
    at.switch_page(TOWNS).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="w_detail").value == target  # the planner's town, not the page's last default
    # A town chosen here stays while the Map keeps the same focus.
    at.selectbox(key="w_detail").set_value(other).run()
    at.switch_page(MAP).run()
    at.switch_page(TOWNS).run()
    assert at.selectbox(key="w_detail").value == other


def test_the_plan_page_between_two_map_visits_loses_nothing():
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page(MAP).run()
    at.multiselect(key="w_park_kind").set_value([at.multiselect(key="w_park_kind").options[0]]).run()
    chosen = at.multiselect(key="w_park_kind").value
    assert chosen
    at.switch_page("pages/3_规划_Plan.py").run()
    at.switch_page(MAP).run()
    assert at.multiselect(key="w_park_kind").value == chosen


def test_the_towns_page_choices_travel_in_the_url_and_come_back():
    at = AppTest.from_file(str(paths.PROJECT_DIR / TOWNS), default_timeout=90)
    at.query_params.update({"stat": "employment_2023", "scheme": "equal_interval", "k": "4",
                            "town": "310117102", "a": "310117105", "b": "310117107"})
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="w_stat").value == "employment_2023"
    assert at.selectbox(key="w_scheme").value == "equal_interval"
    assert at.slider(key="w_k").value == 4
    assert at.selectbox(key="w_detail").value == "310117102"
    assert (at.selectbox(key="w_cmp_a").value, at.selectbox(key="w_cmp_b").value) == ("310117105", "310117107")
    at.selectbox(key="w_detail").set_value("310117109").run()
    assert at.query_params["town"] in (["310117109"], "310117109")
    assert at.query_params["stat"] in (["employment_2023"], "employment_2023")
    assert not at.warning or all("Session State" not in w.value for w in at.warning)


def test_hostile_towns_page_parameters_fall_back_to_the_defaults():
    at = AppTest.from_file(str(paths.PROJECT_DIR / TOWNS), default_timeout=90)
    at.query_params.update({"stat": "<script>", "k": "99", "town": "../etc", "a": "x" * 500})
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="w_stat").value == next(iter(STATISTICS))  # the default, not the hostile value
    assert at.slider(key="w_k").value == 5
    assert len(at.selectbox(key="w_detail").value) == 9


def test_the_data_page_downloads_what_the_map_cannot_draw_with_the_reasons():
    at = AppTest.from_file(str(paths.PROJECT_DIR / "pages" / "4_数据_Data.py"), default_timeout=90).run()
    assert not at.exception, at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert t("dl_listed", "zh") in labels
    _, data, mime = cached_listed_download("zh")  # what that button serves
    assert mime == "application/zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        tables = {n: archive.read(n).decode("utf-8-sig") for n in archive.namelist()}
    parks = next(v for k, v in tables.items() if "unlocated_parks" in k).splitlines()
    lines = next(v for k, v in tables.items() if "undrawn_lines" in k).splitlines()
    assert "reason" in parks[0] and len(parks) >= 2
    assert "reason_zh" in lines[0] and len(lines) >= 2
