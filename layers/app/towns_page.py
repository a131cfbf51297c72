"""The Towns page's logic: its choices (statistic, classification, detail town, the two compared) in the session
and the URL, and a click on the choropleth that selects the town clicked."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import streamlit as st
from shapely.geometry import Point

from layers.app.chrome import draw
from layers.app.map_page import VIEW_KEY
from layers.map.identify import map_labels
from layers.map.render import build_map
from layers.map.stats import SCHEMES, STATISTICS

CHOROPLETH_KEY = "towns-choropleth"
#: URL parameter → widget key, and the values each may take (checked before any widget sees them).
_PARAMS = {"stat": "w_stat", "scheme": "w_scheme", "k": "w_k", "town": "w_detail", "a": "w_cmp_a", "b": "w_cmp_b"}
_SEEDED = "_towns_seeded"
#: Session key: the Map page's focused town when this page last looked (so a new focus there is followed here).
_MAP_TOWN_SEEN = "_towns_map_town_seen"
K_RANGE = (2, 7)


def _valid(param: str, value: str, codes: Sequence[str]) -> Any:
    if param == "stat":
        return value if value in STATISTICS else None
    if param == "scheme":
        return value if value in SCHEMES else None
    if param == "k":
        return int(value) if value.isdigit() and K_RANGE[0] <= int(value) <= K_RANGE[1] else None
    return value if value in codes else None


def seed_from_url(codes: Sequence[str]) -> None:
    """On the session's first run of the page, take its choices from the URL (invalid values are ignored);
    later runs keep the session's. Widgets Streamlit dropped while another page ran are seeded again."""
    remembered = st.session_state.setdefault("_towns_choices", {})
    if not st.session_state.get(_SEEDED):
        st.session_state[_SEEDED] = True
        params = st.query_params.to_dict()
        for param, key in _PARAMS.items():
            value = params.get(param)
            parsed = _valid(param, value, codes) if isinstance(value, str) and len(value) <= 40 else None
            if parsed is not None:
                remembered[key] = parsed
    _follow_map_town(remembered, codes)
    defaults = {"w_stat": next(iter(STATISTICS)), "w_scheme": next(iter(SCHEMES)), "w_k": 5,
                "w_detail": codes[0], "w_cmp_a": codes[0], "w_cmp_b": codes[1 if len(codes) > 1 else 0]}
    for key, value in {**defaults, **remembered}.items():
        if key not in st.session_state:  # the widgets take their value from here, never from a default argument
            st.session_state[key] = value


def _follow_map_town(remembered: dict[str, Any], codes: Sequence[str]) -> None:
    """The town focused on the Map page (the one view state) becomes the detail town when it changed since this
    page last looked; a detail town chosen here stays until the Map focuses another one."""
    view = st.session_state.get(VIEW_KEY)
    town = getattr(view, "town", None)
    if town == st.session_state.get(_MAP_TOWN_SEEN):
        return
    st.session_state[_MAP_TOWN_SEEN] = town
    if town in codes:
        remembered["w_detail"] = town
        st.session_state["w_detail"] = town


def keep_offered(key: str, offered: list[str]) -> None:
    """A choice that is no longer offered (e.g. a statistic no town has a value for, from an old link) falls back
    to the first one offered."""
    if offered and st.session_state.get(key) not in offered:
        st.session_state[key] = offered[0]


def sync_url() -> None:
    """Write the page's choices into the URL (and remember them for the next visit)."""
    remembered = st.session_state.setdefault("_towns_choices", {})
    params = dict(st.query_params.to_dict())
    for param, key in _PARAMS.items():
        if key in st.session_state:
            remembered[key] = st.session_state[key]
            params[param] = str(st.session_state[key])
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)


def _on_choropleth_click() -> None:
    """A click on the choropleth: the town under it becomes the detail town."""
    value = st.session_state.get(CHOROPLETH_KEY)
    click = value.get("click") if hasattr(value, "get") else getattr(value, "click", None)
    towns = st.session_state.get("_towns_frame")
    if not isinstance(click, dict) or towns is None:
        return
    try:
        point = Point(float(click["lon"]), float(click["lat"]))
    except (KeyError, TypeError, ValueError):
        return
    hit = towns[towns.geometry.covers(point)]
    if len(hit):
        st.session_state["w_detail"] = str(hit.iloc[0]["code"])


def draw_choropleth(fmap: folium.Map, towns: gpd.GeoDataFrame, *, lang: str, height: int = 480,
                    gate_page: str | None = None) -> None:
    """The choropleth in the page; a click on a town selects it for the detail below. ``gate_page``: the map
    reports its first paint to that page's gate (:mod:`layers.app.gate`)."""
    st.session_state["_towns_frame"] = towns[["code", "geometry"]]
    draw(fmap, key=CHOROPLETH_KEY, height=height, lang=lang, layer_control=False, clickable=True,
         labels=map_labels({"towns": towns}, lang=lang), on_click_change=_on_choropleth_click,
         gate_page=gate_page)


def town_minimap(layers: Mapping[str, gpd.GeoDataFrame], code: str, *, lang: str, height: int = 300) -> None:
    """A small map of one town: its outline, its stations and parks, the lines through it."""
    towns = layers.get("towns")
    if towns is None:
        return
    hit = towns[towns["code"].astype(str) == code]
    if hit.empty:
        return
    shown = {k: v for k, v in layers.items() if k in ("towns", "rail_lines", "stations", "parks")}
    fmap = build_map(shown, lang=lang, compact=True, tools=False)
    minx, miny, maxx, maxy = hit.total_bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    draw(fmap, key=f"town-minimap-{code}", height=height, lang=lang, layer_control=False,
         labels=map_labels({"towns": hit, "stations": shown.get("stations")}, lang=lang))
