"""The one module besides the pages that imports Streamlit: cached loaders, shared page chrome, URL-state sync."""
from __future__ import annotations

import re
from typing import Any, Mapping
from urllib.parse import urlencode

import folium
import geopandas as gpd
import streamlit as st
from streamlit_folium import st_folium

from .assets import localize_assets
from .catalog import get_catalog
from .filters import FILTER_KEYS, LayerFilter, filter_layers, filter_options
from .i18n import LANGS, t
from .load import load_layers
from .render import BASEMAPS, build_map
from .search import GazetteerEntry, build_gazetteer, search_places
from .state import MapState, state_from_params, state_to_params
from .stats import town_statistics

#: Session key holding the language chosen on any page (shared by all pages).
LANG_KEY = "lang"
#: Session key where the map page records what it drew (features shown, bounds zoomed to), for tests and captions.
MAP_SUMMARY_KEY = "map_summary"
_MD_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")

PAGES = (("app.py", "page_home"), ("pages/1_地图_Map.py", "page_map"), ("pages/2_街镇_Towns.py", "page_towns"),
         ("pages/3_规划_Plan.py", "page_plan"), ("pages/4_数据_Data.py", "page_data"))


# ----------------------------------------------------------------------------------------------------------------
# Cached loaders
# ----------------------------------------------------------------------------------------------------------------
@st.cache_data(show_spinner=False)
def cached_layers(layer_ids: tuple[str, ...]):
    """Load layers once per process, keyed by the tuple of ids (never by a GeoDataFrame)."""
    return load_layers(layer_ids)


@st.cache_data(show_spinner=False)
def cached_indicators():
    """The plan's headline indicators, read once per process."""
    from .tables import read_indicators

    return read_indicators()


def all_layers() -> tuple[dict[str, gpd.GeoDataFrame], dict[str, str]]:
    """Every catalogue layer (cached) and the load errors."""
    return cached_layers(get_catalog().layer_ids)


@st.cache_data(show_spinner=False)
def cached_gazetteer(layer_ids: tuple[str, ...]) -> list[GazetteerEntry]:
    """The place index of the loaded layers."""
    layers, _ = cached_layers(layer_ids)
    return build_gazetteer(layers)


@st.cache_data(show_spinner=False)
def cached_town_statistics(layer_ids: tuple[str, ...]):
    """Per-town statistics table (None when the towns layer did not load)."""
    layers, _ = cached_layers(layer_ids)
    if "towns" not in layers:
        return None
    return town_statistics(layers)


# ----------------------------------------------------------------------------------------------------------------
# Chrome
# ----------------------------------------------------------------------------------------------------------------
def plain(text: Any) -> str:
    """Text made inert for Streamlit markdown (every markdown/HTML special character escaped)."""
    return _MD_SPECIALS.sub(r"\\\1", str(text))


def current_lang() -> str:
    """The page language: the session's choice, else ``?lang=`` from the URL, else zh."""
    if st.session_state.get(LANG_KEY) in LANGS:
        return st.session_state[LANG_KEY]
    raw = st.query_params.get("lang")
    lang = raw if raw in LANGS else "zh"
    st.session_state[LANG_KEY] = lang
    return lang


def _on_lang_change() -> None:
    st.session_state[LANG_KEY] = st.session_state["_lang_widget"]
    st.query_params["lang"] = st.session_state[LANG_KEY]


def chrome(page_key: str) -> str:
    """Page config and the language switch in the sidebar (the page list is Streamlit's own); returns the language."""
    catalog = get_catalog()
    lang = current_lang()
    title = catalog.meta["title_en" if lang == "en" else "title_zh"]
    st.set_page_config(page_title=f"{t(page_key, lang)} · {title}", layout="wide")
    with st.sidebar:
        st.session_state["_lang_widget"] = lang
        st.radio(t("language", lang), LANGS, key="_lang_widget", horizontal=True, on_change=_on_lang_change,
                 format_func=lambda code: {"zh": "中文", "en": "English"}[code])
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    return lang


def page_links(lang: str) -> None:
    """Links to every page (only valid when app.py is the entry point, as under ``streamlit run app.py``)."""
    for path, key in PAGES:
        st.page_link(path, label=t(key, lang))


def show_load_errors(errors: Mapping[str, str], lang: str = "zh") -> None:
    """Say which layers failed and why; the page goes on with the others."""
    for layer_id, message in errors.items():
        st.warning(plain(t("load_failed", lang, layer=layer_id, message=message)))


def show_notices(notices: list[str]) -> None:
    """URL notices as plain, escaped text."""
    for notice in notices:
        st.info(plain(notice))


def draw(fmap: folium.Map, *, key: str, height: int = 600, **kwargs: Any) -> None:
    """Show a folium map with a stable key, sending nothing back to the server.

    Every map passes here, so every map's Leaflet and plugin assets are served by the app itself
    (anything added after ``build_map``, such as a search highlight or a choropleth, included).
    """
    localize_assets(fmap)
    st_folium(fmap, key=key, height=height, use_container_width=True, returned_objects=[], **kwargs)


def show_map(*, lang: str = "zh", basemap: str = "none", key: str = "map", height: int = 640,
             only: tuple[str, ...] | None = None) -> None:
    """Draw the catalogue layers (``only`` these when given); load errors of any layer are reported."""
    layers, errors = all_layers()
    show_load_errors(errors, lang)
    shown = {k: v for k, v in layers.items() if only is None or k in only}
    draw(build_map(shown, lang=lang, basemap=basemap), key=key, height=height)


# ----------------------------------------------------------------------------------------------------------------
# Map page: state ↔ widgets ↔ URL
# ----------------------------------------------------------------------------------------------------------------
def initial_state() -> MapState:
    """The state from the URL on the first run of the session (notices shown once), later from the session."""
    if "_map_state0" not in st.session_state:
        state, notices = state_from_params(st.query_params.to_dict())
        st.session_state["_map_state0"] = state
        st.session_state["_map_notices"] = notices
        st.session_state["w_basemap"] = state.basemap
        st.session_state["w_layers"] = list(state.layers)
        for key in FILTER_KEYS:
            st.session_state[f"w_{key}"] = list(getattr(state.filters, key))
        st.session_state["w_focus"] = state.town or ""
    show_notices(st.session_state.get("_map_notices", []))
    return st.session_state["_map_state0"]


def option_label(key: str, value: str, layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> str:
    """Human label of a filter option (coded values through the catalogue, zones/towns by name)."""
    catalog = get_catalog()
    if key in ("zone", "town"):
        frame = layers.get("zones" if key == "zone" else "towns")
        if frame is not None:
            hit = frame[frame["id"].astype(str) == value]
            if len(hit):
                return str(hit.iloc[0]["name_en" if lang == "en" else "name_zh"])
        return value
    field = {"rail_status": "status", "rail_mode": "mode", "park_kind": "kind", "park_industry": "industries"}.get(key)
    return catalog.value_label(field, value, lang) if field else value


def map_controls(state0: MapState, layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> MapState:
    """Sidebar widgets (basemap, layers, filters, focus town) → the current MapState."""
    catalog = get_catalog()
    options = filter_options(layers)
    with st.sidebar:
        st.header(t("controls", lang))
        basemap = st.selectbox(t("basemap", lang), list(BASEMAPS), key="w_basemap",
                               format_func=lambda b: BASEMAPS[b].label_en if lang == "en" else BASEMAPS[b].label_zh)
        shown = st.multiselect(t("layers", lang), list(catalog.layer_ids), key="w_layers",
                               format_func=lambda i: catalog.layer(i).title(lang))
        st.subheader(t("filters", lang))
        chosen: dict[str, list[str]] = {}
        for key in FILTER_KEYS:
            current = [v for v in st.session_state.get(f"w_{key}", []) if v in options[key]]
            st.session_state[f"w_{key}"] = current
            chosen[key] = st.multiselect(t(f"f_{key}", lang), options[key], key=f"w_{key}",
                                         format_func=lambda v, k=key: option_label(k, v, layers, lang))
        towns = [""] + options["town"]
        if st.session_state.get("w_focus") not in towns:
            st.session_state["w_focus"] = ""
        town = st.selectbox(t("town_focus", lang), towns, key="w_focus",
                            format_func=lambda v: t("no_town", lang) if not v else option_label("town", v, layers, lang))
    return MapState(lang=lang, layers=tuple(i for i in catalog.layer_ids if i in shown), basemap=basemap,
                    filters=LayerFilter(**chosen), town=town or None, center=state0.center, zoom=state0.zoom)


def sync_url(state: MapState) -> dict[str, str]:
    """Write the state to the URL (only when it changed); returns the parameters."""
    params = state_to_params(state)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    return params


def share_text(params: Mapping[str, str]) -> str:
    """The relative link that restores this view."""
    return "?" + urlencode(params)


def map_view(layers: Mapping[str, gpd.GeoDataFrame], state: MapState, *, focus: GazetteerEntry | None = None
             ) -> tuple[folium.Map, dict[str, Any]]:
    """Filter the layers, build the map and zoom to ``focus`` (or the state's town); pure of Streamlit.

    Returns the map and a summary: ``features`` (per visible layer), ``total`` and ``bounds`` zoomed to (or None).
    """
    filtered = filter_layers(layers, state.filters)
    fmap = build_map(filtered, lang=state.lang, basemap=state.basemap, visible=state.layers)
    bounds = None
    if focus is not None:
        bounds = focus.folium_bounds
        south, west = bounds[0]
        north, east = bounds[1]
        if north - south < 1e-6 and east - west < 1e-6:  # a point: a small box around it
            bounds = [[south - 0.005, west - 0.005], [north + 0.005, east + 0.005]]
        folium.Rectangle(bounds, color="#e31a1c", weight=3, fill=False, dash_array="6 4",
                         tooltip=focus.name(state.lang)).add_to(fmap)
        fmap.fit_bounds(bounds)
    elif state.town is not None and "towns" in layers:
        towns = layers["towns"]
        hit = towns[towns["id"].astype(str) == state.town]
        if len(hit):
            minx, miny, maxx, maxy = hit.total_bounds
            bounds = [[miny, minx], [maxy, maxx]]
            folium.GeoJson(hit[["geometry"]].to_json(), style_function=lambda f: {
                "color": "#e31a1c", "weight": 3, "fillOpacity": 0}).add_to(fmap)
            fmap.fit_bounds(bounds)
    features = {k: len(v) for k, v in filtered.items() if k in state.layers}
    return fmap, {"features": features, "total": sum(features.values()), "bounds": bounds}


def view_kwargs(state: MapState, summary: Mapping[str, Any]) -> dict[str, Any]:
    """Centre and zoom for ``st_folium`` from a shared link, unless the map already zooms to a search or town."""
    if state.center and not summary["bounds"]:
        return {"center": list(state.center), "zoom": state.zoom or 13}
    return {}


def search_box(layer_ids: tuple[str, ...], lang: str) -> GazetteerEntry | None:
    """Text input → the chosen result of the project's gazetteer (None when empty or no match)."""
    query = st.text_input(t("search", lang), key="w_search", help=t("search_help", lang), max_chars=80)
    if not query.strip():
        return None
    hits = search_places(cached_gazetteer(layer_ids), query)
    if not hits:
        st.caption(t("search_none", lang))
        return None
    if len(hits) > 1:
        pick = st.selectbox(t("search_pick", lang), range(len(hits)), key="w_search_pick",
                            format_func=lambda i: hits[i].name(lang))
        return hits[pick if pick is not None and pick < len(hits) else 0]
    return hits[0]
