"""The Present page's logic (meeting mode): one scene at a time, the scene and town in the URL."""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import streamlit as st

from layers.app.cache import cached_scene_file, cached_scene_spec, cached_scene_text, cached_town_names
from layers.app.chrome import LANG_KEY, plain, show_notices
from layers.app.sceneview import show_scene
from layers.core import settings
from layers.core.errors import SongjiangMapError
from layers.core.i18n import t
from layers.scenes.choice import SceneChoice, choose_scene, scene_ids, step_scene
from layers.scenes.deck import DECK_NAME, build_deck
from layers.scenes.pack import build_pack
from layers.scenes.web import MIME, PACK_FORMATS, scene_file_name

#: Session key of the town last shown in the close-up, so previous/next come back to it.
PRESENT_TOWN_KEY = "_present_town"
#: Session keys of the last meeting pack / handout built on this page: ((kind, lang, town, paper), bytes).
MADE_KEY = {"pack": "_present_made_pack", "deck": "_present_made_deck"}
PAPERS = ("A4", "A3")
#: Download names of the whole-meeting files.
MADE_NAME = {"pack": {"zh": "meeting_pack_zh.zip", "en": "meeting_pack_en.zip"}, "deck": DECK_NAME}
MADE_MIME = {"pack": MIME["zip"], "deck": MIME["pdf"]}

#: Static CSS (no user text): a compact header so the scene gets the height that is left (the scene's own CSS,
#: layers/app/sceneview.py, makes it cover the page in full screen).
_PRESENT_CSS = """<style>
[data-testid='stMainBlockContainer'] {padding-top: 3.2rem; padding-bottom: 0; max-width: 100%;}
[data-testid='stMainBlockContainer'] [data-testid='stHeading'] h1 {font-size: clamp(1.25rem, 3.4vh, 3rem);
  padding: 0; line-height: 1.2;}
[data-testid='stMainBlockContainer'] [data-testid='stHeading'] [data-testid='stMarkdownContainer'],
.st-key-pres_subtitle [data-testid='stMarkdownContainer'] {margin-bottom: 0;}
.st-key-pres_subtitle p {font-size: clamp(.8rem, 1.8vh, 1.5rem); margin: 0; line-height: 1.35; color: #333;}
[data-testid='stMainBlockContainer'] [data-testid='stVerticalBlock'] {gap: .35rem;}
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
        town_col.selectbox(t("pres_town", lang), list(names), key="w_present_town",
                           placeholder=t("choose_one", lang), on_change=_on_town_change,
                           format_func=lambda code: f"{names.get(code, code)} ({code})",
                           label_visibility="collapsed")
    with file_col.popover(t("pres_download", lang), use_container_width=True):
        for fmt in PACK_FORMATS:
            st.download_button(t(f"pres_{fmt}", lang), key=f"pres_dl_{fmt}", on_click="ignore",
                               data=partial(cached_scene_file, choice.scene, choice.town, lang, fmt),
                               file_name=scene_file_name(choice.scene, choice.town, fmt), mime=MIME[fmt],
                               use_container_width=True)
        present_files(choice, lang)


def _make(kind: str, lang: str, town: str, paper: str, progress: Callable[[int, int], None]) -> bytes:
    """Build the meeting pack (zip) or the handout (PDF) and return its bytes."""
    with tempfile.TemporaryDirectory(prefix="songjiang-present-") as folder:
        if kind == "pack":
            out = build_pack(Path(folder) / "meeting.zip", lang=lang, town=town, paper=paper,
                             progress=progress).path
        else:
            out = build_deck(Path(folder) / "deck.pdf", lang=lang, town=town, paper=paper, progress=progress).path
        return out.read_bytes()


def present_files(choice: SceneChoice, lang: str) -> None:
    """The whole meeting in the page's language: "下载会议包" (every scene as PNG, PDF and HTML, README) and
    "下载讲稿 PDF" (a title page and one scene per page); each is built with a progress bar, then downloaded."""
    st.divider()
    st.caption(t("pres_files", lang))
    paper = st.radio(t("pres_paper", lang), PAPERS, key="w_present_paper", horizontal=True)
    town = choice.town or st.session_state.get(PRESENT_TOWN_KEY) or settings.PACK_TOWN
    for kind in ("pack", "deck"):
        wanted = (kind, lang, town, paper)
        made = st.session_state.get(MADE_KEY[kind])
        slot = st.empty()      # the build button gives way to the progress bar, then to the download
        if made is None or made[0] != wanted:
            if not slot.button(t(f"pres_{kind}", lang), key=f"pres_make_{kind}", help=t(f"pres_{kind}_help", lang),
                               use_container_width=True):
                continue
            bar = slot.progress(0.0, text=t("pres_building", lang, done=0, total="…"))

            def tick(done: int, total: int, bar=bar) -> None:
                bar.progress(done / max(total, 1), text=t("pres_building", lang, done=done, total=total))

            try:
                made = (wanted, _make(kind, lang, town, paper, tick))
            except SongjiangMapError as exc:
                slot.error(plain(t("pres_error", lang, message=exc)))
                continue
            st.session_state[MADE_KEY[kind]] = made
        slot.download_button(t(f"pres_{kind}", lang), data=made[1], key=f"pres_dl_{kind}", on_click="ignore",
                             file_name=MADE_NAME[kind][lang], mime=MADE_MIME[kind], type="primary",
                             use_container_width=True)


def present_scene(choice: SceneChoice, lang: str) -> None:
    """Title and subtitle, then the scene drawn in the page (map, legend, scale bar, north arrow, names, the note
    folded into a "来源" button where it would cover the scene), taking the height left in the window."""
    try:
        text = cached_scene_text(choice.scene, choice.town, lang)
        spec = cached_scene_spec(choice.scene, choice.town, lang)
    except SongjiangMapError as exc:
        st.error(plain(t("pres_error", lang, message=exc)))
        return
    st.title(text.title)
    st.container(key="pres_subtitle").markdown(plain(text.subtitle))
    show_scene(spec, key="pres_scene", lang=lang)
