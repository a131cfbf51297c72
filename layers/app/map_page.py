"""The Map page's logic: view state ↔ widgets ↔ URL, the map, search, own layer, downloads."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import geopandas as gpd
import shapely
import streamlit as st

from layers.app.cache import (
    _search_hits,
    all_layers,
    cached_display_layers,
    cached_download,
    cached_listed_download,
    cached_map_view,
    cached_option_names,
)
from layers.app.chrome import plain, refusal, show_notices, technical_details, uploader_texts, visitor_gone
from layers.app.mapview import show_map_spec
from layers.core import settings
from layers.core.catalog import get_catalog
from layers.core.errors import SongjiangMapError
from layers.core.i18n import t
from layers.core.numbers import fmt_number
from layers.core.worker import cancel_when
from layers.export.formats import FORMATS
from layers.export.tables import user_layer_download
from layers.map.basemaps import basemaps
from layers.map.filters import FILTER_KEYS, LayerFilter, filter_options
from layers.map.identify import identify
from layers.map.search import GazetteerEntry
from layers.map.state import MapState, state_from_params, state_to_params, view_from_params
from layers.map.tables import number_styler
from layers.map.userlayer import distance_to_district_km, read_user_layer_bounded, user_layer_summary
from layers.map.view import filtered_summary, map_view_spec

#: Session key where the map page records what it drew (features shown, bounds zoomed to), for tests and captions.
MAP_SUMMARY_KEY = "map_summary"


#: Session key of the one view state (layers, basemap, filters, town, centre, zoom). It is not a widget key, so
#: Streamlit keeps it when a page without the Map page's widgets runs; the widgets are seeded from it.
VIEW_KEY = "_view"
#: The in-page map's key, and session keys for the shared link's view and the last click.
MAP_KEY = "explorer-map"
_URL_VIEW_KEY = "_url_view"
_CLICK_KEY = "_map_click"
_VIEW_TOKEN_KEY = "_map_view_token"
_FILTER_AT_KEY = "_map_filter_at"
#: The filter keys the in-map filter offers while any of these layers is on the map.
_FILTER_LAYERS = {"rail_status": ("rail_lines", "stations"), "rail_mode": ("rail_lines", "stations"),
                  "rail_line": ("rail_lines", "stations"), "park_kind": ("parks",), "park_industry": ("parks",),
                  "zone": ("zones", "towns", "parks", "stations"), "town": ("towns", "parks", "stations")}


def _widget_values(state: MapState) -> dict[str, Any]:
    values: dict[str, Any] = {"w_basemap": state.basemap, "w_layers": list(state.layers),
                              "w_focus": state.town or ""}
    values.update({f"w_{key}": list(getattr(state.filters, key)) for key in FILTER_KEYS})
    return values


def initial_state() -> MapState:
    """The session's view state: from the URL on the session's first Map page run (notices shown once), then
    from the session, whichever page ran in between."""
    if VIEW_KEY not in st.session_state:
        state, notices = state_from_params(st.query_params.to_dict())
        st.session_state[VIEW_KEY] = state
        st.session_state["_map_notices"] = notices
        if state.center and state.zoom:  # a shared link: its centre and zoom win over its town's or selection's bounds
            st.session_state[_URL_VIEW_KEY] = {"center": list(state.center), "zoom": state.zoom, "town": state.town,
                                               "sel": state.selected}
    show_notices(st.session_state.get("_map_notices", []))
    state = st.session_state[VIEW_KEY]
    for key, value in _widget_values(state).items():
        if key not in st.session_state:  # dropped by Streamlit while another page ran
            st.session_state[key] = value
    return state


def _on_widget_change() -> None:
    """A sidebar widget changed: the view state follows (the centre and zoom are kept)."""
    st.session_state[VIEW_KEY] = _state_from_widgets(st.session_state[VIEW_KEY])


def _state_from_widgets(state0: MapState) -> MapState:
    catalog = get_catalog()
    chosen = {key: list(st.session_state.get(f"w_{key}", [])) for key in FILTER_KEYS}
    shown = [i for i in st.session_state.get("w_layers", []) if i in catalog.layer_ids]
    return MapState(lang=state0.lang, layers=tuple(i for i in catalog.layer_ids if i in shown),
                    basemap=st.session_state.get("w_basemap", state0.basemap), filters=LayerFilter(**chosen),
                    town=st.session_state.get("w_focus") or None, selected=state0.selected, center=state0.center,
                    zoom=state0.zoom)


def option_label(key: str, value: str, lang: str) -> str:
    """Human label of a filter option (coded values through the catalogue; zones, towns and lines by name)."""
    catalog = get_catalog()
    if key in ("zone", "town", "rail_line"):
        name = cached_option_names(catalog.layer_ids, lang).get(key, {}).get(value)
        return name or catalog.value_label(key, value, lang)
    field = {"rail_status": "status", "rail_mode": "mode", "park_kind": "kind", "park_industry": "industries"}.get(key)
    return catalog.value_label(field, value, lang) if field else value


def session_map_state(state0: MapState, layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> MapState:
    """The view state of this run, with values no longer offered dropped, read *before* the widgets are drawn.

    The Map page sends its map first; the sidebar widgets drawn later by :func:`map_controls` are seeded from
    this state (:func:`initial_state`) and write back to it when changed (:func:`_on_widget_change`).
    """
    options = filter_options(layers)
    if st.session_state.get("w_basemap") not in basemaps():
        st.session_state["w_basemap"] = "none"
    for key in FILTER_KEYS:
        st.session_state[f"w_{key}"] = [v for v in st.session_state.get(f"w_{key}", []) if v in options[key]]
    if st.session_state.get("w_focus") not in [""] + options["town"]:
        st.session_state["w_focus"] = ""
    # The in-page map writes c/z into the address when the user pans (mapview.js); keep what it last wrote.
    center, zoom = view_from_params(st.query_params.to_dict())
    state = _state_from_widgets(state0)
    state = replace(state, lang=lang, center=center or state0.center, zoom=zoom or state0.zoom)
    st.session_state[VIEW_KEY] = state
    return state


def map_controls(layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> None:
    """The sidebar widgets (basemap, layers, filters, focus town), bound to the session keys that
    :func:`session_map_state` read; a change reruns the page with the new value."""
    catalog = get_catalog()
    options = filter_options(layers)
    offered = basemaps()
    with st.sidebar:
        st.header(t("controls", lang))
        st.selectbox(t("basemap", lang), list(offered), key="w_basemap",
                     placeholder=t("choose_one", lang), on_change=_on_widget_change,
                     format_func=lambda b: offered[b].label_en if lang == "en" else offered[b].label_zh)
        st.multiselect(t("layers", lang), list(catalog.layer_ids), key="w_layers", on_change=_on_widget_change,
                       format_func=lambda i: catalog.layer(i).title(lang), placeholder=t("none_chosen", lang),
                       select_all=False)
        st.subheader(t("filters", lang))
        for key in FILTER_KEYS:
            st.multiselect(t(f"f_{key}", lang), options[key], key=f"w_{key}", on_change=_on_widget_change,
                           format_func=lambda v, k=key: option_label(k, v, lang), placeholder=t("all", lang),
                           select_all=False)
        st.selectbox(t("town_focus", lang), [""] + options["town"], key="w_focus",
                     placeholder=t("choose_one", lang), on_change=_on_widget_change,
                     format_func=lambda v: t("no_town", lang) if not v else option_label("town", v, lang))


def sync_url(state: MapState) -> dict[str, str]:
    """Write the state to the URL (only when it changed); returns the parameters."""
    params = state_to_params(state)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    return params




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
            with cancel_when(visitor_gone):
                held = (signature, read_user_layer_bounded(upload.getvalue(), filename=upload.name, crs=crs), None)
        except SongjiangMapError as exc:
            held = (signature, None, exc)  # worded at each run, in the page's language
        st.session_state[USER_LAYER_KEY] = held
    return {} if held[1] is None else {upload.name: held[1]}


def user_layer_upload(lang: str) -> None:
    """Sidebar upload of the planner's own layer, and what became of it (shown, or why not)."""
    with st.sidebar.expander(t("ul_title", lang)):
        st.caption(t("ul_help", lang))
        upload = st.file_uploader(t("ul_upload", lang, mb=settings.UPLOAD_MAX_MB),
                                  type=["geojson", "json", "gpkg", "zip", "kml"], key="w_user_layer")
        uploader_texts(lang)
        st.text_input(t("ul_crs", lang), key="w_user_crs", max_chars=12)
    held = st.session_state.get(USER_LAYER_KEY)
    if upload is None or held is None:
        return
    _, gdf, error = held
    if error:
        message, detail = refusal(error, upload.name, lang)
        st.sidebar.error(plain(t("ul_failed", lang, message=message)))
        with st.sidebar:
            technical_details(detail, lang)
        return
    st.sidebar.caption(plain(t("ul_loaded", lang, name=upload.name, n=len(gdf))))
    layers, _ = all_layers()
    if "district" in layers:
        away = distance_to_district_km(gdf, layers["district"])
        if away > 0:
            st.sidebar.warning(plain(t("ul_outside_district", lang, km=f"{away:,.0f}" if away < 1e6 else "∞")))
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
        kinds = {t(f"ul_{c}", lang): "pct" if c.endswith("_share") else {"count": "count", "length_km": "km",
                                                                        "area_km2": "km2"}.get(c, "plain")
                 for c in table.columns if c != "name"}
        st.dataframe(number_styler(table.rename(columns=lambda c: t(f"ul_{c}", lang)), kinds, lang), hide_index=True)
        st.caption(t("ul_schematic", lang))
        try:
            file_name, data, mime = user_layer_download(gdf, table, description=name)
        except SongjiangMapError as exc:
            st.caption(plain(t("dl_failed", lang, message=exc)))
            continue
        st.download_button(t("ul_download", lang), data=data, file_name=file_name, mime=mime,
                           key=f"ul-download-{name}", on_click="ignore")


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
                                             format_func=lambda i: catalog.layer(i).title(lang),
                                             placeholder=t("none_chosen", lang), select_all=False))
        fmt = st.selectbox(t("dl_format", lang), list(FORMATS), key=f"{key}_fmt", placeholder=t("choose_one", lang),
                           format_func=lambda f: t(f"fmt_{f}", lang) if f == "csv" else FORMATS[f].label)
        crs = st.selectbox(t("dl_crs", lang), list(FORMATS[fmt].crs), key=f"{key}_crs",
                           placeholder=t("choose_one", lang),
                           format_func=lambda c: f"EPSG:{c} · {t(f'crs_{c}', lang)}")
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


def _on_search(reset_pick: bool) -> None:
    """The search changed: its hit becomes the selection (a town becomes the focused town, with its profile)."""
    if reset_pick:
        st.session_state["w_search_pick"] = 0
    hit = search_focus(get_catalog().layer_ids)
    state = st.session_state[VIEW_KEY]
    if hit is None:
        state = replace(state, selected=None)
    elif hit.layer_id == "towns":
        st.session_state["w_focus"] = hit.feature_id
        state = replace(state, town=hit.feature_id, selected=None)
    else:
        state = replace(state, selected=(hit.layer_id, hit.feature_id))
    st.session_state.pop(_URL_VIEW_KEY, None)  # a new intent: the shared link's view no longer holds
    st.session_state[VIEW_KEY] = state


def clear_selection() -> None:
    """Button callback: nothing selected any more (the map keeps its view)."""
    st.session_state[VIEW_KEY] = replace(st.session_state[VIEW_KEY], selected=None)


def close_town() -> None:
    """Button callback: no focused town any more (its profile closes; the map keeps its view)."""
    st.session_state["w_focus"] = ""
    st.session_state[VIEW_KEY] = replace(st.session_state[VIEW_KEY], town=None)


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
    query = st.text_input(t("search", lang), key="w_search", help=t("search_help", lang), max_chars=80,
                          on_change=_on_search, args=(True,))
    hits = _search_hits(layer_ids, query)
    if query.strip() and not hits:
        st.caption(t("search_none", lang))
    if len(hits) > 1:
        if not isinstance(st.session_state.get("w_search_pick"), int) or st.session_state["w_search_pick"] >= len(hits):
            st.session_state["w_search_pick"] = 0
        st.selectbox(t("search_pick", lang), range(len(hits)), key="w_search_pick", on_change=_on_search,
                     args=(False,), placeholder=t("choose_one", lang), format_func=lambda i: hits[i].name(lang))


def _component_value(name: str) -> Any:
    value = st.session_state.get(MAP_KEY)
    if value is None:
        return None
    return value.get(name) if hasattr(value, "get") else getattr(value, name, None)


def _with_view(state: MapState, view: Any) -> MapState:
    """``state`` with the centre and zoom the map reported (``{"c": "lat,lon", "z": "12"}``), when valid."""
    if not isinstance(view, dict):
        return state
    center, zoom = view_from_params({"c": str(view.get("c", "")), "z": str(view.get("z", ""))})
    return replace(state, center=center or state.center, zoom=zoom or state.zoom)


def _on_map_layers() -> None:
    """The in-map layer list changed: the view state, the sidebar list, the URL, the count and the download follow."""
    value = _component_value("layers")
    if not isinstance(value, dict):
        return
    catalog = get_catalog()
    on = [i for i in catalog.layer_ids if i in set(value.get("on") or [])]
    st.session_state["w_layers"] = on
    state = st.session_state[VIEW_KEY]
    st.session_state[VIEW_KEY] = _with_view(replace(state, layers=tuple(on)), value.get("view"))


def _on_map_filters() -> None:
    """The in-map filter changed (the map has drawn it already): the view state, the sidebar lists, the URL, the
    count and the download follow. Values the data does not offer are dropped."""
    value = _component_value("filters")
    if not isinstance(value, dict) or not isinstance(value.get("values"), dict):
        return
    options = filter_options(all_layers()[0])
    chosen = {}
    for key in FILTER_KEYS:
        sent = value["values"].get(key)
        wanted = {v for v in sent if isinstance(v, str)} if isinstance(sent, list) else set()
        chosen[key] = [v for v in options[key] if v in wanted]
        st.session_state[f"w_{key}"] = chosen[key]
    st.session_state[_FILTER_AT_KEY] = value.get("at") if isinstance(value.get("at"), (int, float)) else None
    state = replace(st.session_state[VIEW_KEY], filters=LayerFilter(**chosen))
    st.session_state[VIEW_KEY] = _with_view(state, value.get("view"))


def _filter_ui(spec: Mapping[str, Any], layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> list[list[Any]]:
    """The in-map filter's groups for the layers on this map: ``[key, title, [[value, label], …]]``."""
    drawn = {entry["key"] for entry in spec["layers"]}
    options = filter_options(layers)
    return [[key, t(f"f_{key}", lang), [[v, option_label(key, v, lang)] for v in options[key]]]
            for key in FILTER_KEYS if options[key] and drawn.intersection(_FILTER_LAYERS[key])]


def _on_map_click() -> None:
    """A click on the map: remember where (the side panel lists what is there) and the view it was made in."""
    value = _component_value("click")
    if not isinstance(value, dict):
        return
    try:
        lat, lon = float(value["lat"]), float(value["lon"])
    except (KeyError, TypeError, ValueError):
        return
    st.session_state[_CLICK_KEY] = (round(lat, 6), round(lon, 6))
    state = _with_view(st.session_state[VIEW_KEY], value.get("view"))
    towns = all_layers()[0].get("towns")
    hit = towns[towns.geometry.covers(shapely.Point(lon, lat))] if towns is not None else None
    if hit is not None and len(hit):  # the town clicked is selected (its profile opens); the map stays where it is
        code = str(hit.iloc[0]["code"])
        st.session_state["w_focus"] = code
        state = replace(state, town=code)
        if state.center and state.zoom:
            st.session_state[_URL_VIEW_KEY] = {"center": list(state.center), "zoom": state.zoom, "town": code,
                                               "sel": state.selected}
    st.session_state[VIEW_KEY] = state


def _view_intent(state: MapState, summary: Mapping[str, Any], focus: GazetteerEntry | None) -> dict[str, Any]:
    """Where the map should go: a search hit, a shared link's centre/zoom, a town, or where the user left it.

    The token names the intent; the map moves only when it changes, so reruns keep the user's own view.
    """
    url_view = st.session_state.get(_URL_VIEW_KEY)
    if url_view and (url_view["town"], url_view.get("sel")) != (state.town, state.selected):
        st.session_state.pop(_URL_VIEW_KEY)  # the town or selection changed since: that intent wins from now on
        url_view = None
    if url_view:
        view = {"token": f"url:{url_view['center']}:{url_view['zoom']}", "center": url_view["center"],
                "zoom": url_view["zoom"]}
    elif focus is not None and summary["bounds"]:
        view = {"token": f"sel:{focus.layer_id}:{focus.feature_id}", "bounds": summary["bounds"]}
    elif state.town and summary["bounds"]:
        view = {"token": f"town:{state.town}", "bounds": summary["bounds"]}
    else:
        view = {"token": "default"}
    view["explicit"] = view["token"] != st.session_state.get(_VIEW_TOKEN_KEY)
    st.session_state[_VIEW_TOKEN_KEY] = view["token"]
    return view


def explorer_view(layers: Mapping[str, gpd.GeoDataFrame], state: MapState, *, focus: GazetteerEntry | None,
                  user_layers: Mapping[str, gpd.GeoDataFrame] | None = None
                  ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """The map for ``state``: spec, summary and labels (:func:`layers.map.view.map_view_spec`), from the cache
    unless the planner's own layer is on it."""
    if user_layers:
        return map_view_spec(layers, state, focus=focus, display=cached_display_layers(get_catalog().layer_ids),
                             user_layers=user_layers)
    # The spec holds every feature (the map applies the filter), so one build serves every filter set.
    spec, summary, labels = cached_map_view(replace(state, center=None, zoom=None, filters=LayerFilter()), focus)
    return spec, filtered_summary(all_layers()[0], state, summary), labels


def explorer_map(spec: dict[str, Any], labels: list[dict[str, Any]], state: MapState, summary: Mapping[str, Any], *,
                 focus: GazetteerEntry | None, lang: str, height: int = 620, gate: bool = False,
                 on_drawn: Callable[[], None] | None = None) -> None:
    """The Map page's in-page map: one layer switch and one filter (in the map, synced with the sidebar, URL, count
    and download; a filter changed in the map is drawn at once), click-identify, labels, copy-link, the view kept
    across reruns and pages."""
    catalog = get_catalog()
    on = [e["key"] for e in spec["layers"] if e["key"] in state.layers or e["key"] not in catalog.layer_ids]
    filters = {"values": {key: list(getattr(state.filters, key)) for key in FILTER_KEYS},
               "at": st.session_state.get(_FILTER_AT_KEY), "ui": _filter_ui(spec, all_layers()[0], lang)}
    show_map_spec(spec, key=MAP_KEY, height=height, lang=lang, on=on, view=_view_intent(state, summary, focus),
                  labels=labels, share=True, url_view=True, clickable=True, gate=gate, filters=filters,
                  on_layers_change=_on_map_layers, on_click_change=_on_map_click, on_drawn_change=on_drawn,
                  on_filters_change=_on_map_filters)


def identify_panel(layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> None:
    """What lies where the user last clicked: town, zone, plan elements, parks near, nearest stations."""
    st.subheader(t("id_title", lang))
    click = st.session_state.get(_CLICK_KEY)
    if click is None:
        st.caption(t("id_hint", lang))
        return
    lat, lon = click
    hits = identify(layers, lon, lat, lang=lang)
    st.caption(t("id_where", lang, lat=f"{lat:.5f}", lon=f"{lon:.5f}"))
    if not hits:
        st.caption(t("id_nothing", lang))
        return
    catalog = get_catalog()
    for hit in hits:
        title = catalog.layer(hit.layer).title(lang)
        parts = [plain(hit.name)]
        if hit.detail:
            parts.append(plain(hit.detail))
        if hit.distance_m is not None:
            parts.append(t("id_distance", lang, m=fmt_number(hit.distance_m, "m", lang)))
        mark = f" · {t('id_approx', lang)}" if hit.approximate else ""
        st.markdown(f"**{plain(title)}**: " + " · ".join(parts) + mark)


def listed_download(lang: str, *, key: str) -> None:
    """One button for the attribute tables of what the plan names but the map cannot draw (with the reasons)."""
    try:
        file_name, data, mime = cached_listed_download(lang)
    except SongjiangMapError as exc:
        st.caption(plain(t("dl_failed", lang, message=exc)))
        return
    st.download_button(t("dl_listed", lang), data=data, file_name=file_name, mime=mime, key=key, on_click="ignore")
