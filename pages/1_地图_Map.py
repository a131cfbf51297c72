"""Map page: layers, basemap, filters, place search, shareable link (layout only)."""
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
state = ui.map_controls(ui.initial_state(), layers, lang)
params = ui.sync_url(state)
mine = ui.user_layer_upload(lang)

focus = ui.search_box(catalog.layer_ids, lang)
fmap, summary = ui.map_view(layers, state, focus=focus, display=ui.cached_display_layers(catalog.layer_ids),
                            user_layers=mine)
st.session_state[ui.MAP_SUMMARY_KEY] = summary
if focus is not None:
    st.caption(ui.plain(t("search_found", lang, name=focus.name(lang))))
st.caption(t("features_shown", lang, n=summary["total"]))
ui.draw(fmap, key="explorer-map", height=620, **ui.view_kwargs(state, summary))

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
