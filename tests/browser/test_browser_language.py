"""The Map page in headless Chromium reads in one language (issue 15): the page text, Streamlit's own widget texts,
the map's legend, layer list, control titles, hover tooltips and the click-identify panel, scanned for Latin words
(zh) or Chinese (en) outside the allowlists of tests/_language.py. A screenshot of each language lands in
tests/artifacts/ for a person to look at.
"""
from __future__ import annotations

from urllib.parse import quote

import pytest
from _language import leaks
from test_browser import MAP, SHAPES

from layers.core import paths
from layers.core.i18n import t

MAP_ROUTE = "/" + quote("地图_Map")
#: Attribute-like text a map control carries: its tooltip (title) and accessible name (aria-label).
CONTROL_TEXTS_JS = """root => [...root.querySelectorAll('[title], [aria-label]')]
    .map(e => [e.getAttribute('title'), e.getAttribute('aria-label')]).flat().filter(Boolean)"""


def _texts(page, lang: str) -> list[tuple[str, str]]:
    """Every text of the Map page a reader sees, as (where, text)."""
    root = page.locator(MAP).first
    root.locator(SHAPES).first.wait_for(state="attached", timeout=60_000)  # a fresh server's first page: slow
    page.wait_for_timeout(800)
    # Material icons are ligatures ("upload", "keyboard_arrow_right"): drawn as pictures, not read as words.
    page.add_style_tag(content="[data-testid='stIconMaterial']{display:none !important}")
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text(t("ul_title", lang)).click()  # the uploader: its own texts are the known leak
    sidebar.locator("[data-testid='stFileUploaderDropzone']").wait_for()
    out = [("main", page.locator("[data-testid='stMain']").inner_text()),
           ("sidebar", page.locator("[data-testid='stSidebar']").inner_text())]
    layer_list = root.locator(".sj-layers")
    if not layer_list.evaluate("e => e.open"):
        layer_list.locator("summary").click()
    out += [("map", root.inner_text())]
    out += [("control", text) for text in root.evaluate(CONTROL_TEXTS_JS)]
    out += [("widget", text) for text in page.locator("[data-testid='stSidebar'] input").evaluate_all(
        "els => els.map(e => e.placeholder).filter(Boolean)")]
    # Hover a few features: each names itself in a tooltip.
    paths_ = root.locator("path.leaflet-interactive")
    for i in range(0, min(paths_.count(), 60), 6):
        try:
            paths_.nth(i).hover(timeout=2_000, force=True)
        except Exception:  # a feature under another one cannot be hovered; the others still are
            continue
        tip = root.locator(".leaflet-tooltip")
        if tip.count():
            out.append(("tooltip", tip.first.inner_text()))
    # Click the middle of the map: the identify panel lists what is there.
    box = root.locator(".sj-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_text("点击位置" if lang == "zh" else "Clicked at").first.wait_for()
    page.wait_for_timeout(500)
    out.append(("identify", page.locator("[data-testid='stMain']").inner_text()))
    return out


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_map_page_reads_in_its_language(page, streamlit_url, lang):
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{streamlit_url}{MAP_ROUTE}?lang={lang}", wait_until="domcontentloaded")
    texts = _texts(page, lang)
    shots = paths.PROJECT_DIR / "tests" / "artifacts"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"language_map_{lang}.png"), full_page=True)
    assert sum(1 for where, _ in texts if where == "tooltip") >= 3, "no tooltip was read"
    lines = [(where, line) for where, text in texts for line in text.splitlines() if line.strip()]
    found = leaks(lines, lang)
    assert not found, "\n".join(f"{where}: {word!r} in {text!r}" for where, word, text in found[:25])
    everything = "\n".join(text for _, text in texts)
    for raw in ("None", "nan", "Choose options", "Select all", "per file"):
        assert raw not in everything, raw
    assert "Upload" not in {line.strip() for _, text in texts for line in text.splitlines()}
    button = page.evaluate("() => getComputedStyle(document.querySelector(\"[data-testid='stFileUploaderDropzone'] "
                           "button [data-testid='stMarkdownContainer']\"), '::after').content")
    assert button == f'"{t("ul_button", lang)}"'  # the uploader's button, through the documented CSS workaround
    controls = [text for where, text in texts if where == "control"]
    assert ("放大" if lang == "zh" else "Zoom in") in controls  # Leaflet's zoom titles through the spec's texts
    assert ("全部" if lang == "zh" else "All") in everything  # empty filters mean everything
