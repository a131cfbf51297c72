"""Plan page: the structure elements and zones explained, and the 21 headline indicators (layout only)."""
import streamlit as st

from layers.app.cache import all_layers, cached_indicators
from layers.app.chrome import chrome, show_load_errors, show_map
from layers.app.gate import hold_rest
from layers.core.catalog import get_catalog
from layers.core.datatext import pick_lang, plan_ref_text
from layers.core.i18n import t
from layers.map.tables import indicators_table

PAGE = "plan"
lang = chrome("page_plan")
catalog = get_catalog()
st.title(t("page_plan", lang))
layers, errors = all_layers()
show_load_errors(errors, lang)
left, right = st.columns([2, 3])
with left:
    show_map(lang=lang, key="plan-map", height=520, only=("district", "zones", "structure"), gate_page=PAGE)
hold_rest(PAGE)  # the session's first run stops here; the rest follows once the map is drawn
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
                st.caption(f"{t('plan_ref', lang)}: {plan_ref_text(rec.get('plan_ref', ''), lang)}")
                if rec.get("accuracy_note"):
                    st.caption(pick_lang(rec["accuracy_note"], lang))

st.header(t("indicators", lang))
st.dataframe(indicators_table(cached_indicators(), lang), hide_index=True)
st.caption(t("ind_note", lang))
