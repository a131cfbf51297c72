"""Map page: layers, basemap, filters, place search, shareable link (layout only)."""
import pandas as pd
import streamlit as st

from layers import ui
from layers.catalog import get_catalog
from layers.i18n import t
from layers.load import unlocated_parks

lang = ui.chrome("page_map")
catalog = get_catalog()
st.title(t("page_map", lang))
layers, errors = ui.all_layers()
ui.show_load_errors(errors, lang)
state = ui.map_controls(ui.initial_state(), layers, lang)
params = ui.sync_url(state)

focus = ui.search_box(catalog.layer_ids, lang)
fmap, summary = ui.map_view(layers, state, focus=focus)
st.session_state[ui.MAP_SUMMARY_KEY] = summary
if focus is not None:
    st.caption(ui.plain(t("search_found", lang, name=focus.name(lang))))
st.caption(t("features_shown", lang, n=summary["total"]))
view = {"center": list(state.center), "zoom": state.zoom or 13} if state.center and not summary["bounds"] else {}
ui.draw(fmap, key="explorer-map", height=620, **view)

st.caption(t("share", lang))
st.code(ui.share_text(params), language=None)

st.subheader(t("undrawn", lang))
undrawn = [dict(u) for spec in catalog.layers for u in spec.undrawn]
if undrawn:
    frame = pd.DataFrame(undrawn)
    cols = [c for c in ("line_id", f"name_{lang}", "mode", "status", "plan_ref", f"reason_{lang}") if c in frame]
    st.dataframe(frame[cols].rename(columns=lambda c: catalog.label(c, lang)), hide_index=True)
else:
    st.caption(t("none_listed", lang))

st.subheader(t("unlocated", lang))
parks = unlocated_parks()
if len(parks):
    st.dataframe(parks.rename(columns=lambda c: catalog.label(c, lang)), hide_index=True)
else:
    st.caption(t("none_listed", lang))
