"""Data sources page: the catalogue with provenance, undrawn lines, accuracy levels (layout only)."""
import streamlit as st

from layers import ui
from layers.catalog import get_catalog
from layers.i18n import t
from layers.tables import accuracy_table, catalogue_table, undrawn_lines_table

lang = ui.chrome("page_data")
catalog = get_catalog()
st.title(t("page_data", lang))
layers, errors = ui.all_layers()
ui.show_load_errors(errors, lang)

st.subheader(t("catalogue", lang))
st.dataframe(catalogue_table(catalog, layers, lang), hide_index=True)

ui.download_panel(catalog.layer_ids, lang, key="data-download", choose_layers=True)

st.subheader(t("undrawn", lang))
undrawn = undrawn_lines_table(catalog, lang)
if len(undrawn):
    st.dataframe(undrawn, hide_index=True)
else:
    st.caption(t("none_listed", lang))

st.subheader(t("accuracy_levels", lang))
st.dataframe(accuracy_table(catalog, lang), hide_index=True)

st.divider()
ui.town_import_panel(lang)
