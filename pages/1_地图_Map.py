"""Map page: layers, basemap, filters, place search, click-identify, town profile, your own layer, downloads
(layout only).

The map is sent first (its state is read from the session), the widgets that set that state after it; on the
session's first run of the page the script stops after the map and the rest follows once the map is drawn
(:mod:`layers.app.gate`). Nothing above the map changes between the two runs, so nothing jumps.
"""
import streamlit as st

from layers.app.cache import all_layers
from layers.app.chrome import chrome, plain, show_load_errors, towns_banner
from layers.app.gate import hold_rest, map_first, opener
from layers.app.map_page import (
    MAP_SUMMARY_KEY,
    clear_selection,
    close_town,
    download_panel,
    explorer_map,
    explorer_view,
    held_user_layers,
    identify_panel,
    initial_state,
    listed_download,
    map_controls,
    search_box,
    search_focus,
    session_map_state,
    sync_url,
    user_layer_summary_table,
    user_layer_upload,
)
from layers.app.profile import selection_focus, selection_panel, town_profile
from layers.core.catalog import get_catalog
from layers.core.i18n import t
from layers.core.numbers import fmt_count
from layers.map.load import unlocated_parks
from layers.map.tables import undrawn_lines_table, unlocated_parks_table

PAGE = "map"
lang = chrome("page_map")
catalog = get_catalog()
st.title(t("page_map", lang))
layers, errors = all_layers()
show_load_errors(errors, lang)
towns_banner(layers, lang)
state = session_map_state(initial_state(), layers, lang)
sync_url(state)
mine = held_user_layers(lang)
focus = selection_focus(state)

spec, summary, labels = explorer_view(layers, state, focus=focus, user_layers=mine)
st.session_state[MAP_SUMMARY_KEY] = summary
map_col, info_col = st.columns([4, 1])
with map_col:
    explorer_map(spec, labels, state, summary, focus=focus, lang=lang, gate=map_first(PAGE),
                 on_drawn=opener(PAGE))
hold_rest(PAGE)

with info_col:
    search_box(catalog.layer_ids, lang)
    found = search_focus(catalog.layer_ids)
    if found is not None:
        st.caption(plain(t("search_found", lang, name=found.name(lang))))
    st.caption(t("features_shown", lang, n=fmt_count(summary["total"], lang)))
    if focus is not None:
        selection_panel(focus, lang, on_clear=clear_selection)
    if state.town:
        town_profile(layers, state.town, lang, on_close=close_town)
    identify_panel(layers, lang)
map_controls(layers, lang)
user_layer_upload(lang)

user_layer_summary_table(mine, lang)
download_panel(state.layers, lang, key="map-download", flt=state.filters)

st.caption(t("share", lang))

st.subheader(t("undrawn", lang))
undrawn = undrawn_lines_table(catalog, lang)
if len(undrawn):
    st.dataframe(undrawn, hide_index=True)
else:
    st.caption(t("none_listed", lang))

st.subheader(t("unlocated", lang))
parks = unlocated_parks_table(unlocated_parks(), catalog, lang)
if len(parks):
    st.dataframe(parks, hide_index=True)
else:
    st.caption(t("none_listed", lang))
listed_download(lang, key="map-listed-download")
