"""Shareable URL state: round trips, and hostile parameters that must be dropped with a safe notice, never raise."""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import pytest

from layers.map.basemaps import BASEMAPS
from layers.map.filters import LayerFilter
from layers.map.state import (
    SELECTABLE_LAYERS,
    MapState,
    feature_ids,
    state_from_params,
    state_to_params,
    town_codes,
)

JIUTING = "310117107"
DEFAULT = MapState()


def test_town_codes_are_the_17_of_the_towns_layer(layers):
    assert town_codes() == frozenset(layers["towns"]["code"].astype(str))
    assert len(town_codes()) == 17


def test_default_state_shows_every_layer_without_basemap(catalog):
    assert DEFAULT.lang == "zh" and DEFAULT.basemap == "none" and DEFAULT.layers == catalog.layer_ids
    assert DEFAULT.town is None and DEFAULT.center is None and DEFAULT.zoom is None
    assert DEFAULT.filters == LayerFilter()


def test_params_are_compact_and_readable():
    state = MapState(lang="en", layers=("towns", "rail_lines"), basemap="none",
                     filters=LayerFilter(rail_status=("open",)), town=JIUTING, center=(31.05, 121.22), zoom=12)
    assert urlencode(state_to_params(state), safe=",") == (
        "lang=en&layers=towns,rail_lines&basemap=none&rail_status=open&town=310117107&c=31.05,121.22&z=12")


@pytest.mark.parametrize("state", [
    MapState(),
    MapState(lang="en", layers=("towns", "rail_lines"), basemap="none", filters=LayerFilter(rail_status=("open",)),
             town=JIUTING, center=(31.05, 121.22), zoom=12),
    MapState(layers=()),                                             # every layer switched off
    MapState(layers=("parks", "district"), basemap="amap", zoom=8),  # order kept as chosen
    MapState(basemap="positron", center=(31.0123456789, 121.2345678901), zoom=18),   # rounded to ~1 m
    MapState(filters=LayerFilter(rail_status=("open", "planned"), park_kind=("education",), zone=("new_town",),
                                 town=(JIUTING, "310117109"))),       # the filter's own town key travels as f_town
    MapState(lang="en", town="310117001", center=(30.9, 121.0)),
    MapState(town=JIUTING, selected=("stations", "stn-jiuting-metro"), center=(31.1, 121.3), zoom=14),
    MapState(selected=("parks", "park-lingang-sci-tech-city")),
    MapState(selected=("rail_lines", "T2"), layers=("rail_lines",)),
], ids=["default", "example", "no-layers", "order", "rounded", "filters", "town-only", "town-and-station",
        "park", "line"])
def test_round_trip_state_params_state(state):
    params = state_to_params(state)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    back, notices = state_from_params(params)
    assert back == state
    assert notices == []


def test_round_trip_through_a_real_query_string():
    state = MapState(lang="en", layers=("towns", "stations"), basemap="osm",
                     filters=LayerFilter(rail_mode=("metro", "tram")), town=JIUTING, center=(31.1, 121.3), zoom=13)
    query = urlencode(state_to_params(state))
    back, notices = state_from_params(parse_qs(query, keep_blank_values=True))  # lists, as repeated keys give
    assert back == state and notices == []


def test_filter_town_and_selected_town_do_not_collide():
    state = MapState(town=JIUTING, filters=LayerFilter(town=("310117001",)))
    params = state_to_params(state)
    assert params["town"] == JIUTING and params["f_town"] == "310117001"


def test_missing_parameters_give_the_default_view():
    assert state_from_params({}) == (DEFAULT, [])


def test_unknown_extra_parameters_are_ignored_silently():
    state, notices = state_from_params({"scene": "g60", "page": "2", "utm_source": "<x>"})
    assert state == DEFAULT and notices == []


# ---------------------------------------------------------------------------------------------------------------
# Hostile parameters: (params, field that must keep its default)
HOSTILE = [
    ({"lang": "<script>alert(1)</script>"}, "lang"),
    ({"lang": "\u202een"}, "lang"),                                       # right-to-left override
    ({"lang": "EN\u0000"}, "lang"),                                        # NUL byte
    ({"basemap": "javascript:alert(document.cookie)"}, "basemap"),
    ({"basemap": "__import__('os').system('id')"}, "basemap"),
    ({"basemap": "none" + "\u200b"}, "basemap"),                           # zero-width space
    ({"layers": "<img src=x onerror=alert(1)>"}, "layers"),
    ({"layers": "towns," * 20000}, "layers"),                             # 120 kB
    ({"layers": "TOWNS,Rail_Lines"}, "layers"),
    ({"town": "310117107' OR '1'='1"}, "town"),
    ({"town": "'; DROP TABLE towns; --"}, "town"),
    ({"town": "310117999"}, "town"),                                       # well-formed, not a town
    ({"town": "３１０１１７１０７"}, "town"),                                  # full-width digits
    ({"c": "nan,nan"}, "center"),
    ({"c": "1e309,121.2"}, "center"),
    ({"c": "inf,-inf"}, "center"),
    ({"c": "0,0"}, "center"),                                              # far from Songjiang
    ({"c": "121.22,31.05"}, "center"),                                     # lon,lat swapped
    ({"c": "31.05,121.22,99"}, "center"),
    ({"c": "31.05,1_21.22"}, "center"),                                    # float() would accept this
    ({"c": "31.05"}, "center"),
    ({"c": "٣١.٠٥,١٢١.٢٢"}, "center"),                                       # Arabic-Indic digits
    ({"z": "-3"}, "zoom"),
    ({"z": "99"}, "zoom"),
    ({"z": "12.5"}, "zoom"),
    ({"z": "1e1"}, "zoom"),
    ({"z": "NaN"}, "zoom"),
    ({"z": "0x0c"}, "zoom"),
    ({"z": 12}, "zoom"),                                                   # not a string
    ({"z": None}, "zoom"),
    ({"z": "9" * 5000}, "zoom"),
    ({"sel": "stations:<script>alert(1)</script>"}, "selected"),
    ({"sel": "stations:stn-no-such-stop"}, "selected"),                  # well-formed, not a feature
    ({"sel": "towns:310117107"}, "selected"),                             # a town travels as town=
    ({"sel": "district:district"}, "selected"),                           # not a selectable layer
    ({"sel": "../../etc/passwd:x"}, "selected"),
    ({"sel": "stn-jiuting-metro"}, "selected"),                           # no layer
    ({"sel": "stations:"}, "selected"),
    ({"sel": "Stations:stn-jiuting-metro"}, "selected"),
    ({"sel": "stations:stn-jiuting-metro\u0000"}, "selected"),
    ({"sel": "stations:" + "a" * 5000}, "selected"),
    ({"sel": ["stations:stn-jiuting-metro", "parks:<b>"]}, "selected"),   # repeated: the last one is used
]


@pytest.mark.parametrize("params, field_name", HOSTILE, ids=[f"{i:02d}-{f}" for i, (_p, f) in enumerate(HOSTILE)])
def test_hostile_value_is_dropped_with_a_safe_notice(params, field_name):
    state, notices = state_from_params(params)
    assert getattr(state, field_name) == getattr(DEFAULT, field_name)
    assert notices, "a dropped value must be reported"
    raw = next(iter(params.values()))
    for notice in notices:
        assert len(notice) < 200
        assert "<" not in notice and ">" not in notice and "javascript" not in notice
        assert "\u202e" not in notice and "\u0000" not in notice and "\u200b" not in notice
        if isinstance(raw, str) and len(raw) > 3:
            assert raw not in notice


def test_selection_ids_are_the_layers_own(layers):
    ids = feature_ids()
    assert set(ids) == set(SELECTABLE_LAYERS)
    for layer_id in SELECTABLE_LAYERS:
        assert ids[layer_id] == frozenset(layers[layer_id]["id"].astype(str))
        assert len(ids[layer_id]) > 0


def test_a_selection_round_trips_through_a_real_query_string():
    state = MapState(selected=("stations", "stn-jiuting-metro"), town=JIUTING, center=(31.1, 121.3), zoom=14)
    query = urlencode(state_to_params(state), safe=",:")
    assert "sel=stations:stn-jiuting-metro" in query
    back, notices = state_from_params(parse_qs(query, keep_blank_values=True))
    assert back == state and notices == []


def test_one_bad_value_does_not_spoil_the_others():
    state, notices = state_from_params({"lang": "en", "z": "nan", "c": "31.05,121.22", "layers": "towns,<b>",
                                        "town": "<script>", "basemap": "osm"})
    assert (state.lang, state.zoom, state.center, state.layers, state.town, state.basemap) == (
        "en", None, (31.05, 121.22), ("towns",), None, "osm")
    assert len(notices) == 3
    assert any("layers" in n for n in notices) and any(" z" in n for n in notices)


def test_repeated_keys_use_the_last_value_and_say_so():
    state, notices = state_from_params({"z": ["12", "13"], "lang": ["en"]})
    assert state.zoom == 13 and state.lang == "en"
    assert notices == ["Parameter z was given more than once; the last value is used."]


def test_repeated_hostile_keys_are_dropped():
    state, notices = state_from_params({"layers": ["towns", "<script>"], "c": ["31.05,121.22", "nan,1"]})
    assert state.layers == DEFAULT.layers and state.center is None
    assert notices and all("<" not in n for n in notices)


def test_hostile_filter_values_are_dropped_and_neutralised():
    state, notices = state_from_params({"rail_status": "open,<script>alert(1)</script>", "f_town": "x" * 3000})
    assert state.filters == LayerFilter(rail_status=("open",))
    assert notices and all("<" not in n and "x" * 100 not in n for n in notices)


def test_notices_follow_the_language():
    assert state_from_params({"z": "99"})[1] == ["参数 z 的值无效，已忽略：缩放级别应为 8–18 的整数"]
    assert state_from_params({"lang": "en", "z": "99"})[1] == [
        "Ignored parameter z: zoom must be a whole number from 8 to 18"]


def test_every_basemap_and_zoom_bound_is_accepted():
    for key in BASEMAPS:
        assert state_from_params({"basemap": key})[0].basemap == key
    assert state_from_params({"z": "8"})[0].zoom == 8 and state_from_params({"z": "18"})[0].zoom == 18
    assert state_from_params({"z": "7"})[0].zoom is None


class _BrokenMapping(dict):
    def items(self):
        raise RuntimeError("boom")


def test_a_mapping_that_cannot_be_read_gives_the_default_view():
    state, _notices = state_from_params(_BrokenMapping(z="12"))
    assert state == DEFAULT
