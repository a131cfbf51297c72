"""Plan page: the structure elements and zones explained, and the 21 headline indicators (layout only)."""
import pandas as pd
import streamlit as st

from layers import paths, ui
from layers.catalog import get_catalog
from layers.i18n import t

lang = ui.chrome("page_plan")
catalog = get_catalog()
st.title(t("page_plan", lang))
layers, errors = ui.all_layers()
ui.show_load_errors(errors, lang)
left, right = st.columns([2, 3])
with left:
    ui.show_map(lang=lang, key="plan-map", height=520, only=("district", "zones", "structure"))
with right:
    for layer_id, heading in (("structure", "structure"), ("zones", "zones")):
        st.subheader(t(heading, lang))
        frame = layers.get(layer_id)
        if frame is None:
            continue
        for rec in frame.to_dict("records"):
            with st.expander(str(rec.get(f"name_{lang}") or rec.get("name_zh"))):
                st.text(str(rec.get(f"description_{lang}") or ""))
                if rec.get(f"members_{lang}"):
                    st.text(f"{t('members', lang)}: {rec[f'members_{lang}']}")
                st.caption(f"{t('plan_ref', lang)}: {rec.get('plan_ref', '')}")

st.header(t("indicators", lang))
indicators = pd.read_csv(paths.CURATION_DIR / "indicators.csv", dtype=str, keep_default_na=False)
indicators["value_2020"] = indicators["value_2020"].replace("", t("missing", lang))
st.dataframe(indicators.rename(columns={
    "no": t("ind_no", lang), "name_zh": t("ind_name", lang), "unit": t("ind_unit", lang),
    "kind": t("ind_kind", lang), "target_2025": t("ind_target", lang), "plan_ref": t("ind_ref", lang),
    "value_2020": t("ind_2020", lang), "value_2020_ref": t("ind_2020_ref", lang)}), hide_index=True)
st.caption(t("ind_note", lang))
