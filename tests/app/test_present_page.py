"""The Present page (meeting mode) runs in zh and en (AppTest, no browser): scene from the URL, prev/next, notices."""

import pytest
from streamlit.testing.v1 import AppTest

from layers.app.chrome import PAGES
from layers.core import paths, settings
from layers.core.datatext import plan_ref_text
from layers.core.i18n import t
from layers.scenes.model import get_scene

ROOT = paths.PROJECT_DIR
PAGE = "pages/5_演示_Present.py"


def run_page(**params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def _param(at: AppTest, key: str):
    value = at.query_params.get(key)
    return value[-1] if isinstance(value, list) else value


def test_the_page_is_listed_with_the_others():
    assert (PAGE, "pres_page") in PAGES
    assert t("pres_page", "zh") == "会议演示" and t("pres_page", "en") == "Present"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("scene_id", ["structure", "zones", "transport", "industry"])
def test_each_scene_shows_its_title_and_subtitle_in_both_languages(scene_id, lang):
    at = run_page(scene=scene_id, lang=lang)
    assert not at.exception, at.exception
    scene = get_scene(scene_id)
    assert at.title[0].value == scene.text("title", lang)
    assert any(plan_ref_text(scene.plan_ref, lang) in m.value for m in at.markdown)  # the subtitle, its plan lines
    assert not at.info and not at.error
    assert _param(at, "scene") == scene_id and _param(at, "town") is None


@pytest.mark.parametrize("lang, title", [("zh", "新桥镇 · 街镇近景"), ("en", "Xinqiao Town · Town close-up")])
def test_a_town_close_up_comes_from_the_url(lang, title):
    at = run_page(scene="town", town="310117105", lang=lang)
    assert not at.exception, at.exception
    assert at.title[0].value == title
    assert at.selectbox(key="w_present_town").value == "310117105"
    assert _param(at, "town") == "310117105"


def test_a_close_up_without_a_town_shows_the_default_town():
    at = run_page(scene="town")
    assert at.title[0].value.startswith("九亭镇")
    assert _param(at, "town") == settings.PACK_TOWN


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hostile_values_are_ignored_with_a_notice_and_never_echoed(lang):
    at = run_page(scene="<script>alert(1)</script>", town='"><img src=x onerror=alert(1)>', lang=lang)
    assert not at.exception, at.exception
    assert at.title[0].value == get_scene("structure").text("title", lang)
    notices = [n.value for n in at.info]
    assert len(notices) == 2
    assert all("<script" not in n and "<img" not in n and "alert" not in n for n in notices)
    assert _param(at, "scene") == "structure" and _param(at, "town") is None   # the URL is tidied


def test_previous_and_next_walk_the_scenes_and_update_the_url():
    at = run_page(scene="structure", lang="en")
    assert at.button(key="pres_prev").disabled
    walked = [at.title[0].value]
    for _ in range(4):
        at.button(key="pres_next").click().run()
        assert not at.exception, at.exception
        walked.append(at.title[0].value)
    assert walked[:4] == [get_scene(s).text("title", "en")
                          for s in ("structure", "zones", "transport", "industry")]
    assert walked[4].endswith("Town close-up") and _param(at, "scene") == "town"
    assert _param(at, "town") == settings.PACK_TOWN
    assert at.button(key="pres_next").disabled
    at.button(key="pres_prev").click().run()
    assert at.title[0].value == get_scene("industry").text("title", "en")
    assert _param(at, "scene") == "industry" and _param(at, "town") is None


def test_choosing_another_town_updates_the_close_up_and_the_url():
    at = run_page(scene="town")
    at.selectbox(key="w_present_town").set_value("310117102").run()
    assert not at.exception, at.exception
    assert at.title[0].value.startswith("泗泾镇")
    assert _param(at, "town") == "310117102"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.slow  # draws a whole handout PDF (six print pages) per language
def test_the_handout_is_built_from_the_page_with_progress_then_downloaded(lang):
    at = run_page(scene="zones", lang=lang)
    assert at.button(key="pres_make_deck").label == t("pres_deck", lang)
    assert at.button(key="pres_make_pack").label == t("pres_pack", lang)
    at.button(key="pres_make_deck").click().run()
    assert not at.exception, at.exception
    assert not at.error
    made = at.session_state["_present_made_deck"]
    assert made[0] == ("deck", lang, settings.PACK_TOWN, "A4")
    assert made[1].startswith(b"%PDF") and made[1].count(b"/Type /Page\n") + made[1].count(b"/Type /Page ") >= 6
    # The build button gave way to the download of what was built.
    assert "pres_make_deck" not in [b.key for b in at.button]
