"""Journeys across pages, as a planner makes them: what was set on the Map page is still there on return."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from layers.core import paths

APP = str(paths.PROJECT_DIR / "app.py")
MAP = "pages/1_地图_Map.py"
TOWNS = "pages/2_街镇_Towns.py"


def _features(at: AppTest) -> dict[str, int]:
    return dict(at.session_state["map_summary"]["features"])


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
