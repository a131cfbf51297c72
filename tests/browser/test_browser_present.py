"""Meeting mode in headless Chromium: each offline HTML scene draws from a file with the network off; the Present
page fits the scene to any screen, walks through the scenes with previous/next and a clicker's keys, and keeps the
title and legend in full screen."""
from __future__ import annotations

import itertools
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from _browser import is_local  # the fixtures (streamlit_url, browser_context, page) come from conftest.py
from test_browser import SHAPES, _expected_shapes

from layers.core import settings
from layers.scenes.frame import prepare_frame, scene_titles
from layers.scenes.legend import legend_sections
from layers.scenes.model import get_scene
from layers.scenes.web import write_scene_html

JIUTING = "310117107"
PRESENT_ROUTE = "/" + quote("演示_Present")
SCENES = ("structure", "zones", "transport", "industry", "town")
#: The scene on the Present page: the in-page scene component's root (drawn in the page itself, no iframe).
SCENE = ".sj-scene"
VIEWPORTS = ((1024, 768), (1280, 720), (1366, 768), (1920, 1080), (3840, 2160))


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
    from playwright.sync_api import expect

    page.get_by_role("heading", name=title, exact=True).first.wait_for()
    page.locator(SCENE).locator(SHAPES).first.wait_for(state="attached")
    # The scene element has drawn this scene (its title, shown in full screen, is the scene's own).
    expect(page.locator(SCENE).locator(".sj-title h1")).to_have_text(title)


def _titles(lang: str) -> list[str]:
    titles = [get_scene(s).text("title", lang) for s in SCENES]
    titles[-1] = f"{'九亭镇' if lang == 'zh' else 'Jiuting Town'} · {titles[-1]}"
    return titles


def _assert_labels_clear(page) -> None:
    """The names shown on the scene overlap neither each other nor the legend, north arrow, scale bar or note."""
    # Names are placed again 120 ms after the scene's last change of size or font: wait until that has settled.
    page.wait_for_function("""() => { const d = document.querySelector('.sj-scene');
        const t = d && Number(d.getAttribute('data-sj-placed'));
        return t && Date.now() - t > 700; }""", timeout=20_000)
    found = page.evaluate("""() => {
      const d = document.querySelector('.sj-scene');
      const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
      return {labels: [...d.querySelectorAll('.sj-label')].filter(e => e.style.visibility == 'visible')
                        .map(e => [e.textContent, box(e)]),
              chrome: [...d.querySelectorAll('.sj-legend, .sj-north, .sj-note, .leaflet-control-scale, .sj-present')]
                        .map(e => [e.className, box(e)])};
    }""")
    assert found["labels"], "no name is shown"

    def overlap(a, b):
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    for (name_a, a), (name_b, b) in itertools.combinations(found["labels"], 2):
        assert not overlap(a, b), (name_a, a, name_b, b, page.evaluate("""() => {
            const d = document.querySelector('.sj-scene'), r = d.getBoundingClientRect();
            return [r.width, r.height, Date.now() - Number(d.getAttribute('data-sj-placed'))];
        }"""))
    for name, a in found["labels"]:
        for chrome, b in found["chrome"]:
            assert not overlap(a, b), (name, chrome)


def _boxes(page) -> dict[str, list[float]]:
    """Top and bottom (page pixels) of the title, the scene, and the map, legend and note inside it."""
    return page.evaluate("""() => {
      const frame = document.querySelector('.sj-scene');
      const f = frame.getBoundingClientRect();
      const inner = s => { const e = frame.querySelector(s); const r = e.getBoundingClientRect();
                           return [r.top, r.bottom]; };
      const h = document.querySelector('h1').getBoundingClientRect();
      const main = document.querySelector('[data-testid=stMain]');
      return {title: [h.top, h.bottom], frame: [f.top, f.bottom], map: inner('.sj-scene-map'),
              legend: inner('.sj-legend'), note: inner('.sj-note'), north: inner('.sj-north'),
              scroll: [main.scrollHeight, main.clientHeight, document.scrollingElement.scrollHeight]};
    }""")


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
    for scene_id, title in zip(SCENES[1:], titles[1:], strict=True):
        following.click()
        _wait_for_scene(page, title)
        page.wait_for_url(lambda url, s=scene_id: _params(url).get("scene") == s)
        # The map shows this scene: its legend names the scene's layers.
        legend = page.locator(SCENE).locator(".sj-legend")
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


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width, height", VIEWPORTS)
def test_the_whole_scene_fits_the_screen_without_scrolling(page, streamlit_url, lang, width, height):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{streamlit_url}{PRESENT_ROUTE}?scene=industry&lang={lang}", wait_until="domcontentloaded")
    _wait_for_scene(page, get_scene("industry").text("title", lang))
    scene = page.locator(SCENE)
    expect(scene.locator(".sj-legend")).to_be_visible()
    page.wait_for_function("""() => { const f = document.querySelector('.sj-scene');
        return f && Math.abs(f.getBoundingClientRect().bottom - window.innerHeight) < 40; }""")
    boxes = _boxes(page)
    assert boxes["title"][0] >= 0
    for part in ("map", "legend", "note", "north"):
        assert boxes[part][1] <= height, (part, boxes)
    assert boxes["map"][1] - boxes["map"][0] >= 0.5 * height - 140      # the map takes the height that is left
    main_scroll, main_height, doc_scroll = boxes["scroll"]
    assert main_scroll <= main_height + 1 and doc_scroll <= height + 1, boxes   # nothing below the fold
    _assert_labels_clear(page)
    note = scene.locator(".sj-note")
    # Short screens fold the note into a small "来源"/"Sources" button; tall ones show it.
    folded = height < settings.SCENE_NOTE_FOLD_BELOW_PX - 200
    if folded:
        expect(note).not_to_have_attribute("open", "")
        expect(note.locator("summary")).to_have_text("来源" if lang == "zh" else "Sources")
    # An open note never covers the district (the drawn shapes of this district-wide scene).
    cover = scene.evaluate("""(root, shapes) => {
        const note = root.querySelector('.sj-note');
        if (!note || !note.open) { return null; }
        const n = note.getBoundingClientRect();
        const all = [...root.querySelectorAll(shapes)].map(e => e.getBoundingClientRect());
        const box = {left: Math.min(...all.map(r => r.left)), top: Math.min(...all.map(r => r.top)),
                     right: Math.max(...all.map(r => r.right)), bottom: Math.max(...all.map(r => r.bottom))};
        const clear = n.right <= box.left || n.left >= box.right || n.bottom <= box.top || n.top >= box.bottom;
        return clear ? null : {note: [n.left, n.top, n.right, n.bottom], shapes: box};
    }""", SHAPES)
    assert cover is None, cover
    assert page.record.page_errors == []


def test_the_scene_is_drawn_in_the_page_and_stepping_never_shows_an_empty_map(page, streamlit_url, catalog):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{streamlit_url}{PRESENT_ROUTE}?scene=structure&lang=zh", wait_until="domcontentloaded")
    titles = _titles("zh")
    _wait_for_scene(page, titles[0])
    assert page.locator("iframe").count() == 0          # the scene is drawn in the page itself
    # Every animation frame from here on: how many showed the scene without a shape.
    page.evaluate(f"""() => {{
        window.__sjEmpty = 0;
        window.__sjFrames = 0;
        const tick = () => {{
            window.__sjFrames += 1;
            if (document.querySelectorAll('{SCENE} {SHAPES}').length === 0) {{ window.__sjEmpty += 1; }}
            requestAnimationFrame(tick);
        }};
        tick();
    }}""")
    root = page.locator(SCENE).element_handle()
    for scene_id, how in zip(SCENES[1:], ("button", "PageDown", "button", "ArrowRight"), strict=True):
        if how == "button":
            page.get_by_role("button", name="下一幕 ▶").click()
        else:
            page.keyboard.press(how)
        page.wait_for_url(lambda url, s=scene_id: _params(url).get("scene") == s)
        _wait_for_scene(page, titles[SCENES.index(scene_id)])
        expect(page.locator(SCENE).locator(".sj-legend")).to_contain_text(
            catalog.layer(get_scene(scene_id).layers[-1].id).title("zh") if scene_id != "town" else "所选街镇")
        assert page.locator("iframe").count() == 0
    page.wait_for_timeout(500)
    frames, empty = page.evaluate("() => [window.__sjFrames, window.__sjEmpty]")
    assert frames > 10 and empty == 0, (frames, empty)     # never a frame without shapes
    assert root.evaluate("e => e.isConnected")             # one scene element, updated in place
    assert page.record.page_errors == []
    assert [u for u in page.record.requests if not is_local(u)] == []


def test_clicker_keys_walk_the_scenes_and_the_url_follows(page, streamlit_url):
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{streamlit_url}{PRESENT_ROUTE}?scene=structure&lang=zh", wait_until="domcontentloaded")
    titles = _titles("zh")
    _wait_for_scene(page, titles[0])
    steps = [("ArrowRight", "zones"), ("PageDown", "transport"), ("Space", "industry"), ("ArrowLeft", "transport"),
             ("PageUp", "zones"), ("End", "town"), ("Home", "structure")]
    for key, scene_id in steps:
        page.locator(SCENE).locator(".sj-title").wait_for(state="attached")
        page.keyboard.press(key)
        page.wait_for_url(lambda url, s=scene_id: _params(url).get("scene") == s)
        _wait_for_scene(page, titles[SCENES.index(scene_id)])
    # Keys pressed inside the scene (the clicker after a click on the map) work too.
    page.locator(SCENE).locator(".sj-scene-map").click(position={"x": 20, "y": 300})
    page.keyboard.press("ArrowRight")
    page.wait_for_url(lambda url: _params(url).get("scene") == "zones")
    assert page.record.page_errors == []


def test_full_screen_keeps_title_legend_north_arrow_and_scale_across_scenes(page, streamlit_url):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{streamlit_url}{PRESENT_ROUTE}?scene=zones&lang=en", wait_until="domcontentloaded")
    titles = _titles("en")
    _wait_for_scene(page, titles[1])
    scene = page.locator(SCENE)
    scene.locator(".sj-present").click()
    page.wait_for_function("() => !!document.fullscreenElement")
    for chrome in (".sj-title", ".sj-legend", ".sj-north", ".leaflet-control-scale"):
        expect(scene.locator(chrome)).to_be_visible()
    expect(scene.locator(".sj-title h1")).to_have_text(titles[1])
    frame = page.locator(SCENE).bounding_box()
    assert frame["x"] == 0 and frame["y"] == 0 and frame["width"] == 1366 and frame["height"] == 768
    page.keyboard.press("ArrowRight")
    page.wait_for_url(lambda url: _params(url).get("scene") == "transport")
    expect(page.locator(SCENE).locator(".sj-title h1")).to_have_text(titles[2])
    assert page.evaluate("!!document.fullscreenElement")          # the next scene stays full screen
    expect(page.locator(SCENE).locator(".sj-legend")).to_be_visible()
    page.evaluate("document.exitFullscreen()")
    page.wait_for_function("() => !document.fullscreenElement")
    expect(page.locator(SCENE).locator(".sj-title")).to_be_hidden()
    assert page.record.page_errors == []
    assert [u for u in page.record.requests if not is_local(u)] == []


@pytest.mark.parametrize("scene_id", ["structure", "town"])
def test_a_phone_draws_the_map_under_the_title(page, streamlit_url, scene_id):
    page.set_viewport_size({"width": 390, "height": 844})
    town = "&town=" + JIUTING if scene_id == "town" else ""
    page.goto(f"{streamlit_url}{PRESENT_ROUTE}?scene={scene_id}&lang=zh{town}", wait_until="domcontentloaded")
    _wait_for_scene(page, _titles("zh")[SCENES.index(scene_id)])
    scene = page.locator(SCENE)
    scene.locator(".sj-label").first.wait_for(state="attached")
    boxes = _boxes(page)
    assert boxes["map"][0] >= boxes["title"][1]
    assert boxes["map"][1] - boxes["map"][0] >= settings.SCENE_MIN_HEIGHT_PX - 1
    # The district is drawn inside the map (a NaN zoom drew nothing): its outline has a real size on screen.
    sizes = scene.locator(SHAPES).evaluate_all(
        "ps => ps.map(p => { const r = p.getBoundingClientRect(); return r.width * r.height; })")
    assert max(sizes) > 100 * 100
    assert scene.locator(".sj-label").evaluate_all(
        "els => els.filter(e => e.style.visibility == 'visible').length") > 0
    assert not [e for e in page.record.page_errors + page.record.console_errors if "LatLng" in e or "NaN" in e]
    assert page.record.page_errors == []


@pytest.mark.parametrize("scene_id", SCENES)
def test_names_on_every_scene_keep_clear_of_each_other_and_of_the_legend(page, streamlit_url, scene_id):
    page.set_viewport_size({"width": 1366, "height": 768})
    town = "&town=" + JIUTING if scene_id == "town" else ""
    page.goto(f"{streamlit_url}{PRESENT_ROUTE}?scene={scene_id}&lang=zh{town}", wait_until="domcontentloaded")
    _wait_for_scene(page, _titles("zh")[SCENES.index(scene_id)])
    page.locator(SCENE).locator(".sj-label[style*='visible']").first.wait_for(state="attached")
    _assert_labels_clear(page)
    assert page.record.page_errors == []
