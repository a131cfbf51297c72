"""The real app in headless Chromium with the network cut off: it loads cleanly and draws every shape."""
from __future__ import annotations

import pytest
from _browser import is_local  # the fixtures (streamlit_url, page, …) come from conftest.py

from layers.map.assets import localize_assets
from layers.map.render import build_map

#: The in-page map component's root element (the map is drawn in the page itself, no iframe).
MAP = ".sj-map-root"
#: Every vector shape Leaflet draws goes into this pane as an SVG path (prefer_canvas=False).
SHAPES = ".leaflet-overlay-pane svg path"


def _parts(geom) -> int:
    """How many Leaflet layers one feature becomes: a MultiPoint is one circle marker per point."""
    if geom is None or geom.is_empty:
        return 0
    if geom.geom_type == "MultiPoint":
        return len(geom.geoms)
    if geom.geom_type == "GeometryCollection":
        return sum(_parts(g) for g in geom.geoms)
    return 1  # (Multi)Polygon and (Multi)LineString are one SVG path each


def _expected_shapes(layers) -> dict[str, int]:
    """Counts computed from the built layers: interactive features, and non-interactive accuracy rings."""
    features = sum(_parts(g) for gdf in layers.values() for g in gdf.geometry)
    rings = 0
    for gdf in layers.values():
        if "accuracy_m" in gdf.columns:
            points = gdf.geometry.geom_type.isin(["Point", "MultiPoint"])
            rings += int(((gdf["accuracy"] == "approximate") & gdf["accuracy_m"].notna() & points).sum())
    return {"features": features, "rings": rings}


@pytest.fixture(scope="module")
def expected_shapes(layers) -> dict[str, int]:
    """Shape counts of a map of every catalogue layer."""
    return _expected_shapes(layers)


def _open_home(page, url: str):
    """Load app.py and wait until the map has drawn its first shape; return the map frame."""
    page.goto(url + "/", wait_until="domcontentloaded")
    frame = page.locator(MAP)
    frame.locator(SHAPES).first.wait_for(state="attached")
    return frame


def test_home_page_loads_with_no_console_errors(page, streamlit_url):
    frame = _open_home(page, streamlit_url)
    frame.locator(".sj-layers").wait_for(state="attached")
    page.wait_for_timeout(1000)  # let late scripts (legend, layer control, tooltips) report
    # Nothing is filtered: Streamlit's own chatter on this page is console *warnings* (unknown iframe
    # "allow" features, the sandbox notice), which msg.type == "error" does not include.
    assert page.record.page_errors == []
    assert page.record.console_errors == []


def test_map_draws_every_feature_and_every_accuracy_ring(page, streamlit_url, layers, catalog):
    frame = _open_home(page, streamlit_url)
    from playwright.sync_api import expect

    # The page picks its layers; the layer control names the ones switched on (catalogue titles, zh default).
    # The home map is compact: its layer control starts folded, so the labels are attached but not visible.
    frame.locator(".sj-layers label").first.wait_for(state="attached")
    switched_on = frame.locator(".sj-layers label:has(input:checked)")
    shown = [text.strip() for text in switched_on.all_text_contents()]
    by_title = {spec.title("zh"): spec.id for spec in catalog.layers}
    assert shown and all(title in by_title for title in shown), shown
    expected = _expected_shapes({by_title[title]: layers[by_title[title]] for title in shown})
    # Features are interactive (tooltips, popups); accuracy rings are drawn with interactive=False.
    expect(frame.locator("path.leaflet-interactive")).to_have_count(expected["features"])
    expect(frame.locator(SHAPES)).to_have_count(expected["features"] + expected["rings"])


def test_no_request_leaves_the_machine_with_no_basemap(page, streamlit_url, browser_context):
    frame = _open_home(page, streamlit_url)
    frame.locator(".sj-layers").wait_for(state="attached")
    page.wait_for_timeout(500)
    requests = page.record.requests
    assert any(u.split("?")[0].endswith("/app/static/vendor/leaflet/leaflet.js") for u in requests), requests
    assert [u for u in requests if not is_local(u)] == []
    assert browser_context.network_log.blocked == []


def test_inline_html_draws_from_a_file_with_no_server_and_no_network(page, layers, tmp_path, expected_shapes):
    fmap = localize_assets(build_map(layers), mode="inline")  # measure and full screen come with build_map
    out = tmp_path / "map.html"
    out.write_text(fmap.get_root().render(), encoding="utf-8")
    page.goto(out.as_uri(), wait_until="load")
    from playwright.sync_api import expect

    expect(page.locator("path.leaflet-interactive")).to_have_count(expected_shapes["features"])
    expect(page.locator(SHAPES)).to_have_count(expected_shapes["features"] + expected_shapes["rings"])
    expect(page.locator(".leaflet-control-zoom-fullscreen")).to_be_visible()
    expect(page.locator(".leaflet-control-measure")).to_be_visible()
    assert page.record.page_errors == []
    assert page.record.console_errors == []
    assert [u for u in page.record.requests if not u.startswith(("file:", "data:"))] == []
