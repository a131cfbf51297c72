"""The Present page's logic (meeting mode): one scene at a time, the scene and town in the URL."""
from __future__ import annotations

from functools import partial

import streamlit as st

from layers.app.cache import cached_scene_document, cached_scene_file, cached_scene_text, cached_town_names
from layers.app.chrome import LANG_KEY, plain, show_notices
from layers.core import settings
from layers.core.errors import SongjiangMapError
from layers.core.i18n import t
from layers.scenes.choice import SceneChoice, choose_scene, scene_ids, step_scene
from layers.scenes.web import MIME, PACK_FORMATS, scene_file_name

#: Session key of the town last shown in the close-up, so previous/next come back to it.
PRESENT_TOWN_KEY = "_present_town"

#: Static CSS (no user text): a compact header so the scene frame gets the height that is left; in full screen
#: (the scene's ⛶ button or F) the scene frame covers the page.
_PRESENT_CSS = """<style>
[data-testid='stMainBlockContainer'] {padding-top: 3.2rem; padding-bottom: 0; max-width: 100%;}
[data-testid='stMainBlockContainer'] [data-testid='stHeading'] h1 {font-size: clamp(1.25rem, 3.4vh, 3rem);
  padding: 0; line-height: 1.2;}
[data-testid='stMainBlockContainer'] [data-testid='stHeading'] [data-testid='stMarkdownContainer'],
.st-key-pres_subtitle [data-testid='stMarkdownContainer'] {margin-bottom: 0;}
.st-key-pres_subtitle p {font-size: clamp(.8rem, 1.8vh, 1.5rem); margin: 0; line-height: 1.35; color: #333;}
[data-testid='stMainBlockContainer'] [data-testid='stVerticalBlock'] {gap: .35rem;}
[data-testid='stElementContainer']:has(> iframe.sj-scene-frame) {height: auto !important;
  min-height: 0 !important; flex: 0 0 auto !important;}
html.sj-fs .sj-scene-frame {position: fixed !important; inset: 0 !important; width: 100vw !important;
  height: 100vh !important; z-index: 1000000; background: #fff; border: 0;}
html.sj-fs [data-testid='stHeader'] {display: none;}
</style>"""


def present_style() -> None:
    """Less padding around the page, so a scene fills a projector screen (static CSS, no user text)."""
    st.markdown(_PRESENT_CSS, unsafe_allow_html=True)


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


def _end(choice: SceneChoice, last: bool, town: str | None) -> SceneChoice:
    """The first or last scene (a close-up keeps ``town``)."""
    target = SceneChoice(scene_ids()[-1 if last else 0])
    return step_scene(target, 0, town=town) or target


def present_nav(choice: SceneChoice, lang: str) -> None:
    """First/previous/next/last (the clicker's keys press these), position, the town of a close-up, the files."""
    ids = scene_ids()
    remembered = st.session_state.get(PRESENT_TOWN_KEY)
    before, after = step_scene(choice, -1, town=remembered), step_scene(choice, 1, town=remembered)
    first, last = _end(choice, False, remembered), _end(choice, True, remembered)
    first_col, prev_col, next_col, last_col, pos_col, town_col, file_col = st.columns(
        [0.55, 1.3, 1.3, 0.55, 1.1, 2.6, 1.6], vertical_alignment="center")
    first_col.button(t("pres_first", lang), key="pres_first", disabled=before is None, on_click=_go_to,
                     args=(first,), help=t("pres_first_help", lang), use_container_width=True)
    prev_col.button(t("pres_prev", lang), key="pres_prev", disabled=before is None, on_click=_go_to,
                    args=(before or choice,), use_container_width=True)
    next_col.button(t("pres_next", lang), key="pres_next", disabled=after is None, on_click=_go_to,
                    args=(after or choice,), use_container_width=True)
    last_col.button(t("pres_last", lang), key="pres_last", disabled=after is None, on_click=_go_to,
                    args=(last,), help=t("pres_last_help", lang), use_container_width=True)
    pos_col.caption(t("pres_position", lang, i=ids.index(choice.scene) + 1, n=len(ids)),
                    help=t("pres_keys", lang))
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
    """Title and subtitle, then the scene (map, legend, scale bar, north arrow, names, the note folded into a
    "来源" button on a short screen) in a frame that takes the height left in the window."""
    try:
        text = cached_scene_text(choice.scene, choice.town, lang)
        document = cached_scene_document(choice.scene, choice.town, lang)
    except SongjiangMapError as exc:
        st.error(plain(t("pres_error", lang, message=exc)))
        return
    st.title(text.title)
    st.container(key="pres_subtitle").markdown(plain(text.subtitle))
    st.iframe(document, height=settings.PRESENT_MAP_HEIGHT)
