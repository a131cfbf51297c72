"""The in-map filter's report reaches the view state; what the browser sends is checked like a URL parameter."""
from __future__ import annotations

import pytest

from layers.app import map_page
from layers.core.catalog import get_catalog
from layers.map.filters import LayerFilter
from layers.map.state import MapState


@pytest.fixture
def session(monkeypatch) -> dict:
    values: dict = {map_page.VIEW_KEY: MapState(layers=get_catalog().layer_ids, center=(31.0, 121.2), zoom=11)}
    monkeypatch.setattr(map_page.st, "session_state", values)
    return values


def _report(session: dict, value) -> None:
    session[map_page.MAP_KEY] = {"filters": value}
    map_page._on_map_filters()


def test_a_filter_ticked_in_the_map_becomes_the_view_state_and_the_sidebar_values(session):
    _report(session, {"values": {"rail_mode": ["tram"], "town": ["310117102"]}, "at": 1764300000000,
                      "view": {"c": "31.05,121.25", "z": "13"}})
    state = session[map_page.VIEW_KEY]
    assert state.filters == LayerFilter(rail_mode=("tram",), town=("310117102",))
    assert (state.center, state.zoom) == ((31.05, 121.25), 13)
    assert session["w_rail_mode"] == ["tram"] and session["w_town"] == ["310117102"] and session["w_zone"] == []
    assert session["_map_filter_at"] == 1764300000000


@pytest.mark.parametrize("values", [
    {"rail_mode": ["tram", "<img src=x onerror=alert(1)>", 5, None], "bogus": ["x"], "town": "310117102"},
    {"rail_mode": ["tram"], "park_kind": {"a": 1}, "zone": ["../../etc/passwd"]},
])
def test_values_the_data_does_not_offer_are_dropped(session, values):
    _report(session, {"values": values, "at": "not a number"})
    assert session[map_page.VIEW_KEY].filters == LayerFilter(rail_mode=("tram",))
    assert session["_map_filter_at"] is None


@pytest.mark.parametrize("value", [None, "rail_mode=tram", ["tram"], {"values": "tram"}, {"values": None}])
def test_a_malformed_report_changes_nothing(session, value):
    before = session[map_page.VIEW_KEY]
    _report(session, value)
    assert session[map_page.VIEW_KEY] is before
    assert "w_rail_mode" not in session
