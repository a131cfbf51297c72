"""Data sources page: the catalogue with provenance, undrawn lines, accuracy levels (layout only)."""
import pandas as pd
import streamlit as st

from layers import ui
from layers.catalog import get_catalog
from layers.i18n import t

lang = ui.chrome("page_data")
catalog = get_catalog()
st.title(t("page_data", lang))
layers, errors = ui.all_layers()
ui.show_load_errors(errors, lang)

st.subheader(t("catalogue", lang))
rows = []
for spec in catalog.layers:
    p = spec.provenance
    frame = layers.get(spec.id)
    rows.append({t("col_layer", lang): spec.title(lang), t("col_source", lang): p.source,
                 t("col_licence", lang): p.licence, t("col_accuracy", lang): catalog.value_label("accuracy", p.accuracy, lang),
                 t("col_features", lang): None if frame is None else len(frame), t("col_crs", lang): "EPSG:4326",
                 t("col_date", lang): p.date, t("col_release", lang): catalog.meta.get("release_date", ""),
                 t("col_plan_ref", lang): p.plan_ref, t("col_attribution", lang): p.attribution})
st.dataframe(pd.DataFrame(rows), hide_index=True)

st.subheader(t("undrawn", lang))
undrawn = [dict(u) for spec in catalog.layers for u in spec.undrawn]
if undrawn:
    frame = pd.DataFrame(undrawn)
    cols = [c for c in ("line_id", f"name_{lang}", "mode", "status", "plan_ref", f"reason_{lang}") if c in frame]
    st.dataframe(frame[cols].rename(columns=lambda c: catalog.label(c, lang)), hide_index=True)
else:
    st.caption(t("none_listed", lang))

st.subheader(t("accuracy_levels", lang))
levels = ("authoritative", "osm", "provider", "approximate", "schematic")
st.dataframe(pd.DataFrame({t("col_accuracy", lang): [catalog.value_label("accuracy", a, lang) for a in levels],
                           "": [t(f"acc_{a}", lang) for a in levels]}), hide_index=True)
