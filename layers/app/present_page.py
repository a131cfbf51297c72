"""The Present page's logic (meeting mode): one scene at a time, the scene and town in the URL."""
from __future__ import annotations

from functools import partial

import streamlit as st

from layers.app.cache import cached_scene_file, cached_scene_text, cached_town_names
from layers.app.chrome import LANG_KEY, draw, plain, show_notices
from layers.core import settings
from layers.core.errors import SongjiangMapError
from layers.core.i18n import t
from layers.scenes.choice import SceneChoice, choose_scene, scene_ids, step_scene
from layers.scenes.web import MIME, PACK_FORMATS, build_scene_map, scene_file_name

#: Session key of the town last shown in the close-up, so previous/next come back to it.
PRESENT_TOWN_KEY = "_present_town"


def present_style() -> None:
    """Less padding around the page, so a scene fills a projector screen (static CSS, no user text)."""
    st.markdown("<style>[data-testid='stMainBlockContainer'] {padding-top: 4rem; padding-bottom: 0.5rem;}"
                "</style>", unsafe_allow_html=True)


def _go_to(choice: SceneChoice) -> None:
    st.query_params.from_dict({"lang": st.session_state.get(LANG_KEY, "zh"), **choice.params()})


def _on_town_change() -> None:
    town = st.session_state["w_present_town"]
    st.session_state[PRESENT_TOWN_KEY] = town
    _go_to(SceneChoice(st.query_params.get("scene", "town"), town))


def present_choice(lang: str) -> SceneChoice:
    """The scene (and town) the URL asks for; ignored values are reported, never echoed; the URL is tidied."""
    choice, notices = choose_scene(st.query_params.to_dict(), town_codes=cached_town_names(lang),
                                   remembered_town=st.session_state.get(PRESENT_TOWN_KEY))
    show_notices([t(key, lang) for key in notices])
    if choice.town:
        st.session_state[PRESENT_TOWN_KEY] = choice.town
    params = {"lang": lang, **choice.params()}
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    return choice


def present_nav(choice: SceneChoice, lang: str) -> None:
    """Previous/next buttons, the scene's position, the town of a close-up and the downloads, in one row."""
    ids = scene_ids()
    remembered = st.session_state.get(PRESENT_TOWN_KEY)
    before, after = step_scene(choice, -1, town=remembered), step_scene(choice, 1, town=remembered)
    prev_col, next_col, pos_col, town_col, file_col = st.columns([1.3, 1.3, 1.2, 3, 1.6], vertical_alignment="center")
    prev_col.button(t("pres_prev", lang), key="pres_prev", disabled=before is None, on_click=_go_to,
                    args=(before or choice,), use_container_width=True)
    next_col.button(t("pres_next", lang), key="pres_next", disabled=after is None, on_click=_go_to,
                    args=(after or choice,), use_container_width=True)
    pos_col.caption(t("pres_position", lang, i=ids.index(choice.scene) + 1, n=len(ids)))
    if choice.town:
        names = cached_town_names(lang)
        st.session_state["w_present_town"] = choice.town
        town_col.selectbox(t("pres_town", lang), list(names), key="w_present_town", on_change=_on_town_change,
                           format_func=lambda code: f"{names.get(code, code)} ({code})",
                           label_visibility="collapsed")
    with file_col.popover(t("pres_download", lang), use_container_width=True):
        for fmt in PACK_FORMATS:
            st.download_button(t(f"pres_{fmt}", lang), key=f"pres_dl_{fmt}", on_click="ignore",
                               data=partial(cached_scene_file, choice.scene, choice.town, lang, fmt),
                               file_name=scene_file_name(choice.scene, choice.town, fmt), mime=MIME[fmt],
                               use_container_width=True)


def present_scene(choice: SceneChoice, lang: str) -> None:
    """Title, subtitle, the scene map (legend, scale bar, north arrow, names on it) and the note below it."""
    try:
        text = cached_scene_text(choice.scene, choice.town, lang)
        fmap = build_scene_map(choice.scene, town=choice.town, lang=lang, standalone=False)
    except SongjiangMapError as exc:
        st.error(plain(t("pres_error", lang, message=exc)))
        return
    st.title(text.title)
    st.markdown(plain(text.subtitle))
    draw(fmap, key=f"present-map-{choice.scene}-{choice.town or ''}", height=settings.PRESENT_MAP_HEIGHT)
    with st.expander(t("pres_note", lang), expanded=True):
        for line in text.note:
            st.caption(plain(line))
