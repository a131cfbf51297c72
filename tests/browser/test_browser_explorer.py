"""The explorer in headless Chromium: every page, the Map page's shapes, search, shared links and pan → URL."""
from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from _browser import is_local  # the fixtures (streamlit_url, page, …) come from conftest.py
from test_browser import MAP, SHAPES, _expected_shapes

from layers.map.filters import LayerFilter, filter_layers

MAP_ROUTE = "/" + quote("地图_Map")
#: JS run in the page: the in-page map keeps its Leaflet map on its root element.
MAP_JS = "document.querySelector('.sj-map-root') && document.querySelector('.sj-map-root').__sj"
VIEW_JS = f"() => {{ const s = {MAP_JS}; const m = s && s.map; if (!m) return null; const c = m.getCenter(); " \
          "return {lat: c.lat, lon: c.lng, zoom: m.getZoom()}; }"


def _view(page) -> dict:
    page.locator(MAP).first.wait_for()
    return page.evaluate(VIEW_JS)


def _wait_for_shapes(page) -> None:
    page.locator(MAP).first.locator(SHAPES).first.wait_for(state="attached")


PAGE_TITLES = {"地图": "地图", "街镇统计": "街镇统计", "规划结构": "规划结构", "数据来源": "数据来源"}


@pytest.mark.parametrize("label", list(PAGE_TITLES))
def test_each_page_opened_from_the_sidebar_loads_with_no_console_errors(page, streamlit_url, label):
    page.goto(streamlit_url + "/", wait_until="domcontentloaded")
    _wait_for_shapes(page)  # the home page has drawn
    page.get_by_test_id("stSidebarNav").get_by_text(label, exact=True).click()
    page.get_by_role("heading", name=PAGE_TITLES[label], exact=True).first.wait_for()
    if label in ("地图", "街镇统计"):
        _wait_for_shapes(page)
    page.wait_for_timeout(1000)
    assert page.record.page_errors == []
    assert page.record.console_errors == []
    assert not page.get_by_test_id("stException").count()
    assert [u for u in page.record.requests if not is_local(u)] == []


def test_sidebar_names_the_home_page_in_the_page_language(page, streamlit_url):
    page.goto(streamlit_url + "/?lang=en", wait_until="domcontentloaded")
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_text("Home", exact=True).wait_for()
    assert nav.get_by_text("app", exact=True).count() == 0


def test_a_page_opened_at_its_own_address_finds_the_app_at_once(page, streamlit_url):
    """A shared link or a reload opens a page at its own address. Streamlit's page used to ask
    ``/地图_Map/_stcore/health`` first, get 404 and wait 100 ms before asking the root; the served page now names its
    base address (layers/app/serve.py), keeping a reverse proxy's path prefix."""
    base = "() => window.__streamlit && window.__streamlit.BACKEND_BASE_URL"
    page.goto(streamlit_url + MAP_ROUTE + "?rail_mode=tram", wait_until="domcontentloaded")
    _wait_for_shapes(page)
    probes = {urlsplit(u).path for u in page.record.requests if u.endswith(("/_stcore/health", "/_stcore/host-config"))}
    assert probes == {"/_stcore/health", "/_stcore/host-config"}
    assert page.evaluate(base) == streamlit_url + "/"
    assert page.record.console_errors == [] and page.record.page_errors == []
    page.goto(streamlit_url + "/?lang=en", wait_until="domcontentloaded")
    assert page.evaluate(base) == streamlit_url + "/"
    for path, expected in ((f"/songjiang/{quote('街镇_Towns')}", "/songjiang/"), ("/songjiang/", "/songjiang/")):
        page.goto(streamlit_url + path, wait_until="domcontentloaded")  # index.html, as a proxy would pass it on
        assert page.evaluate(base) == streamlit_url + expected, path
    page.goto("about:blank")


def test_map_page_draws_every_feature_and_makes_no_outside_request(page, streamlit_url, layers):
    page.goto(streamlit_url + MAP_ROUTE, wait_until="domcontentloaded")
    from playwright.sync_api import expect

    frame = page.locator(MAP).first
    expected = _expected_shapes(layers)
    expect(frame.locator("path.leaflet-interactive")).to_have_count(expected["features"])
    expect(frame.locator(SHAPES)).to_have_count(expected["features"] + expected["rings"])
    # Measure, full screen, scale bar and the grouped layer control are on the explorer map (the layer list
    # starts folded on screens narrower than 1500 px: open it).
    layer_list = frame.locator(".sj-layers")
    if not layer_list.evaluate("e => e.open"):
        layer_list.locator("summary").click()
    for control in (".leaflet-control-measure", ".sj-full", ".sj-copy", ".leaflet-control-scale", ".sj-group"):
        expect(frame.locator(control).first).to_be_visible()
    groups = [t.strip() for t in frame.locator(".sj-group").all_inner_texts()]
    assert set(groups) == {"规划结构", "片区", "行政区划", "交通", "产业"}
    assert [u for u in page.record.requests if not is_local(u)] == []
    assert page.record.page_errors == []


def test_a_shared_link_restores_layers_filters_and_view(page, streamlit_url, layers, catalog):
    link = f"{streamlit_url}{MAP_ROUTE}?lang=zh&layers=towns,stations&basemap=none&rail_line=L9&c=31.05,121.2&z=13"
    page.goto(link, wait_until="domcontentloaded")
    from playwright.sync_api import expect

    frame = page.locator(MAP).first
    shown = {"towns", "stations"}
    filtered = filter_layers({k: layers[k] for k in shown}, LayerFilter(rail_line=("L9",)))
    expected = _expected_shapes(filtered)
    assert 0 < len(filtered["stations"]) < len(layers["stations"])  # the filter really removes stops
    expect(frame.locator("path.leaflet-interactive")).to_have_count(expected["features"])
    checked = frame.locator(".sj-layers label:has(input:checked)")
    # text_content, not inner_text: the layer list may start folded (narrow screens), its labels then hidden.
    assert sorted(t.strip() for t in checked.all_text_contents()) == sorted(catalog.layer(i).title("zh") for i in shown)
    page.wait_for_timeout(500)
    view = _view(page)
    assert view["zoom"] == 13
    assert view["lat"] == pytest.approx(31.05, abs=1e-3) and view["lon"] == pytest.approx(121.2, abs=1e-3)
    # The sidebar shows the restored filter.
    page.get_by_test_id("stSidebar").get_by_text("轨道交通9号线").first.wait_for()  # sent once the map drew


LABELS_JS = """() => [...document.querySelectorAll('.sj-map-root .sj-label')]
  .filter((e) => e.style.visibility === 'visible')
  .map((e) => { const r = e.getBoundingClientRect();
                return {kind: e.classList.contains('sj-label-town') ? 'town' : 'station', text: e.textContent,
                        box: [r.left, r.top, r.right, r.bottom]}; })"""


def test_map_names_towns_and_only_the_stations_the_filter_keeps_without_overlap(page, streamlit_url, layers):
    # Zoom 13 on 泗泾/九亭 with rail line 9 only: station names appear from zoom 13, only for the line's stops.
    page.goto(f"{streamlit_url}{MAP_ROUTE}?lang=zh&layers=towns,stations&rail_line=L9&c=31.1,121.27&z=13",
              wait_until="domcontentloaded")
    _wait_for_shapes(page)
    page.wait_for_function(f"() => {{ const s = {MAP_JS}; return s && s.labelsPlaced; }}", timeout=10_000)
    labels = page.evaluate(LABELS_JS)
    kept = set(filter_layers(layers, LayerFilter(rail_line=("L9",)))["stations"]["name_zh"])
    dropped = set(layers["stations"]["name_zh"]) - kept
    stations = [lab["text"] for lab in labels if lab["kind"] == "station"]
    assert stations and set(stations) <= kept, stations
    assert not set(stations) & dropped
    assert any(lab["kind"] == "town" for lab in labels)
    boxes = [lab["box"] for lab in labels]
    for i, a in enumerate(boxes):  # no two names shown on top of each other
        for b in boxes[i + 1:]:
            assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1], (a, b)
    # Zoomed out below 13, the station names go and the town names stay.
    page.locator(MAP).first.locator(".leaflet-control-zoom-out").click()
    page.wait_for_timeout(800)
    kinds = {lab["kind"] for lab in page.evaluate(LABELS_JS)}
    assert kinds == {"town"}
    assert page.record.page_errors == []


def test_panning_the_map_writes_centre_and_zoom_into_the_address(page, streamlit_url):
    page.goto(streamlit_url + MAP_ROUTE, wait_until="domcontentloaded")
    _wait_for_shapes(page)
    page.wait_for_timeout(500)
    assert "c" not in parse_qs(urlsplit(page.url).query)  # no view written before the user moves the map
    frame = page.locator(MAP).first
    frame.locator(".leaflet-control-zoom-in").click()
    box = page.locator(MAP).first.bounding_box()
    page.mouse.move(box["x"] + 500, box["y"] + 300)
    page.mouse.down()
    page.mouse.move(box["x"] + 350, box["y"] + 220, steps=8)
    page.mouse.up()
    page.wait_for_function("() => new URL(location.href).searchParams.has('z')", timeout=10_000)
    page.wait_for_timeout(800)
    params = parse_qs(urlsplit(page.url).query)
    view = _view(page)
    lat, lon = (float(v) for v in params["c"][0].split(","))
    assert int(params["z"][0]) == view["zoom"] == 12
    assert lat == pytest.approx(view["lat"], abs=1e-4) and lon == pytest.approx(view["lon"], abs=1e-4)
    # The link opens on the same view in a fresh tab.
    other = page.context.new_page()
    try:
        other.goto(page.url, wait_until="domcontentloaded")
        _wait_for_shapes(other)
        other.wait_for_timeout(500)
        again = _view(other)
        assert again["zoom"] == 12
        assert again["lat"] == pytest.approx(lat, abs=1e-4) and again["lon"] == pytest.approx(lon, abs=1e-4)
    finally:
        other.close()


def test_searching_a_town_zooms_the_map_to_it(page, streamlit_url, layers):
    page.goto(streamlit_url + MAP_ROUTE, wait_until="domcontentloaded")
    _wait_for_shapes(page)
    start = _view(page)
    box = page.get_by_role("textbox", name="地点搜索")
    box.fill("sijing")  # pinyin, without the 镇 suffix
    box.press("Enter")
    page.get_by_text("已定位到：泗泾镇").wait_for()
    page.wait_for_function(
        f"() => {{ const s = {MAP_JS}; return s && s.map.getZoom() > {start['zoom']}; }}", timeout=15_000)
    view = _view(page)
    towns = layers["towns"]
    minx, miny, maxx, maxy = towns[towns["name_zh"] == "泗泾镇"].total_bounds
    assert miny <= view["lat"] <= maxy and minx <= view["lon"] <= maxx
    # The result is outlined on the map (a dashed red rectangle with the place's name).
    assert page.locator(MAP).first.locator('path[stroke="#e31a1c"]').count() >= 1


def test_uploading_your_own_layer_draws_it_and_summarises_it_per_town(page, streamlit_url, catalog, tmp_path):
    page.goto(streamlit_url + MAP_ROUTE + "?layers=towns", wait_until="domcontentloaded")
    _wait_for_shapes(page)
    upload = tmp_path / "my_lines.geojson"
    upload.write_bytes(catalog.layer("rail_lines").path.read_bytes())
    page.get_by_test_id("stSidebar").get_by_text("叠加自己的图层").click()
    page.get_by_test_id("stSidebar").locator("input[type=file]").set_input_files(str(upload))
    page.get_by_text("已叠加：my_lines.geojson").wait_for()
    frame = page.locator(MAP).first
    from playwright.sync_api import expect

    expect(frame.locator('path.leaflet-interactive[stroke="#6a3d9a"]')).to_have_count(7)  # 6 lines, one in 2 parts
    expect(frame.locator(".sj-group", has_text="我的图层")).to_have_count(1)
    page.get_by_text("自己的图层在各街镇的分布").first.wait_for()
    # …and it can be taken away as a GeoPackage with that summary (issue 16).
    page.get_by_role("button", name="下载自己的图层及其分街镇统计（GeoPackage）").wait_for()
    assert page.record.page_errors == []


def test_data_page_checks_an_uploaded_boundary_file_without_writing_anything(page, streamlit_url, catalog, tmp_path):
    import hashlib
    import json

    towns = json.loads(catalog.layer("towns").path.read_text(encoding="utf-8"))
    keep = [f for f in towns["features"] if f["properties"]["name_zh"] in ("佘山镇", "泖港镇")]
    for f in keep:  # a planner's file: its own attribute names, nothing of ours
        f["properties"] = {"NAME": f["properties"]["name_zh"].removesuffix("镇")}
    upload = tmp_path / "two_towns.geojson"
    upload.write_text(json.dumps({"type": "FeatureCollection", "features": keep}, ensure_ascii=False), encoding="utf-8")
    before = hashlib.sha256(catalog.layer("towns").path.read_bytes()).hexdigest()
    page.goto(streamlit_url + "/" + quote("数据_Data"), wait_until="domcontentloaded")
    page.get_by_role("heading", name="导入街镇边界").wait_for()
    page.get_by_test_id("stFileUploader").last.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_text("各街镇结果").wait_for()
    page.get_by_role("button", name="应用导入").wait_for()  # offered, not done
    assert hashlib.sha256(catalog.layer("towns").path.read_bytes()).hexdigest() == before
    assert page.record.page_errors == []


def test_a_shared_link_as_a_fresh_servers_first_request_opens_that_page_with_the_apps_navigation(page, tmp_path):
    """Streamlit runs ``pages/`` the old (v1) way until app.py has run once; the app must not depend on that."""
    from layers.app.server import running_app

    with running_app(tmp_path / "server.log") as url:
        page.goto(url + "/" + quote("数据_Data") + "?lang=en", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Data sources", exact=True).first.wait_for()
        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_text("Home", exact=True).wait_for()
        assert nav.get_by_text("app", exact=True).count() == 0


def test_uploading_a_hostile_own_layer_says_why_without_a_traceback_or_the_canary(page, streamlit_url, tmp_path):
    canary = tmp_path / "secret.csv"
    canary.write_text('WKT,name\n"POINT (121.2 31.0)",CANARY-b81e\n', encoding="utf-8")
    upload = tmp_path / "towns.kml"
    upload.write_text(f'<OGRVRTDataSource><OGRVRTLayer name="a"><SrcDataSource>{canary}</SrcDataSource>'
                      f"</OGRVRTLayer></OGRVRTDataSource>", encoding="utf-8")
    page.goto(streamlit_url + MAP_ROUTE + "?layers=towns", wait_until="domcontentloaded")
    _wait_for_shapes(page)
    page.get_by_test_id("stSidebar").get_by_text("叠加自己的图层").click()
    page.get_by_test_id("stSidebar").locator("input[type=file]").set_input_files(str(upload))
    page.get_by_text("无法显示此文件").wait_for()
    body = page.content()
    assert "CANARY-b81e" not in body and "Traceback" not in body and str(tmp_path) not in body
    assert page.record.page_errors == []


def test_uploading_a_geopackage_with_a_view_to_the_data_page_is_refused_quickly(page, streamlit_url, tmp_path):
    import sqlite3

    import geopandas as gpd
    import pyogrio
    from shapely.geometry import Polygon

    path = tmp_path / "slow.gpkg"
    frame = gpd.GeoDataFrame({"name": ["x"]}, geometry=[Polygon([(121.1, 31), (121.2, 31), (121.2, 31.1)])], crs=4326)
    pyogrio.write_dataframe(frame, path, driver="GPKG", layer="towns")
    with sqlite3.connect(path) as db:
        db.executescript("CREATE VIEW slow AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                         "SELECT i AS fid, NULL AS geom FROM n;"
                         "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                         "VALUES ('slow', 'features', 'slow', 4326);")
    page.goto(streamlit_url + "/" + quote("数据_Data"), wait_until="domcontentloaded")
    page.get_by_role("heading", name="导入街镇边界").wait_for()
    page.get_by_test_id("stFileUploader").last.locator("input[type=file]").set_input_files(str(path))
    page.get_by_text("无法导入").wait_for(timeout=60_000)
    assert "Traceback" not in page.content()
    assert page.record.page_errors == []
