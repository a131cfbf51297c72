"""Town statistics page: choropleth, table, bar chart, town detail, two towns side by side (layout only)."""
import streamlit as st

from layers.app.cache import all_layers, cached_town_marks, cached_town_statistics
from layers.app.chrome import chrome, show_load_errors, towns_banner
from layers.app.gate import hold_rest
from layers.app.towns_page import draw_choropleth, keep_offered, seed_from_url, sync_url, town_minimap
from layers.core.catalog import get_catalog
from layers.core.i18n import t
from layers.map.choropleth import choropleth_map, legend_frame
from layers.map.stats import SCHEMES, STATISTICS, available_statistics, town_contents
from layers.map.tables import (
    choropleth_legend,
    contents_heading,
    contents_table,
    town_comparison,
    town_facts_table,
    town_statistic_bars,
    town_statistic_view,
)

PAGE = "towns"
lang = chrome("page_towns")
catalog = get_catalog()
st.title(t("page_towns", lang))
layers, errors = all_layers()
show_load_errors(errors, lang)
towns_banner(layers, lang)
table = cached_town_statistics(catalog.layer_ids)
if table is None:
    st.error(t("no_stats", lang))
    st.stop()
name_col = "name_en" if lang == "en" else "name_zh"
town_name = dict(zip(table.index, table[name_col], strict=False))
seed_from_url(list(table.index))

c1, c2, c3 = st.columns([2, 1, 1])
offered = available_statistics(table)
keep_offered("w_stat", offered)
stat = c1.selectbox(t("statistic", lang), offered, key="w_stat",
                    placeholder=t("choose_one", lang), format_func=lambda s: STATISTICS[s].label(lang))
scheme = c2.selectbox(t("scheme", lang), list(SCHEMES), key="w_scheme",
                      placeholder=t("choose_one", lang), format_func=lambda s: t(f"scheme_{s}", lang))
k = c3.slider(t("classes", lang), 2, 7, key="w_k")
meta = STATISTICS[stat]
st.caption(t("stat_meta", lang, unit=meta.unit_label(lang), year=meta.year or t("year_unknown", lang),
             source=meta.source_text(lang)))
for absent in (s for s in STATISTICS if s not in offered):
    c1.caption(t("stat_unavailable", lang, label=STATISTICS[absent].label(lang)))
if meta.note(lang):
    (st.warning if meta.on_schematic_geometry else st.caption)(t("schematic_note", lang, note=meta.note(lang)))

left, right = st.columns([3, 2])
with left:
    fmap, rows, class_of = choropleth_map(layers["towns"], table[stat], scheme=scheme, k=k,
                                          missing_label=t("missing", lang), lang=lang, kind=meta.unit)
    draw_choropleth(fmap, layers["towns"], lang=lang, gate_page=PAGE)
    hold_rest(PAGE)  # the session's first run stops here; the rest follows once the map is drawn
    st.dataframe(choropleth_legend(legend_frame(rows, class_of, missing_label=t("missing", lang), kind=meta.unit,
                                                lang=lang), lang), hide_index=True)
with right:
    st.subheader(t("table", lang))
    st.dataframe(town_statistic_view(table, stat, catalog, lang, cached_town_marks(catalog.layer_ids)), height=360)
    st.subheader(t("chart", lang))
    st.bar_chart(town_statistic_bars(table, stat, lang), horizontal=True, sort=False)

st.header(t("detail", lang))
codes = list(table.index)
code = st.selectbox(t("choose_town", lang), codes, key="w_detail",
                    placeholder=t("choose_one", lang), format_func=lambda c: town_name[c])
d1, d2 = st.columns(2)
with d1:
    st.subheader(t("facts", lang))
    st.dataframe(town_facts_table(catalog, layers["towns"], code, lang), hide_index=True)
    town_minimap(layers, code, lang=lang)
with d2:
    contents = town_contents(layers, code)
    st.subheader(contents_heading(contents, lang))
    for key in ("stations", "lines", "parks"):
        st.markdown(f"**{t(key, lang)}**")
        if contents[key]:
            st.dataframe(contents_table(contents, key, catalog, lang), hide_index=True)
        else:
            st.caption(t("none_listed", lang))

st.header(t("compare", lang))
a_col, b_col = st.columns(2)
a = a_col.selectbox(t("town_a", lang), codes, key="w_cmp_a",
                    placeholder=t("choose_one", lang), format_func=lambda c: town_name[c])
b = b_col.selectbox(t("town_b", lang), codes, key="w_cmp_b",
                    placeholder=t("choose_one", lang), format_func=lambda c: town_name[c])
side = town_comparison(table, cached_town_marks(catalog.layer_ids), [a, b] if a != b else [a], lang)
st.dataframe(side.rename(columns=lambda c: town_name[c]))
sync_url()
