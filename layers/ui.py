"""The one module besides the pages that imports Streamlit: cached loaders, shared page chrome, URL-state sync."""
from __future__ import annotations

import re
from functools import partial
from typing import Any, Mapping
from urllib.parse import urlencode

import folium
import geopandas as gpd
import streamlit as st
from streamlit_folium import st_folium

from . import settings
from .assets import localize_assets
from .catalog import get_catalog
from .errors import SongjiangMapError
from .export import CRS_NAMES, FORMATS, export_download
from .filters import FILTER_KEYS, LayerFilter, filter_layers, filter_options
from .i18n import LANGS, t
from .load import load_layers
from .meeting import (MIME, PACK_FORMATS, SceneChoice, SceneText, build_scene_map, choose_scene, scene_bytes,
                      scene_file_name, scene_ids, scene_text, step_scene)
from .render import ViewToUrl, basemaps, build_map, safe_text
from .search import GazetteerEntry, build_gazetteer, search_places
from .simplify import display_copies, with_display_geometry
from .state import CENTRE_DECIMALS, MapState, state_from_params, state_to_params, view_from_params
from .stats import town_statistics
from .userlayer import read_user_layer, user_layer_summary

#: Session key holding the language chosen on any page (shared by all pages).
LANG_KEY = "lang"
#: Session key where the map page records what it drew (features shown, bounds zoomed to), for tests and captions.
MAP_SUMMARY_KEY = "map_summary"
_MD_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")

PAGES = (("app.py", "page_home"), ("pages/1_地图_Map.py", "page_map"), ("pages/2_街镇_Towns.py", "page_towns"),
         ("pages/3_规划_Plan.py", "page_plan"), ("pages/4_数据_Data.py", "page_data"),
         ("pages/5_演示_Present.py", "pres_page"))


# ----------------------------------------------------------------------------------------------------------------
# Cached loaders
# ----------------------------------------------------------------------------------------------------------------
@st.cache_data(show_spinner=False)
def cached_layers(layer_ids: tuple[str, ...]):
    """Load layers once per process, keyed by the tuple of ids (never by a GeoDataFrame)."""
    return load_layers(layer_ids)


@st.cache_data(show_spinner=False)
def cached_display_layers(layer_ids: tuple[str, ...]):
    """Drawing copies of the layers (towns simplified as a coverage; zones and district re-dissolved)."""
    layers, _ = cached_layers(layer_ids)
    return display_copies(layers)


@st.cache_data(show_spinner=False)
def cached_headline_figures(lang: str) -> list[dict[str, str]]:
    """The home page's headline figures, read once per language."""
    from .tables import headline_figures

    return headline_figures(lang)


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


def _leave_pages_directory_mode() -> None:
    """Rerun once under ``st.navigation`` when Streamlit ran a page the old way.

    While no session has run app.py yet, Streamlit treats ``pages/`` as a v1 multipage folder and runs a deep
    link (e.g. a shared ``/地图_Map?…``) directly, so the sidebar would list file names ("app") and app.py's
    navigation would never be set up. Switching the process-wide flag and rerunning runs app.py, whose
    :func:`navigation` then opens the same page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def chrome(page_key: str, *, sidebar: str = "auto") -> str:
    """Page config and the language switch in the sidebar (the page list is Streamlit's own); returns the language.

    ``sidebar`` is the sidebar's initial state ("auto", "expanded" or "collapsed").
    """
    _leave_pages_directory_mode()
    catalog = get_catalog()
    lang = current_lang()
    title = catalog.meta["title_en" if lang == "en" else "title_zh"]
    st.set_page_config(page_title=f"{t(page_key, lang)} · {title}", layout="wide", initial_sidebar_state=sidebar)
    with st.sidebar:
        st.session_state["_lang_widget"] = lang
        st.radio(t("language", lang), LANGS, key="_lang_widget", horizontal=True, on_change=_on_lang_change,
                 format_func=lambda code: {"zh": "中文", "en": "English"}[code])
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    return lang


def page_links(lang: str) -> None:
    """Links to every page but the home page (valid under :func:`navigation`, as under ``streamlit run app.py``)."""
    for path, key in PAGES:
        if path != "app.py":
            st.page_link(path, label=t(key, lang))


def page_route(path: str) -> str:
    """URL path of a page file: its name without the number prefix (``pages/1_地图_Map.py`` → ``地图_Map``)."""
    stem = path.rsplit("/", 1)[-1].removesuffix(".py")
    return stem.split("_", 1)[1] if stem.split("_", 1)[0].isdigit() else stem


def navigation(home: Any) -> None:
    """Run the multipage app: ``home`` (a callable in app.py) and the page files of :data:`PAGES`, labelled in
    the session's language (so the sidebar reads 首页 / Home rather than the entry file's name)."""
    lang = current_lang()
    pages = [st.Page(home, title=t("page_home", lang), default=True)]
    pages += [st.Page(path, title=t(key, lang), url_path=page_route(path)) for path, key in PAGES if path != "app.py"]
    st.navigation(pages).run()


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
    draw(build_map(shown, lang=lang, basemap=basemap, compact=True), key=key, height=height)


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


@st.cache_data(show_spinner=False)
def cached_option_names(layer_ids: tuple[str, ...], lang: str) -> dict[str, dict[str, str]]:
    """Filter key → {id: name} for the options named after features (zones, towns, lines), built once."""
    layers, _ = cached_layers(layer_ids)
    names: dict[str, dict[str, str]] = {}
    for key, layer_id in (("zone", "zones"), ("town", "towns"), ("rail_line", "rail_lines")):
        frame = layers.get(layer_id)
        if frame is not None:
            names[key] = dict(zip(frame["id"].astype(str), frame["name_en" if lang == "en" else "name_zh"].astype(str)))
    return names


def option_label(key: str, value: str, lang: str) -> str:
    """Human label of a filter option (coded values through the catalogue; zones, towns and lines by name)."""
    catalog = get_catalog()
    if key in ("zone", "town", "rail_line"):
        return cached_option_names(catalog.layer_ids, lang).get(key, {}).get(value, value)
    field = {"rail_status": "status", "rail_mode": "mode", "park_kind": "kind", "park_industry": "industries"}.get(key)
    return catalog.value_label(field, value, lang) if field else value


def session_map_state(state0: MapState, layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> MapState:
    """The MapState the sidebar widgets hold, read from the session *before* they are drawn.

    The Map page sends its map first (the browser starts loading Leaflet while the sidebar's widgets load):
    widget values are in ``st.session_state`` at the start of every run (set from the URL on the first one by
    :func:`initial_state`), so the state is known early. Values no longer offered are dropped here, so the widgets
    drawn later by :func:`map_controls` show exactly this state.
    """
    catalog = get_catalog()
    options = filter_options(layers)
    if st.session_state.get("w_basemap") not in basemaps():
        st.session_state["w_basemap"] = "none"
    shown = [i for i in st.session_state.get("w_layers", []) if i in catalog.layer_ids]
    st.session_state["w_layers"] = shown
    chosen: dict[str, list[str]] = {}
    for key in FILTER_KEYS:
        chosen[key] = [v for v in st.session_state.get(f"w_{key}", []) if v in options[key]]
        st.session_state[f"w_{key}"] = chosen[key]
    if st.session_state.get("w_focus") not in [""] + options["town"]:
        st.session_state["w_focus"] = ""
    # The map writes c/z into the address when the user pans (render.ViewToUrl); keep what it last wrote.
    center, zoom = view_from_params(st.query_params.to_dict())
    return MapState(lang=lang, layers=tuple(i for i in catalog.layer_ids if i in shown),
                    basemap=st.session_state["w_basemap"], filters=LayerFilter(**chosen),
                    town=st.session_state["w_focus"] or None, center=center or state0.center,
                    zoom=zoom or state0.zoom)


def map_controls(layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> None:
    """The sidebar widgets (basemap, layers, filters, focus town), bound to the session keys that
    :func:`session_map_state` read; a change reruns the page with the new value."""
    catalog = get_catalog()
    options = filter_options(layers)
    offered = basemaps()
    with st.sidebar:
        st.header(t("controls", lang))
        st.selectbox(t("basemap", lang), list(offered), key="w_basemap",
                     format_func=lambda b: offered[b].label_en if lang == "en" else offered[b].label_zh)
        st.multiselect(t("layers", lang), list(catalog.layer_ids), key="w_layers",
                       format_func=lambda i: catalog.layer(i).title(lang))
        st.subheader(t("filters", lang))
        for key in FILTER_KEYS:
            st.multiselect(t(f"f_{key}", lang), options[key], key=f"w_{key}",
                           format_func=lambda v, k=key: option_label(k, v, lang))
        st.selectbox(t("town_focus", lang), [""] + options["town"], key="w_focus",
                     format_func=lambda v: t("no_town", lang) if not v else option_label("town", v, lang))


def sync_url(state: MapState) -> dict[str, str]:
    """Write the state to the URL (only when it changed); returns the parameters."""
    params = state_to_params(state)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    return params


def share_text(params: Mapping[str, str]) -> str:
    """The relative link that restores this view."""
    return "?" + urlencode(params)


def map_view(layers: Mapping[str, gpd.GeoDataFrame], state: MapState, *, focus: GazetteerEntry | None = None,
             display: Mapping[str, gpd.GeoDataFrame] | None = None,
             user_layers: Mapping[str, gpd.GeoDataFrame] | None = None) -> tuple[folium.Map, dict[str, Any]]:
    """Filter the layers, build the map and zoom to ``focus`` (or the state's town); pure of Streamlit.

    ``display`` (from :func:`layers.simplify.display_copies`) supplies simplified geometry to draw; filters
    always run on the full geometry. Returns the map and a summary: ``features`` (per visible layer),
    ``total`` and ``bounds`` zoomed to (or None).
    """
    filtered = filter_layers(layers, state.filters)
    drawn = with_display_geometry(filtered, display) if display is not None else filtered
    fmap = build_map(drawn, lang=state.lang, basemap=state.basemap, visible=state.layers, user_layers=user_layers)
    ViewToUrl(decimals=CENTRE_DECIMALS).add_to(fmap)
    bounds = None
    if focus is not None:
        bounds = focus.folium_bounds
        south, west = bounds[0]
        north, east = bounds[1]
        if north - south < 1e-6 and east - west < 1e-6:  # a point: a small box around it
            bounds = [[south - 0.005, west - 0.005], [north + 0.005, east + 0.005]]
        folium.Rectangle(bounds, color="#e31a1c", weight=3, fill=False, dash_array="6 4",
                         tooltip=safe_text(focus.name(state.lang))).add_to(fmap)
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


USER_LAYER_KEY = "_user_layer"


def held_user_layers(lang: str) -> dict[str, gpd.GeoDataFrame]:
    """The planner's own layer from the session's upload widget (drawn later by :func:`user_layer_upload`):
    {file name: layer}, empty when none or unreadable. Parsed once per file and kept in this session only
    (never written to disk, never shared between sessions)."""
    upload = st.session_state.get("w_user_layer")
    if upload is None:
        st.session_state.pop(USER_LAYER_KEY, None)
        return {}
    crs = str(st.session_state.get("w_user_crs") or "").strip() or None
    signature = (upload.file_id, crs)
    held = st.session_state.get(USER_LAYER_KEY)
    if held is None or held[0] != signature:
        try:
            held = (signature, read_user_layer(upload, filename=upload.name, crs=crs), None)
        except SongjiangMapError as exc:
            held = (signature, None, str(exc))
        st.session_state[USER_LAYER_KEY] = held
    return {} if held[1] is None else {upload.name: held[1]}


def user_layer_upload(lang: str) -> None:
    """Sidebar upload of the planner's own layer, and what became of it (shown, or why not)."""
    with st.sidebar.expander(t("ul_title", lang)):
        st.caption(t("ul_help", lang))
        upload = st.file_uploader(t("ul_upload", lang), type=["geojson", "json", "gpkg", "zip", "kml"],
                                  key="w_user_layer")
        st.text_input(t("ul_crs", lang), key="w_user_crs", max_chars=12)
    held = st.session_state.get(USER_LAYER_KEY)
    if upload is None or held is None:
        return
    _, gdf, error = held
    if error:
        st.sidebar.error(plain(t("ul_failed", lang, message=error)))
        return
    st.sidebar.caption(plain(t("ul_loaded", lang, name=upload.name, n=len(gdf))))
    if gdf.attrs.get("dropped") or gdf.attrs.get("repaired"):
        st.sidebar.caption(t("ul_dropped", lang, n=gdf.attrs.get("dropped", 0), r=gdf.attrs.get("repaired", 0)))


def user_layer_summary_table(user_layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> None:
    """Per-town summary of each uploaded layer, with the schematic caveat."""
    layers, _ = all_layers()
    if not user_layers or "towns" not in layers:
        return
    for name, gdf in user_layers.items():
        st.subheader(f"{t('ul_summary', lang)} · {plain(name)}")
        table = user_layer_summary(gdf, layers["towns"], lang=lang).drop(columns="code")
        st.dataframe(table.rename(columns=lambda c: t(f"ul_{c}", lang)), hide_index=True)
        st.caption(t("ul_schematic", lang))


@st.cache_data(show_spinner=False, max_entries=settings.DOWNLOAD_CACHE_ENTRIES)
def cached_download(layer_ids: tuple[str, ...], fmt: str, crs: int, filter_params: tuple[tuple[str, str], ...]
                    ) -> tuple[str, bytes, str]:
    """A download, made once per (layers, format, CRS, filter) and kept in a bounded cache."""
    layers, _ = all_layers()
    flt, _ = LayerFilter.from_params(dict(filter_params))
    return export_download(layer_ids, fmt=fmt, crs=crs, flt=flt, layers=layers)


def download_panel(layer_ids: tuple[str, ...], lang: str, *, key: str, flt: LayerFilter | None = None,
                   choose_layers: bool = False) -> None:
    """Format and CRS choice, a button that makes the file, and the download button for it.

    On the Map page ``layer_ids``/``flt`` are what the map shows; on the Data page (``choose_layers``) the user
    picks layers and nothing is filtered.
    """
    catalog = get_catalog()
    flt = flt or LayerFilter()
    with st.expander(t("dl_title", lang)):
        st.caption(t("dl_help_data" if choose_layers else "dl_help_map", lang))
        if choose_layers:
            layer_ids = tuple(st.multiselect(t("dl_layers", lang), list(catalog.layer_ids),
                                             default=list(catalog.layer_ids), key=f"{key}_layers",
                                             format_func=lambda i: catalog.layer(i).title(lang)))
        fmt = st.selectbox(t("dl_format", lang), list(FORMATS), key=f"{key}_fmt",
                           format_func=lambda f: FORMATS[f].label)
        crs = st.selectbox(t("dl_crs", lang), list(FORMATS[fmt].crs), key=f"{key}_crs",
                           format_func=lambda c: f"EPSG:{c} · {CRS_NAMES[c]}")
        if len(FORMATS[fmt].crs) == 1:
            st.caption(t("dl_crs_only", lang))
        if not layer_ids:
            st.info(t("dl_nothing", lang))
            return
        signature = (layer_ids, fmt, int(crs), tuple(sorted(flt.to_params().items())))
        if st.button(t("dl_prepare", lang), key=f"{key}_go"):
            st.session_state[f"{key}_ready"] = signature
        if st.session_state.get(f"{key}_ready") != signature:
            return
        try:
            name, data, mime = cached_download(*signature)
        except SongjiangMapError as exc:
            st.error(plain(t("dl_failed", lang, message=exc)))
            return
        st.download_button(t("dl_save", lang, name=name), data=data, file_name=name, mime=mime,
                           key=f"{key}_save")


def _search_hits(layer_ids: tuple[str, ...], query: str) -> list[GazetteerEntry]:
    return search_places(cached_gazetteer(layer_ids), query) if query.strip() else []


def search_focus(layer_ids: tuple[str, ...]) -> GazetteerEntry | None:
    """The place the search box (drawn later by :func:`search_box`) currently points at, from the session."""
    hits = _search_hits(layer_ids, str(st.session_state.get("w_search") or ""))
    if not hits:
        return None
    pick = st.session_state.get("w_search_pick") or 0
    return hits[pick if isinstance(pick, int) and 0 <= pick < len(hits) else 0]


def search_box(layer_ids: tuple[str, ...], lang: str) -> None:
    """The search text input (and a choice when several places match), bound to the keys :func:`search_focus`
    reads; says when nothing matched."""
    query = st.text_input(t("search", lang), key="w_search", help=t("search_help", lang), max_chars=80)
    hits = _search_hits(layer_ids, query)
    if query.strip() and not hits:
        st.caption(t("search_none", lang))
    if len(hits) > 1:
        if not isinstance(st.session_state.get("w_search_pick"), int) or st.session_state["w_search_pick"] >= len(hits):
            st.session_state["w_search_pick"] = 0
        st.selectbox(t("search_pick", lang), range(len(hits)), key="w_search_pick",
                     format_func=lambda i: hits[i].name(lang))


# ----------------------------------------------------------------------------------------------------------------
# Present page (meeting mode): one scene at a time, the scene and town in the URL (?scene=town&town=310117107).
# Layout in pages/5_演示_Present.py; the logic (scene choice, map, files) in layers/meeting.py.
# ----------------------------------------------------------------------------------------------------------------
#: Session key of the town last shown in the close-up, so previous/next come back to it.
PRESENT_TOWN_KEY = "_present_town"


def present_style() -> None:
    """Less padding around the page, so a scene fills a projector screen (static CSS, no user text)."""
    st.markdown("<style>[data-testid='stMainBlockContainer'] {padding-top: 4rem; padding-bottom: 0.5rem;}"
                "</style>", unsafe_allow_html=True)


@st.cache_data(show_spinner=False)
def cached_town_names(lang: str) -> dict[str, str]:
    """Town code → name in ``lang``, in code order (empty when the towns layer does not load)."""
    layers, _ = cached_layers(("towns",))
    towns = layers.get("towns")
    if towns is None:
        return {}
    column = "name_en" if lang == "en" else "name_zh"
    return {str(code): str(name) for code, name in sorted(zip(towns["code"], towns[column]))}


@st.cache_data(show_spinner=False)
def cached_scene_text(scene_id: str, town: str | None, lang: str) -> SceneText:
    """Title, subtitle and note of a scene, keyed by simple values."""
    return scene_text(scene_id, town=town, lang=lang)


@st.cache_data(show_spinner=False, max_entries=60)
def cached_scene_file(scene_id: str, town: str | None, lang: str, fmt: str) -> bytes:
    """A scene as PNG, PDF or HTML bytes, made on the first download and kept for the next."""
    return scene_bytes(scene_id, town=town, lang=lang, fmt=fmt)


def _go_to(choice: SceneChoice) -> None:
    st.query_params.from_dict({"lang": st.session_state.get(LANG_KEY, "zh"), **choice.params()})


def _on_town_change() -> None:
    town = st.session_state["w_present_town"]
    st.session_state[PRESENT_TOWN_KEY] = town
    _go_to(SceneChoice(st.query_params.get("scene", "town"), town))


def present_choice(lang: str) -> SceneChoice:
    """The scene (and town) the URL asks for; ignored values are reported, never echoed; the URL is tidied."""
    choice, notices = choose_scene(st.query_params.to_dict(), town_codes=cached_town_names(lang),
                                   remembered_town=st.session_state.get(PRESENT_TOWN_KEY))
    show_notices([t(key, lang) for key in notices])
    if choice.town:
        st.session_state[PRESENT_TOWN_KEY] = choice.town
    params = {"lang": lang, **choice.params()}
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    return choice


def present_nav(choice: SceneChoice, lang: str) -> None:
    """Previous/next buttons, the scene's position, the town of a close-up and the downloads, in one row."""
    ids = scene_ids()
    remembered = st.session_state.get(PRESENT_TOWN_KEY)
    before, after = step_scene(choice, -1, town=remembered), step_scene(choice, 1, town=remembered)
    prev_col, next_col, pos_col, town_col, file_col = st.columns([1.3, 1.3, 1.2, 3, 1.6], vertical_alignment="center")
    prev_col.button(t("pres_prev", lang), key="pres_prev", disabled=before is None, on_click=_go_to,
                    args=(before or choice,), use_container_width=True)
    next_col.button(t("pres_next", lang), key="pres_next", disabled=after is None, on_click=_go_to,
                    args=(after or choice,), use_container_width=True)
    pos_col.caption(t("pres_position", lang, i=ids.index(choice.scene) + 1, n=len(ids)))
    if choice.town:
        names = cached_town_names(lang)
        st.session_state["w_present_town"] = choice.town
        town_col.selectbox(t("pres_town", lang), list(names), key="w_present_town", on_change=_on_town_change,
                           format_func=lambda code: f"{names.get(code, code)} ({code})",
                           label_visibility="collapsed")
    with file_col.popover(t("pres_download", lang), use_container_width=True):
        for fmt in PACK_FORMATS:
            st.download_button(t(f"pres_{fmt}", lang), key=f"pres_dl_{fmt}", on_click="ignore",
                               data=partial(cached_scene_file, choice.scene, choice.town, lang, fmt),
                               file_name=scene_file_name(choice.scene, choice.town, fmt), mime=MIME[fmt],
                               use_container_width=True)


def present_scene(choice: SceneChoice, lang: str) -> None:
    """Title, subtitle, the scene map (legend, scale bar, north arrow, names on it) and the note below it."""
    try:
        text = cached_scene_text(choice.scene, choice.town, lang)
        fmap = build_scene_map(choice.scene, town=choice.town, lang=lang, standalone=False)
    except SongjiangMapError as exc:
        st.error(plain(t("pres_error", lang, message=exc)))
        return
    st.title(text.title)
    st.markdown(plain(text.subtitle))
    draw(fmap, key=f"present-map-{choice.scene}-{choice.town or ''}", height=settings.PRESENT_MAP_HEIGHT)
    with st.expander(t("pres_note", lang), expanded=True):
        for line in text.note:
            st.caption(plain(line))


# ----------------------------------------------------------------------------------------------------------------
# Data page: importing town boundaries (layers/import_towns.py). Upload → dry-run report → apply / revert.
# Every text from the file reaches the page escaped (plain) or inside a table cell, never as HTML.
# ----------------------------------------------------------------------------------------------------------------
_IMPORT_REPORT_KEY = "_imp_report"
_IMPORT_FLASH_KEY = "_imp_flash"
_IMPORT_UNIT_COLUMNS = ("code", "name_zh", "status", "matched_by", "input_label", "supplied_km2", "clipped_km2",
                        "added_km2", "area_km2", "official_km2")
_IMPORT_COLUMN_KEYS = {"code": "imp_col_code", "name_zh": "imp_col_name", "status": "imp_col_status",
                       "matched_by": "imp_col_by", "input_label": "imp_col_label", "supplied_km2": "imp_col_supplied",
                       "clipped_km2": "imp_col_clipped", "added_km2": "imp_col_added", "area_km2": "imp_col_area",
                       "official_km2": "imp_col_official"}


def import_units_table(report: Any, lang: str):
    """The report's per-unit rows with labelled columns and translated status (a plain DataFrame)."""
    frame = report.units_frame()
    if frame.empty:
        return frame
    frame = frame[list(_IMPORT_UNIT_COLUMNS)].copy()
    frame["name_zh"] = frame["name_zh"] if lang == "zh" else report.units_frame()["name_en"]
    frame["status"] = [t(f"imp_{s}", lang) for s in frame["status"]]
    frame["matched_by"] = [t(f"imp_by_{b}", lang) if b else "" for b in frame["matched_by"]]
    return frame.rename(columns=lambda c: t(_IMPORT_COLUMN_KEYS[c], lang))


def _show_import_report(report: Any, lang: str) -> None:
    status = {"ready": st.success, "needs_confirmation": st.warning, "rejected": st.error}[report.status]
    status(t({"ready": "imp_ready", "needs_confirmation": "imp_confirm", "rejected": "imp_rejected"}[report.status],
             lang))
    show = {"error": st.error, "confirm": st.warning, "warning": st.warning, "info": st.info}
    for issue in report.issues:
        show[issue.severity](plain(issue.message))
    if report.units:
        st.markdown(f"**{plain(t('imp_units', lang))}**")
        st.dataframe(import_units_table(report, lang), hide_index=True)
        st.caption(plain(t("imp_check", lang, overlap=f"{report.result_overlap_m2:.1f}",
                           symdiff=f"{report.result_symdiff_m2:.1f}", outside=f"{report.outside_km2:.3f}",
                           slivers=f"{report.slivers_km2:.3f}")))
    if report.unmatched:
        st.markdown(f"**{plain(t('imp_unmatched', lang))}**")
        st.dataframe({t("imp_col_label", lang): report.unmatched}, hide_index=True)
    st.download_button(t("imp_download", lang), data=report.to_json(), file_name="import_report.json",
                       mime="application/json", key="imp_download", on_click="ignore")


def _finish_import(message: str) -> None:
    """After a change of the data: forget cached layers and the report, and show ``message`` after a rerun."""
    from .filters import _cached_options
    from .state import town_codes

    st.cache_data.clear()
    _cached_options.cache_clear()
    town_codes.cache_clear()
    st.session_state.pop(_IMPORT_REPORT_KEY, None)
    st.session_state[_IMPORT_FLASH_KEY] = message
    st.rerun()


def town_import_panel(lang: str) -> None:
    """Upload a boundary file, show its dry-run report, then apply it; or revert the current import."""
    from .import_towns import (IMPORT_ACCURACY, apply_import, import_in_app_allowed, plan_import, read_overlay,
                               read_town_file, revert_import)

    st.subheader(t("imp_title", lang))
    if not import_in_app_allowed():
        st.info(plain(t("imp_off", lang, env=settings.IMPORT_IN_APP_ENV)))
        return
    st.caption(plain(t("imp_help", lang, mb=settings.IMPORT_MAX_BYTES // 2 ** 20)))
    flash = st.session_state.pop(_IMPORT_FLASH_KEY, None)
    if flash:
        st.success(plain(flash))
    try:
        current = read_overlay()
    except SongjiangMapError as exc:
        st.error(plain(exc))
        current = []
    if current:
        first = current[0]["properties"]
        st.info(plain(t("imp_current", lang, n=len(current), file=first.get("import_file", ""),
                        date=first.get("import_date", ""))))
    else:
        st.caption(t("imp_none", lang))
    upload = st.file_uploader(t("imp_upload", lang), type=["geojson", "json", "gpkg", "zip", "kml"], key="imp_file")
    acc_col, crs_col = st.columns(2)
    catalog = get_catalog()
    accuracy = acc_col.radio(t("imp_accuracy", lang), IMPORT_ACCURACY, key="imp_accuracy", horizontal=True,
                             format_func=lambda a: catalog.value_label("accuracy", a, lang))
    crs = crs_col.text_input(t("imp_crs", lang), key="imp_crs", max_chars=20).strip()
    if upload is not None:
        stamp = (getattr(upload, "file_id", upload.name), upload.size, accuracy, crs)
        held = st.session_state.get(_IMPORT_REPORT_KEY)
        if not held or held[0] != stamp:
            try:
                with st.spinner(t("imp_title", lang)):
                    report = plan_import(read_town_file(upload, filename=upload.name, crs=crs or None),
                                         accuracy=accuracy)
                held = (stamp, report, None)
            except SongjiangMapError as exc:
                held = (stamp, None, str(exc))
            st.session_state[_IMPORT_REPORT_KEY] = held
        _stamp, report, error = held
        if error:
            st.error(plain(t("imp_failed", lang, message=error)))
        else:
            _show_import_report(report, lang)
            if not report.rejected:
                force = report.needs_confirmation and st.checkbox(t("imp_force", lang), key="imp_force")
                if st.button(t("imp_apply", lang), key="imp_apply", type="primary",
                             disabled=report.needs_confirmation and not force):
                    try:
                        apply_import(report, force=bool(force))
                    except SongjiangMapError as exc:
                        st.error(plain(t("imp_failed", lang, message=exc)))
                    else:
                        _finish_import(t("imp_applied", lang, n=len(report.imported_codes)))
    if current and st.button(t("imp_revert", lang), key="imp_revert"):
        try:
            revert_import()
        except SongjiangMapError as exc:
            st.error(plain(t("imp_failed", lang, message=exc)))
        else:
            _finish_import(t("imp_reverted", lang))
