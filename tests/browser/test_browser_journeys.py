"""Journeys on the in-page map, as a planner makes them: across pages, toggles, filters, clicks, basemaps, screens."""
from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from test_browser import MAP, SHAPES, _expected_shapes
from test_browser_explorer import MAP_JS, _view

from layers.core.catalog import get_catalog
from layers.map.basemaps import BASEMAPS
from layers.map.filters import LayerFilter, filter_layers, filter_options
from layers.map.render import legend_records
from layers.map.style import legend_entries

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
    from playwright.sync_api import expect

    sidebar = page.get_by_test_id("stSidebar")
    # The sidebar is drawn after the count in the same rerun: wait for it rather than read it at the count's change.
    expect(sidebar.get_by_text(catalog.layer("parks").title("zh"), exact=True)).to_have_count(0, timeout=15_000)
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


#: Click one of the in-map filter's boxes and report, at the next animation frame (before any rerun could answer),
#: the map's interactive shapes; also count frames without any shape from then on.
CLICK_FILTER_JS = f"""([key, value]) => new Promise((resolve) => {{
    const root = document.querySelector('{MAP}');
    const box = root.querySelector(`.sj-filters input[data-filter="${{key}}"][value="${{value}}"]`);
    box.click();
    requestAnimationFrame(() => resolve({{shapes: root.querySelectorAll('path.leaflet-interactive').length}}));
}})"""


def test_a_filter_changed_in_the_map_is_drawn_at_once_and_the_page_follows(page, streamlit_url, layers):
    """The in-map filter redraws in the next frame from the spec's filter index, exactly the shapes the server's
    filter keeps; the address, the count, the sidebar and the view follow; no frame is left without shapes."""
    shown = ("towns", "rail_lines", "stations", "parks")
    page.goto(streamlit_url + MAP_ROUTE + f"?layers={','.join(shown)}&c=31.05,121.2&z=12", wait_until="load")
    _ready(page)
    page.evaluate(f"""() => {{
        window.__sjEmpty = 0;
        const tick = () => {{
            if (document.querySelectorAll('{MAP} {SHAPES}').length === 0) {{ window.__sjEmpty += 1; }}
            requestAnimationFrame(tick);
        }};
        tick();
    }}""")
    page.locator(MAP).first.locator(".sj-filters summary").click()
    options = filter_options(layers)
    steps = [("rail_mode", "tram"), ("park_kind", options["park_kind"][0]), ("town", "310117102")]
    chosen: dict[str, tuple[str, ...]] = {}
    counts = []
    for key, value in steps:
        chosen[key] = (*chosen.get(key, ()), value)
        kept = filter_layers({k: layers[k] for k in shown}, LayerFilter(**chosen))
        expected = _expected_shapes(kept)["features"]
        drawn = page.evaluate(CLICK_FILTER_JS, [key, value])
        assert drawn["shapes"] == expected, (key, value)  # drawn at once, as the server filters
        counts.append(expected)
        param = "f_town" if key == "town" else key  # `town` in the address is the focused town
        page.wait_for_function("([k, v]) => (new URL(location.href).searchParams.get(k) || '').split(',').includes(v)",
                               arg=[param, value], timeout=15_000)
        total = sum(len(v) for v in kept.values())
        page.get_by_text(f"当前显示 {total} 个要素").first.wait_for(timeout=15_000)
    assert len(set(counts)) == len(counts)  # each step changed what the map shows
    rail = get_catalog().layer("rail_lines")
    kept_rail = filter_layers({"rail_lines": layers["rail_lines"]}, LayerFilter(**chosen))["rail_lines"]
    rows = page.locator(MAP).first.locator(".sj-legend-row[data-layer=rail_lines]")
    shown_rows = rows.evaluate_all("els => els.filter((e) => e.style.display !== 'none').length")
    assert shown_rows == len(legend_entries(rail, legend_records(rail, kept_rail), get_catalog(), "zh"))
    assert 0 < shown_rows < rows.count()  # the legend follows the filter: the lines left out are not listed
    page.get_by_test_id("stSidebar").get_by_text("有轨电车").first.wait_for()  # the sidebar's filter follows
    assert page.locator(MAP).first.locator(".sj-filters summary").inner_text().endswith("(3)")
    page.locator(MAP).first.locator(".sj-clear").click()
    page.wait_for_function("() => !new URL(location.href).searchParams.has('rail_mode')", timeout=15_000)
    everything = _expected_shapes({k: layers[k] for k in shown})["features"]
    assert page.locator(MAP).first.locator("path.leaflet-interactive").count() == everything
    assert page.evaluate("() => window.__sjEmpty") == 0
    view = _view(page)
    assert view["zoom"] == 12 and view["lat"] == pytest.approx(31.05, abs=1e-3)
    assert page.record.page_errors == []


def test_a_rerun_with_the_same_map_leaves_the_map_as_it_is(page, streamlit_url):
    """Choosing a download format reruns the page; the map's data is the same, so the component is not drawn again:
    its shapes, names and panels stay the very same elements (a map spec that changed on every run, e.g. by a time
    stamp, would rebuild them all)."""
    page.goto(streamlit_url + MAP_ROUTE, wait_until="load")
    _ready(page)
    page.evaluate(f"""() => {{
        const root = document.querySelector('{MAP}');
        for (const sel of ['.sj-layers', '.sj-legend', '.sj-copy', '{SHAPES}', '.sj-label']) {{
            root.querySelector(sel).__kept = true;
        }}
        window.__runs = () => performance.getEntriesByName('notRunning').length;
        window.__before = window.__runs();
    }}""")
    page.get_by_text("下载图层（GIS 格式）").first.click()
    box = page.get_by_test_id("stSelectbox").filter(has_text="格式").first.get_by_role("combobox")
    box.scroll_into_view_if_needed()
    box.click()
    for _ in range(20):  # a click may only focus the box (the list then opens on ArrowDown)
        if box.get_attribute("aria-expanded") == "true":
            break
        box.press("ArrowDown")
        page.wait_for_timeout(250)
    page.get_by_role("option", name="GeoPackage").click()
    page.wait_for_function("() => window.__runs() > window.__before", timeout=15_000)
    page.wait_for_timeout(800)
    kept = page.evaluate(f"""() => ['.sj-layers', '.sj-legend', '.sj-copy', '{SHAPES}', '.sj-label'].map(
        (sel) => !!document.querySelector('{MAP} ' + sel).__kept)""")
    assert kept == [True] * 5
    assert page.record.page_errors == []


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
    from playwright.sync_api import expect

    expect(page.locator(MAP)).to_have_count(2)  # the choropleth and the chosen town's mini-map
    # Both maps name what they show: every town on the choropleth, the chosen town on its mini-map.
    page.wait_for_function(f"() => [...document.querySelectorAll('{MAP}')].every((r) => r.__sj && r.__sj.labelsPlaced)",
                           timeout=15_000)
    named = page.evaluate(f"""() => [...document.querySelectorAll('{MAP}')].map((r) =>
        [...r.querySelectorAll('.sj-label-town')].filter((e) => e.style.visibility === 'visible')
            .map((e) => e.textContent))""")
    assert len(named[0]) >= len(towns) // 2 and set(named[0]) <= set(towns["name_zh"]), named[0]
    assert "泗泾镇" in named[1]
    assert page.record.page_errors == []


# ---- Map first (the gate) -----------------------------------------------------------------------------------------
#: Installed before the page loads: records, at the first frame with a shape on the map, whether any sidebar
#: widget but the language switch was there, and where the map stood.
_FIRST_SHAPE_JS = f"""() => {{
    const look = () => {{
        const shape = document.querySelector('{MAP} {SHAPES}');
        if (shape && !window.__sjFirst) {{
            const box = document.querySelector('{MAP}').getBoundingClientRect();
            window.__sjFirst = {{
                widgets: document.querySelectorAll('[data-testid=stSidebar] [data-testid=stMultiSelect],'
                    + ' [data-testid=stSidebar] [data-testid=stSelectbox], [data-testid=stTextInput]').length,
                top: box.top + window.scrollY, left: box.left, width: box.width }};
            return;
        }}
        requestAnimationFrame(look);
    }};
    document.addEventListener('DOMContentLoaded', look);
}}"""


def _sidebar_widgets(page):
    return page.get_by_test_id("stSidebar").locator("[data-testid=stMultiSelect]")


def test_the_map_draws_first_and_the_rest_follows_without_moving_it(page, streamlit_url):
    page.add_init_script(f"({_FIRST_SHAPE_JS})()")
    page.goto(streamlit_url + MAP_ROUTE + "?town=310117107", wait_until="load")
    page.wait_for_function("() => window.__sjFirst", timeout=30_000)
    first = page.evaluate("() => window.__sjFirst")
    assert first["widgets"] == 0  # nothing but the map (and the light text above it) had been sent
    _sidebar_widgets(page).first.wait_for()  # the rest followed: filters, search, profile, downloads
    page.get_by_role("textbox", name="地点搜索").wait_for()
    page.get_by_text("街镇档案：九亭镇").wait_for()
    page.wait_for_timeout(500)
    box = page.evaluate(f"() => {{ const r = document.querySelector('{MAP}').getBoundingClientRect();"
                        " return {top: r.top + window.scrollY, left: r.left, width: r.width}; }")
    assert box == pytest.approx({k: first[k] for k in box}, abs=1)  # no jump: the map stayed where it was first drawn
    assert page.record.page_errors == []


@pytest.mark.parametrize("how", ["error", "hang"])
def test_with_the_map_failing_the_page_still_appears(page, streamlit_url, how):
    # Leaflet refused (the map says it failed at once) or never answering (the time limit opens the page).
    page.route("**/vendor/leaflet/leaflet.js",
               (lambda route: route.abort()) if how == "error" else (lambda route: None))
    page.goto(streamlit_url + MAP_ROUTE, wait_until="domcontentloaded")
    _sidebar_widgets(page).first.wait_for(timeout=40_000)
    page.get_by_role("textbox", name="地点搜索").wait_for()
    assert page.get_by_text("当前显示").count() >= 1
    if how == "error":
        assert page.locator(MAP).first.get_attribute("data-failed") == "1"
    assert not page.get_by_test_id("stException").count()


# ---- A copied link restores everything ---------------------------------------------------------------------------
def _unique_station(layers):
    """A station the search finds by its own name alone (one hit)."""
    from layers.map.search import build_gazetteer, search_places

    gazetteer = build_gazetteer(layers)
    for row in layers["stations"].to_dict("records"):
        hits = search_places(gazetteer, row["name_zh"])
        if len(hits) == 1 and hits[0].feature_id == row["id"]:
            return row
    raise AssertionError("no station with a unique name")


def _click_at(page, lat: float, lon: float) -> None:
    page.evaluate(f"""() => {{ const s = {MAP_JS}; const ll = L.latLng({lat}, {lon});
        s.map.fire('click', {{latlng: ll, layerPoint: s.map.latLngToLayerPoint(ll),
                              containerPoint: s.map.latLngToContainerPoint(ll)}}); }}""")


def test_a_copied_link_restores_layers_filters_basemap_town_selection_and_view(page, streamlit_url, layers, catalog):
    page.goto(streamlit_url + MAP_ROUTE + "?layers=towns,rail_lines,stations&rail_status=open&basemap=positron",
              wait_until="load")
    _ready(page)
    station = _unique_station(layers)
    box = page.get_by_role("textbox", name="地点搜索")
    box.fill(station["name_zh"])
    box.press("Enter")
    page.wait_for_function(f"() => new URL(location.href).searchParams.get('sel') === 'stations:{station['id']}'",
                           timeout=15_000)
    page.wait_for_function(f"() => {MAP_JS}.map.getZoom() >= 15", timeout=15_000)  # the map went to the station
    page.wait_for_timeout(500)
    towns = layers["towns"]
    sijing = towns[towns["name_zh"] == "泗泾镇"].iloc[0]
    point = sijing.geometry.representative_point()
    page.evaluate(f"() => {MAP_JS}.map.setView([{point.y}, {point.x}], 13)")  # the user moves there…
    _click_at(page, point.y, point.x)                                        # …and clicks the town
    page.wait_for_function(f"() => new URL(location.href).searchParams.get('town') === '{sijing['code']}'",
                           timeout=15_000)
    page.get_by_text("街镇档案：泗泾镇").wait_for()
    page.wait_for_timeout(800)
    before = _view(page)
    assert before["zoom"] == 13  # the click selected the town without moving the map
    page.locator(MAP).first.locator(".sj-copy").click()
    link = page.locator(MAP).first.locator(".sj-copy").get_attribute("data-link")
    params = parse_qs(urlsplit(link).query)
    assert params["sel"] == [f"stations:{station['id']}"] and params["town"] == [str(sijing["code"])]
    assert params["layers"] == ["towns,rail_lines,stations"] and params["rail_status"] == ["open"]
    assert params["basemap"] == ["positron"] and params["z"] == ["13"]

    fresh = page.context.fresh()
    try:
        other = fresh.new_page()
        errors: list[str] = []
        other.on("pageerror", lambda exc: errors.append(str(exc)))
        other.goto(link, wait_until="load")
        _ready(other)
        other.get_by_text("街镇档案：泗泾镇").wait_for()
        other.get_by_text(f"已选中：{catalog.layer('stations').title('zh')} · {station['name_zh']}").wait_for()
        other.locator(MAP).first.locator(".sj-notice").wait_for(state="visible")  # positron's tiles: blocked
        checked = other.locator(MAP).first.locator(".sj-layers input:checked")
        assert sorted(c.get_attribute("data-layer") for c in checked.all()) == ["rail_lines", "stations", "towns"]
        other.get_by_test_id("stSidebar").get_by_text("已开通").first.wait_for()  # the filter, in the sidebar
        after = _view(other)
        assert after["zoom"] == before["zoom"]
        assert after["lat"] == pytest.approx(before["lat"], abs=1e-4)
        assert after["lon"] == pytest.approx(before["lon"], abs=1e-4)
        assert parse_qs(urlsplit(other.url).query)["sel"] == [f"stations:{station['id']}"]
        assert errors == []
    finally:
        fresh.browser.close()


#: Notes, frame by frame, when the served page's preview and the live map first hold shapes, and the preview then.
PREVIEW_WATCH = """(() => {
  if (window.top !== window) { return; }
  const seen = window.__seen = {};
  const box = (nodes) => {
    const r = [...nodes].map((n) => n.getBoundingClientRect());
    return r.length ? [Math.min(...r.map((b) => b.left)), Math.min(...r.map((b) => b.top)),
                       Math.max(...r.map((b) => b.right)), Math.max(...r.map((b) => b.bottom))] : null;
  };
  const tick = () => {
    const preview = document.querySelector('#sj-preview');
    if (!seen.preview && preview && preview.querySelector('path')) {
      const r = preview.getBoundingClientRect();
      seen.preview = {t: performance.now(), rect: [r.left, r.top, r.width, r.height],
                      shapes: preview.querySelectorAll('path.leaflet-interactive').length,
                      extent: box(preview.querySelectorAll('path.leaflet-interactive'))};
    }
    if (!seen.live && document.querySelector('.sj-map-root path')) {
      seen.live = {t: performance.now(), previewShown: Boolean(document.querySelector('#sj-preview path'))};
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""


def test_a_second_visit_shows_the_map_it_drew_before_at_once_then_the_live_map_in_its_place(page, streamlit_url,
                                                                                           browser_context):
    """The served page draws the map this browser drew last time at the same address (same place, view and shapes)
    before Streamlit has started; the live map then takes its place. Another address gets no preview."""
    address = streamlit_url + MAP_ROUTE + "?layers=towns,rail_lines,stations&rail_line=L9&c=31.03,121.22&z=11"
    page.goto(address, wait_until="load")
    _ready(page)
    page.wait_for_timeout(500)
    again = browser_context.new_page()
    errors: list[str] = []
    again.on("pageerror", lambda exc: errors.append(str(exc)))
    again.add_init_script(PREVIEW_WATCH)
    again.goto(address, wait_until="commit")
    again.wait_for_function("() => window.__seen && window.__seen.live", timeout=30_000)
    _ready(again)
    seen = again.evaluate("() => window.__seen")
    assert seen.get("preview"), "no preview drawn on the second visit"
    assert seen["preview"]["t"] < seen["live"]["t"]
    live = again.locator(MAP).first
    box = live.bounding_box()
    assert seen["preview"]["rect"] == pytest.approx([box["x"], box["y"], box["width"], box["height"]], abs=1.5)
    shapes = live.locator("path.leaflet-interactive")
    assert seen["preview"]["shapes"] == shapes.count() > 0  # the same features, the filter applied
    extent = shapes.evaluate_all("""els => { const r = els.map((e) => e.getBoundingClientRect());
        return [Math.min(...r.map((b) => b.left)), Math.min(...r.map((b) => b.top)),
                Math.max(...r.map((b) => b.right)), Math.max(...r.map((b) => b.bottom))]; }""")
    assert seen["preview"]["extent"] == pytest.approx(extent, abs=2)  # the same view
    again.wait_for_function("() => !document.querySelector('#sj-preview')", timeout=5_000)  # the live map took over
    assert errors == []
    again.close()
    other = browser_context.new_page()
    other.add_init_script(PREVIEW_WATCH)
    other.goto(address.replace("z=11", "z=12"), wait_until="commit")
    other.wait_for_function("() => window.__seen && window.__seen.live", timeout=30_000)
    assert not other.evaluate("() => window.__seen.preview")  # another address: no preview
    other.close()
