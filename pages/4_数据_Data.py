"""Data sources page: the catalogue with provenance, undrawn lines, accuracy levels (layout only)."""
import streamlit as st

from layers.app.cache import all_layers
from layers.app.chrome import chrome, show_load_errors
from layers.app.import_panel import town_import_panel
from layers.app.map_page import download_panel, listed_download
from layers.core.catalog import get_catalog
from layers.core.i18n import t
from layers.map.tables import accuracy_table, catalogue_table, undrawn_lines_table

lang = chrome("page_data")
catalog = get_catalog()
st.title(t("page_data", lang))
layers, errors = all_layers()
show_load_errors(errors, lang)

st.subheader(t("catalogue", lang))
st.dataframe(catalogue_table(catalog, layers, lang), hide_index=True)

download_panel(catalog.layer_ids, lang, key="data-download", choose_layers=True)

st.subheader(t("undrawn", lang))
undrawn = undrawn_lines_table(catalog, lang)
if len(undrawn):
    st.dataframe(undrawn, hide_index=True)
else:
    st.caption(t("none_listed", lang))
listed_download(lang, key="data-listed-download")

st.subheader(t("accuracy_levels", lang))
st.dataframe(accuracy_table(catalog, lang), hide_index=True)

st.divider()
town_import_panel(lang)
