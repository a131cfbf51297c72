"""Entry point (``streamlit run app.py``): the page navigation and the home page — headline figures, a small map,
page links."""
import streamlit as st

from layers.app.cache import cached_headline_figures
from layers.app.chrome import chrome, navigation, page_links, plain, show_map
from layers.core.catalog import get_catalog
from layers.core.i18n import t


def home() -> None:
    """The district at a glance."""
    lang = chrome("page_home")
    catalog = get_catalog()
    st.title(f"{catalog.meta['title_zh']} · {catalog.meta['title_en']}")
    st.caption(t("app_caption", lang))

    st.subheader(t("headline", lang))
    figures = cached_headline_figures(lang)
    for start in range(0, len(figures), 3):
        for col, fig in zip(st.columns(3), figures[start:start + 3]):
            col.metric(fig["label"], fig["value"])
            col.caption(plain(fig["source"]))

    left, right = st.columns([3, 1])
    with left:
        st.subheader(t("home_map", lang))
        show_map(lang=lang, key="home-map", height=460, only=("district", "zones", "structure"))
    with right:
        st.subheader(t("go_pages", lang))
        page_links(lang)


navigation(home)
