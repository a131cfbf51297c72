"""Map first: the setting that turns the gate off, and pages run whole when it is off (AppTest has no browser)."""
import pytest
from streamlit.testing.v1 import AppTest

from layers.app.gate import gate_enabled
from layers.core import paths, settings


@pytest.mark.parametrize("value, on", [(None, True), ("", True), ("on", True), ("1", True), ("off", False),
                                       ("OFF", False), (" 0 ", False), ("false", False), ("no", False)])
def test_the_gate_is_on_unless_the_setting_says_off(value, on):
    environ = {} if value is None else {settings.MAP_GATE_ENV: value}
    assert gate_enabled(environ) is on


def test_with_the_gate_on_the_first_run_stops_after_the_map(monkeypatch):
    monkeypatch.setenv(settings.MAP_GATE_ENV, "on")
    at = AppTest.from_file(str(paths.PROJECT_DIR / "pages/1_地图_Map.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.session_state["map_summary"]["total"] > 0  # the map was built and sent…
    assert not at.text_input and not at.multiselect  # …and nothing after it: no browser reported "drawn"
    monkeypatch.setenv(settings.MAP_GATE_ENV, "off")
    at.run()
    assert at.text_input(key="w_search") and at.multiselect(key="w_layers")
