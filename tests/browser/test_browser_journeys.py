"""Journeys on the in-page map, as a planner makes them: across pages, toggles, filters, clicks, basemaps, screens."""
from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from test_browser import MAP, SHAPES
from test_browser_explorer import MAP_JS, _view

from layers.map.basemaps import BASEMAPS

MAP_ROUTE = "/" + quote("地图_Map")


def _params(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _shapes(page) -> int:
    return page.locator(MAP).first.locator(SHAPES).count()


def _ready(page) -> None:
    page.locator(MAP).first.locator(SHAPES).first.wait_for(state="attached")
    page.wait_for_timeout(600)


def test_map_then_towns_then_map_keeps_layers_filters_and_view(page, streamlit_url):
    page.goto(streamlit_url + MAP_ROUTE + "?layers=towns,rail_lines,stations&rail_mode=tram", wait_until="load")
    _ready(page)
    shapes = _shapes(page)
    # The user zooms in and pans a little: that view must survive the trip to another page.
    page.locator(MAP).first.locator(".leaflet-control-zoom-in").click()
    page.wait_for_function("() => new URL(location.href).searchParams.has('z')", timeout=10_000)
    before = _view(page)
    page.get_by_test_id("stSidebarNav").get_by_text("街镇统计", exact=True).click()
    page.get_by_role("heading", name="街镇统计", exact=True).first.wait_for()
    page.get_by_test_id("stSidebarNav").get_by_text("地图", exact=True).click()
    page.get_by_role("heading", name="地图", exact=True).first.wait_for()
    _ready(page)
    assert _shapes(page) == shapes  # not emptied: the same layers and filter
    params = _params(page)
    assert params["layers"] == ["towns,rail_lines,stations"]
    assert params["rail_mode"] == ["tram"]
    after = _view(page)
    assert after["zoom"] == before["zoom"]
    assert after["lat"] == pytest.approx(before["lat"], abs=1e-4)
    assert page.record.page_errors == []


def test_the_in_map_layer_switch_changes_the_url_the_count_and_the_sidebar(page, streamlit_url, catalog):
    page.goto(streamlit_url + MAP_ROUTE, wait_until="load")
    _ready(page)
    count_before = page.get_by_text("当前显示").first.inner_text()
    box = page.locator(MAP).first.locator(".sj-layers")
    if not box.evaluate("e => e.open"):
        box.locator("summary").click()
    box.locator("input[data-layer=parks]").uncheck()
    page.wait_for_function("() => !new URL(location.href).searchParams.get('layers').includes('parks')",
                           timeout=15_000)
    page.wait_for_function("t => !document.body.innerText.includes(t)", arg=count_before, timeout=15_000)
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_by_text(catalog.layer("parks").title("zh"), exact=True).count() == 0
    assert sidebar.get_by_text(catalog.layer("stations").title("zh"), exact=True).count() >= 1
    assert page.record.page_errors == []


def test_a_filter_change_keeps_shapes_on_screen_and_the_view(page, streamlit_url):
    page.goto(streamlit_url + MAP_ROUTE + "?c=31.05,121.2&z=13", wait_until="load")
    _ready(page)
    page.evaluate(f"""() => {{
        window.__sjEmpty = 0;
        const count = () => document.querySelectorAll('{MAP} {SHAPES}').length;
        const tick = () => {{
            if (count() === 0) {{ window.__sjEmpty += 1; }}
            requestAnimationFrame(tick);
        }};
        tick();
    }}""")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("轨道方式").wait_for()
    select = sidebar.locator("[data-testid=stMultiSelect]").filter(has_text="轨道方式")
    select.locator("input").click()
    page.get_by_role("option", name="有轨电车").click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => new URL(location.href).searchParams.get('rail_mode') === 'tram'", timeout=15_000)
    page.wait_for_timeout(1200)
    assert page.evaluate("() => window.__sjEmpty") == 0  # never a frame without shapes
    view = _view(page)
    assert view["zoom"] == 13 and view["lat"] == pytest.approx(31.05, abs=1e-3)


def test_a_click_inside_sijing_lists_the_town_its_zone_and_nearby_stations(page, streamlit_url, layers):
    page.goto(streamlit_url + MAP_ROUTE, wait_until="load")
    _ready(page)
    towns = layers["towns"]
    point = towns[towns["name_zh"] == "泗泾镇"].geometry.iloc[0].representative_point()
    page.evaluate(f"""() => {{ const s = {MAP_JS}; const ll = L.latLng({point.y}, {point.x});
        s.map.fire('click', {{latlng: ll, layerPoint: s.map.latLngToLayerPoint(ll),
                              containerPoint: s.map.latLngToContainerPoint(ll)}}); }}""")
    page.get_by_text("点击位置").wait_for(timeout=15_000)
    panel = page.locator("[data-testid=stColumn]").filter(has_text="此处有什么")
    text = panel.inner_text()
    assert "泗泾镇" in text
    assert "产城融合" in text  # its zone
    assert "米" in text  # distances to the nearest stations
    assert page.record.page_errors == []


@pytest.mark.parametrize("basemap", sorted(BASEMAPS))
def test_every_basemap_with_a_focused_town_draws_with_tiles_blocked(page, streamlit_url, basemap):
    page.goto(streamlit_url + MAP_ROUTE + f"?basemap={basemap}&town=310117102", wait_until="load")
    _ready(page)
    assert page.locator(MAP).first.locator("path.leaflet-interactive").count() > 50
    if BASEMAPS[basemap].tiles:
        page.locator(MAP).first.locator(".sj-notice").wait_for(state="visible", timeout=15_000)
    assert page.record.page_errors == []
    assert not page.get_by_test_id("stException").count()


@pytest.mark.parametrize("size", [(390, 844), (1366, 768)])
def test_controls_leave_at_least_seventy_percent_of_the_visible_map_free(page, streamlit_url, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(streamlit_url + MAP_ROUTE, wait_until="load")
    _ready(page)
    page.locator(MAP).first.scroll_into_view_if_needed()
    covered = page.evaluate(f"""() => {{
        const root = document.querySelector('{MAP}');
        const r = root.getBoundingClientRect();
        const top = Math.max(r.top, 0), bottom = Math.min(r.bottom, window.innerHeight);
        const left = Math.max(r.left, 0), right = Math.min(r.right, window.innerWidth);
        const visible = Math.max(0, bottom - top) * Math.max(0, right - left);
        let hidden = 0;
        const step = 6;
        for (let x = left; x < right; x += step) {{
            for (let y = top; y < bottom; y += step) {{
                const e = document.elementFromPoint(x, y);
                if (e && (e.closest('.sj-controls, .sj-legend-slot, .leaflet-control'))) {{ hidden += step * step; }}
            }}
        }}
        return {{visible, hidden}};
    }}""")
    assert covered["visible"] > 0
    assert covered["hidden"] / covered["visible"] <= 0.30, covered


def test_pan_and_zoom_send_nothing_to_the_server(page, streamlit_url):
    sent: list[int] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(len(payload))))
    page.goto(streamlit_url + MAP_ROUTE, wait_until="load")
    _ready(page)
    page.wait_for_timeout(1500)  # the first runs are over
    assert sent  # the listener sees the page's own messages (its first run)
    before = len(sent)
    box = page.locator(MAP).first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 120, box["y"] + box["height"] / 2 - 60, steps=8)
    page.mouse.up()
    page.mouse.wheel(0, -300)
    page.wait_for_timeout(2000)
    assert _params(page).get("c")  # the view went into the address
    assert len(sent) == before  # and nothing to the server: no rerun


def test_clicking_the_choropleth_selects_the_town_and_puts_it_in_the_url(page, streamlit_url, layers):
    page.goto(streamlit_url + "/" + quote("街镇_Towns"), wait_until="load")
    _ready(page)
    towns = layers["towns"]
    row = towns[towns["name_zh"] == "泗泾镇"].iloc[0]
    point = row.geometry.representative_point()
    page.evaluate(f"""() => {{ const s = {MAP_JS}; const ll = L.latLng({point.y}, {point.x});
        s.map.fire('click', {{latlng: ll, layerPoint: s.map.latLngToLayerPoint(ll),
                              containerPoint: s.map.latLngToContainerPoint(ll)}}); }}""")
    page.wait_for_function(f"() => new URL(location.href).searchParams.get('town') === '{row['code']}'",
                           timeout=15_000)
    assert page.locator(MAP).count() == 2  # the choropleth and the chosen town's mini-map
    assert page.record.page_errors == []
