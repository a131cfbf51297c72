"""Meeting mode in headless Chromium: each offline HTML scene draws from a file with the network off, and the
Present page walks through the scenes with previous/next."""
from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from _browser import is_local  # the fixtures (streamlit_url, browser_context, page) come from conftest.py
from test_browser import MAP_IFRAME, SHAPES, _expected_shapes

from layers.scenes.frame import prepare_frame, scene_titles
from layers.scenes.legend import legend_sections
from layers.scenes.model import get_scene
from layers.scenes.web import write_scene_html

JIUTING = "310117107"
PRESENT_ROUTE = "/" + quote("演示_Present")
SCENES = ("structure", "zones", "transport", "industry", "town")


@pytest.fixture
def offline(browser_context):
    """The browser with its network switched off for one test (on top of the harness's request gate)."""
    browser_context.set_offline(True)
    try:
        yield browser_context
    finally:
        browser_context.set_offline(False)


def _scene_shapes(scene_id: str, catalog) -> dict[str, int]:
    """Shapes the scene must draw: its layers after their filters (features, and uncertainty rings)."""
    scene = get_scene(scene_id)
    frame = prepare_frame(scene, JIUTING if scene.needs_town else None, catalog)
    return _expected_shapes({f"{i}_{layer.id}": gdf for i, (layer, _, gdf) in enumerate(frame.layers)})


@pytest.mark.parametrize("scene_id", SCENES)
def test_offline_html_scene_draws_its_layers_and_legend_with_the_network_off(page, offline, tmp_path, catalog,
                                                                             scene_id):
    from playwright.sync_api import expect

    town = JIUTING if get_scene(scene_id).needs_town else None
    out = write_scene_html(scene_id, town=town, out=tmp_path / f"{scene_id}.html")
    page.goto(out.as_uri(), wait_until="load")
    expected = _scene_shapes(scene_id, catalog)
    assert expected["features"] > 0
    expect(page.locator("path.leaflet-interactive")).to_have_count(expected["features"])
    expect(page.locator(SHAPES)).to_have_count(expected["features"] + expected["rings"])
    title, _ = scene_titles(get_scene(scene_id),
                                    prepare_frame(get_scene(scene_id), town, catalog).town, "zh")
    expect(page.locator(".sj-title h1")).to_have_text(title)
    legend = page.locator(".sj-legend")
    expect(legend).to_be_visible()
    for section in legend_sections(prepare_frame(get_scene(scene_id), town, catalog),
                                           catalog, "zh"):
        for entry in section.entries:
            expect(legend).to_contain_text(entry.label)
    for chrome in (".sj-north", ".leaflet-control-scale", ".sj-note", ".leaflet-control-zoom-fullscreen"):
        expect(page.locator(chrome)).to_be_visible()
    expect(page.locator(".sj-note")).to_contain_text(catalog.meta["release_date"])
    assert page.locator(".sj-label").evaluate_all("els => els.filter(e => e.style.visibility == 'visible').length")
    assert page.record.page_errors == []
    assert page.record.console_errors == []
    assert [u for u in page.record.requests if not u.startswith(("file:", "data:"))] == []


def _params(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def _wait_for_scene(page, title: str) -> None:
    page.get_by_role("heading", name=title, exact=True).first.wait_for()
    page.frame_locator(MAP_IFRAME).first.locator(SHAPES).first.wait_for(state="attached")


def test_present_page_walks_through_the_scenes_with_previous_and_next(page, streamlit_url, catalog):
    from playwright.sync_api import expect

    page.goto(f"{streamlit_url}{PRESENT_ROUTE}?scene=structure&lang=zh", wait_until="domcontentloaded")
    titles = [get_scene(s).text("title", "zh") for s in SCENES]
    titles[-1] = f"九亭镇 · {titles[-1]}"
    _wait_for_scene(page, titles[0])
    expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")   # full width
    previous = page.get_by_role("button", name="◀ 上一幕")
    following = page.get_by_role("button", name="下一幕 ▶")
    expect(previous).to_be_disabled()
    for scene_id, title in zip(SCENES[1:], titles[1:]):
        following.click()
        _wait_for_scene(page, title)
        page.wait_for_url(lambda url, s=scene_id: _params(url).get("scene") == s)
        # The map shows this scene: its legend names the scene's layers.
        legend = page.frame_locator(MAP_IFRAME).first.locator(".sj-legend")
        expect(legend).to_contain_text(catalog.layer(get_scene(scene_id).layers[-1].id).title("zh")
                                       if scene_id != "town" else "所选街镇")
    assert _params(page.url) == {"lang": "zh", "scene": "town", "town": JIUTING}
    expect(following).to_be_disabled()
    previous.click()
    _wait_for_scene(page, titles[3])
    page.wait_for_url(lambda url: _params(url) == {"lang": "zh", "scene": "industry"})
    assert page.record.page_errors == []
    assert [u for u in page.record.requests if not is_local(u)] == []


def test_present_page_ignores_a_hostile_scene_with_a_notice(page, streamlit_url):
    from playwright.sync_api import expect

    page.goto(f"{streamlit_url}{PRESENT_ROUTE}?scene=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&lang=en",
              wait_until="domcontentloaded")
    _wait_for_scene(page, get_scene("structure").text("title", "en"))
    expect(page.get_by_test_id("stAlert").first).to_contain_text("scene parameter is not a known scene")
    assert page.locator("img[src=x]").count() == 0
    page.wait_for_url(lambda url: _params(url).get("scene") == "structure")
    assert page.record.page_errors == []
