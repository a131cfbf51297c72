"""Home page of the Songjiang planning map (streamlit run app.py): headline figures, a small map, page links."""
import streamlit as st

from layers import ui
from layers.catalog import get_catalog
from layers.i18n import t

lang = ui.chrome("page_home")
catalog = get_catalog()
st.title(f"{catalog.meta['title_zh']} · {catalog.meta['title_en']}")
st.caption(t("app_caption", lang))

st.subheader(t("headline", lang))
plan = catalog.meta["plan_en" if lang == "en" else "plan_zh"]
# (label key, value, unit key, plan lines) — all from the plan text, FYP = seeds/002.
FIGURES = (("fig_revenue", "220.62", "unit_yi", "FYP 74"), ("fig_industry", "4072.65", "unit_yi", "FYP 101"),
           ("fig_gdp", "6.5", "unit_pct_yr", "FYP 906"), ("fig_rd", "5", "unit_pct", "FYP 928"),
           ("fig_forest", "19.5", "unit_pct", "FYP 960"), ("fig_hitech", "3200", "unit_firms", "FYP 924"))
for row in (FIGURES[:3], FIGURES[3:]):
    for col, (label, value, unit, ref) in zip(st.columns(3), row):
        col.metric(t(label, lang), f"{value} {t(unit, lang)}")
        col.caption(t("fig_source", lang, plan=plan, ref=ref))

left, right = st.columns([3, 1])
with left:
    st.subheader(t("home_map", lang))
    ui.show_map(lang=lang, key="home-map", height=460, only=("district", "zones", "structure"))
with right:
    st.subheader(t("go_pages", lang))
    ui.page_links(lang)
