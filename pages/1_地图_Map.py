"""Map page: layers, basemap, filters, place search, your own layer, downloads, shareable link (layout only).

The map is sent first (its state is read from the session), the widgets that set that state after it, so the
browser starts drawing while the sidebar loads.
"""
import streamlit as st

from layers import ui
from layers.catalog import get_catalog
from layers.i18n import t
from layers.load import unlocated_parks
from layers.tables import undrawn_lines_table

lang = ui.chrome("page_map")
catalog = get_catalog()
st.title(t("page_map", lang))
layers, errors = ui.all_layers()
ui.show_load_errors(errors, lang)
state = ui.session_map_state(ui.initial_state(), layers, lang)
params = ui.sync_url(state)
mine = ui.held_user_layers(lang)
focus = ui.search_focus(catalog.layer_ids)

search_slot, caption_slot = st.container(), st.container()
fmap, summary = ui.map_view(layers, state, focus=focus, display=ui.cached_display_layers(catalog.layer_ids),
                            user_layers=mine)
st.session_state[ui.MAP_SUMMARY_KEY] = summary
ui.draw(fmap, key="explorer-map", height=620, **ui.view_kwargs(state, summary))

with search_slot:
    ui.search_box(catalog.layer_ids, lang)
with caption_slot:
    if focus is not None:
        st.caption(ui.plain(t("search_found", lang, name=focus.name(lang))))
    st.caption(t("features_shown", lang, n=summary["total"]))
ui.map_controls(layers, lang)
ui.user_layer_upload(lang)

ui.user_layer_summary_table(mine, lang)
ui.download_panel(state.layers, lang, key="map-download", flt=state.filters)

st.caption(t("share", lang))
st.code(ui.share_text(params), language=None)

st.subheader(t("undrawn", lang))
undrawn = undrawn_lines_table(catalog, lang)
if len(undrawn):
    st.dataframe(undrawn, hide_index=True)
else:
    st.caption(t("none_listed", lang))

st.subheader(t("unlocated", lang))
parks = unlocated_parks()
if len(parks):
    st.dataframe(parks.rename(columns=lambda c: catalog.label(c, lang)), hide_index=True)
else:
    st.caption(t("none_listed", lang))
