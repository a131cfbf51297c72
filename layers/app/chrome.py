"""Shared page chrome: language, navigation, page links, the map drawn in a page, load errors."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import folium
import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from layers.app.cache import all_layers, cached_catalogue_spec, refresh_if_data_changed
from layers.app.gate import map_first, open_gate, opener
from layers.app.mapview import show_map_spec
from layers.app.routes import PAGES, page_route
from layers.core import settings
from layers.core.catalog import get_catalog
from layers.core.errors import MapSpecError, SongjiangMapError
from layers.core.i18n import LANGS, error_text, t
from layers.map.assets import localize_assets
from layers.map.spec import map_spec
from layers.map.tables import towns_banner_text

#: Session key holding the language chosen on any page (shared by all pages).
LANG_KEY = "lang"
#: Markdown and HTML specials, plus ':', '/', '@' and '=' so that no autolink (www.…, https://…, a@b.c) forms.
_MD_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:/@=])")


def plain(text: Any) -> str:
    """Text made inert for Streamlit markdown (every markdown/HTML special character escaped)."""
    return _MD_SPECIALS.sub(r"\\\1", str(text))


def technical_details(detail: str, lang: str) -> None:
    """A lower layer's own words (GDAL, PROJ, Python; English) folded under the message that explains them."""
    if detail:
        with st.expander(t("upl_details", lang)):
            st.code(detail, language=None, wrap_lines=True)


def refusal(exc: SongjiangMapError, file_name: str, lang: str) -> tuple[str, str]:
    """Why a file was refused, in ``lang`` (the dictionary's wording of the failure's kind), and the technical
    detail to fold under it ("" when the wording says it all). An error of no known kind is said in general
    terms in zh, its own (English) message becoming the detail; in en that message is said as it is."""
    if getattr(exc, "key", None):
        text = error_text(exc, lang)
        return text, "" if text == str(exc) else str(exc)
    if lang == "en":
        return str(exc), ""
    return t("upl_other", lang, file=file_name), str(exc)


def host_allowed(host: str | None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether a request's ``Host`` header names this server: the machine itself, or a name listed in
    ``settings.ALLOWED_HOSTS_ENV`` ("*" allows any). No header (not HTTP, e.g. AppTest) passes."""
    if not host:
        return True
    env = os.environ if environ is None else environ
    name = host.strip().lower()
    name = name[1:].split("]")[0] if name.startswith("[") else name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    listed = {h.strip().lower() for h in env.get(settings.ALLOWED_HOSTS_ENV, "").split(",") if h.strip()}
    return "*" in listed or name in listed or name in settings.LOCAL_HOSTS


def visitor_gone() -> bool:
    """True once the session running this script has ended (its page was closed or left): the signal that stops
    an upload's worker (:func:`layers.core.worker.cancel_when`) instead of letting it run to its time limit."""
    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return False
    return not runtime.get_instance().is_active_session(ctx.session_id)


def _refuse_foreign_host(lang: str) -> None:
    """Stop the page for a Host this server does not answer to (DNS rebinding through a visitor's browser)."""
    try:
        host = st.context.headers.get("Host")
    except (AttributeError, RuntimeError):  # no request context (tests, bare mode)
        host = None
    if not host_allowed(host):
        st.error(plain(t("err_host", lang, host=str(host)[:80])))
        st.stop()


def current_lang() -> str:
    """The page language: the session's choice, else ``?lang=`` from the URL, else zh."""
    if st.session_state.get(LANG_KEY) in LANGS:
        return st.session_state[LANG_KEY]
    raw = st.query_params.get("lang")
    lang = raw if raw in LANGS else "zh"
    st.session_state[LANG_KEY] = lang
    return lang


def _on_lang_change() -> None:
    st.session_state[LANG_KEY] = st.session_state["_lang_widget"]
    st.query_params["lang"] = st.session_state[LANG_KEY]


def _leave_pages_directory_mode() -> None:
    """Rerun once under ``st.navigation`` when Streamlit ran a page the old way.

    While no session has run app.py yet, Streamlit treats ``pages/`` as a v1 multipage folder and runs a deep
    link (e.g. a shared ``/地图_Map?…``) directly, so the sidebar would list file names ("app") and app.py's
    navigation would never be set up. Switching the process-wide flag and rerunning runs app.py, whose
    :func:`navigation` then opens the same page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def chrome(page_key: str, *, sidebar: str = "auto") -> str:
    """Page config and the language switch in the sidebar (the page list is Streamlit's own); returns the language.

    ``sidebar`` is the sidebar's initial state ("auto", "expanded" or "collapsed").
    """
    _leave_pages_directory_mode()
    catalog = get_catalog()
    lang = current_lang()
    title = catalog.meta["title_en" if lang == "en" else "title_zh"]
    st.set_page_config(page_title=f"{t(page_key, lang)} · {title}", layout="wide", initial_sidebar_state=sidebar)
    _refuse_foreign_host(lang)
    with st.sidebar:
        st.session_state["_lang_widget"] = lang
        st.radio(t("language", lang), LANGS, key="_lang_widget", horizontal=True, on_change=_on_lang_change,
                 format_func=lambda code: {"zh": "中文", "en": "English"}[code])
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    problem = refresh_if_data_changed()
    if problem:
        st.error(plain(t("err_data", lang, message=error_text(problem, lang))))
    return lang


def page_links(lang: str) -> None:
    """Links to every page but the home page (valid under :func:`navigation`, as under ``streamlit run app.py``)."""
    for path, key in PAGES:
        if path != "app.py":
            st.page_link(path, label=t(key, lang))


def navigation(home: Any) -> None:
    """Run the multipage app: ``home`` (a callable in app.py) and the page files of :data:`PAGES`, labelled in
    the session's language (so the sidebar reads 首页 / Home rather than the entry file's name)."""
    lang = current_lang()
    pages = [st.Page(home, title=t("page_home", lang), default=True)]
    pages += [st.Page(path, title=t(key, lang), url_path=page_route(path)) for path, key in PAGES if path != "app.py"]
    st.navigation(pages).run()


def show_load_errors(errors: Mapping[str, str], lang: str = "zh") -> None:
    """Say which layers failed and why; the page goes on with the others."""
    for layer_id, message in errors.items():
        st.warning(plain(t("load_failed", lang, layer=layer_id, message=message)))


def uploader_texts(lang: str) -> None:
    """Streamlit's file uploader has no option for its own texts ("Upload", "200MB per file • GEOJSON, …"), which
    stay English. Workaround, kept to this one place: hide the size-and-types line (the widget's label already lists
    the formats, and :data:`settings.UPLOAD_MAX_MB` is enforced by the reader) and draw the button's text from the
    page's dictionary through CSS. Check it after a Streamlit upgrade (tests/browser: the language leak test)."""
    label = t("ul_button", lang).replace('"', "")
    button = "[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer']"
    st.html("<style>[data-testid='stFileUploaderDropzoneInstructions']{display:none}"
            f"{button} p{{display:none}}{button}::after{{content:\"{label}\"}}</style>")


def show_notices(notices: list[str]) -> None:
    """URL notices as plain, escaped text."""
    for notice in notices:
        st.info(plain(notice))


def draw(fmap: folium.Map, *, key: str, height: int = 600, lang: str = "zh", compact: bool = True,
         layer_control: bool = True, gate_page: str | None = None, **kwargs: Any) -> Any:
    """Show a folium map in the page with the in-page map component (stable ``key``; Leaflet and plugins served
    by the app itself). A map holding an element the component does not draw is shown as folium's own document.
    ``gate_page``: the map reports its first paint to that page's gate (:mod:`layers.app.gate`).
    ``kwargs`` go to :func:`layers.app.mapview.show_map_spec` (callbacks, view, labels)."""
    try:
        spec = map_spec(fmap, lang=lang)
    except MapSpecError:
        if gate_page is not None:
            open_gate(gate_page)  # folium's own document cannot report: the rest need not wait
        localize_assets(fmap)
        st.iframe(fmap.get_root().render(), height=height)
        return None
    if gate_page is not None and map_first(gate_page):
        kwargs.update(gate=True, on_drawn_change=opener(gate_page))
    return show_map_spec(spec, key=key, height=height, lang=lang, compact=compact, layer_control=layer_control,
                         **kwargs)


def show_map(*, lang: str = "zh", basemap: str = "none", key: str = "map", height: int = 640,
             only: tuple[str, ...] | None = None, gate_page: str | None = None) -> None:
    """Draw the catalogue layers (``only`` these when given); load errors of any layer are reported. ``gate_page``
    as for :func:`draw` (the page then calls :func:`layers.app.gate.hold_rest` after the map)."""
    _, errors = all_layers()
    show_load_errors(errors, lang)
    kwargs: dict[str, Any] = {}
    if gate_page is not None and map_first(gate_page):
        kwargs.update(gate=True, on_drawn_change=opener(gate_page))
    show_map_spec(cached_catalogue_spec(lang, basemap, only), key=key, height=height, lang=lang, compact=True,
                  **kwargs)


def towns_banner(layers: Mapping[str, Any], lang: str) -> None:
    """One line on pages that use towns while any town boundary is schematic, linking to the import on the Data
    page; gone once every unit has an imported boundary."""
    text = towns_banner_text(layers.get("towns"), lang)
    if text is None:
        return
    # A caption, not st.info (info boxes are the pages' notices about the link); a markdown link, because
    # st.page_link needs the page registered, which a page run on its own (AppTest) lacks.
    st.caption(f"**≈** {text} [{t('towns_banner_link', lang)}](./{page_route('pages/4_数据_Data.py')})")
