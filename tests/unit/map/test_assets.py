"""Map assets come from static/vendor (served or inlined), never from a CDN."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import folium
import folium.plugins
import pytest
from folium.elements import JSCSSMixin

from layers.core.errors import AssetError
from layers.map.assets import SERVED_PREFIX, VENDOR_DIR, VENDORED, inline_css, localize_assets, vendored_file
from layers.map.basemaps import BASEMAPS
from layers.map.render import build_map

ASSET_ATTR_RE = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
CSS_REMOTE_URL_RE = re.compile(r"""url\(\s*["']?(?:https?:)?//""", re.I)
#: The plugins the explorer page adds on top of build_map.
EXPLORER_PLUGINS = (folium.plugins.Fullscreen, folium.plugins.MeasureControl, folium.plugins.GroupedLayerControl)


class _AttributeCollector(HTMLParser):
    """Every src/href attribute of the markup (script and style bodies are text, not markup)."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [(tag, name, value or "") for name, value in attrs if name in ("src", "href")]


def _attribute_urls(html: str) -> list[tuple[str, str, str]]:
    parser = _AttributeCollector()
    parser.feed(html)
    return parser.urls


def _explorer_map(layers, **kwargs) -> folium.Map:
    return localize_assets(build_map(layers, **kwargs))  # the explorer's plugins come with build_map


@pytest.fixture(scope="module")
def served_html(layers) -> str:
    return _explorer_map(layers).get_root().render()


@pytest.fixture(scope="module")
def inline_html(layers) -> str:
    return localize_assets(build_map(layers), mode="inline").get_root().render()


@pytest.fixture
def plugin_from_an_unknown_cdn():
    class Sparkles(JSCSSMixin):
        default_js = [("sparkles", "https://cdn.example.org/sparkles@1.0.0/sparkles.min.js")]

    return Sparkles()


def test_build_map_output_loads_every_asset_from_static_vendor(layers):
    html = _explorer_map(layers).get_root().render()
    urls = [value for tag, _, value in _attribute_urls(html) if tag in ("script", "link")]
    assert urls and all(u.startswith(SERVED_PREFIX) for u in urls), urls
    assert f'src="{SERVED_PREFIX}leaflet/leaflet.js"' in html


def test_no_http_asset_url_remains_after_localisation(served_html):
    assert not ASSET_ATTR_RE.search(served_html)
    assert not CSS_REMOTE_URL_RE.search(served_html)
    for plugin_file in ("leaflet.fullscreen/Control.FullScreen.js", "leaflet-measure/leaflet-measure.min.js",
                        "leaflet-groupedlayercontrol/leaflet.groupedlayercontrol.min.js"):
        assert SERVED_PREFIX + plugin_file in served_html


@pytest.mark.parametrize("basemap", [b for b, spec in BASEMAPS.items() if spec.tiles])
def test_an_online_basemap_adds_only_its_tile_url(layers, basemap):
    html = _explorer_map(layers, basemap=basemap).get_root().render()
    assert not ASSET_ATTR_RE.search(html)
    code = re.sub(r"^\s*//.*$", "", html, flags=re.M)  # folium's measure template cites an issue URL in a comment
    remote = {u.replace("\\u0026", "&") for u in re.findall(r"https?://[^\"'\s]+", code)}
    assert remote == {BASEMAPS[basemap].tiles}


@pytest.mark.parametrize("url", sorted(u for u, rel in VENDORED.items() if rel))
def test_every_mapped_file_exists_is_non_empty_and_is_the_version_folium_asks_for(url):
    path = vendored_file(VENDORED[url])
    assert path.is_file() and path.stat().st_size > 0, path
    package_dir = VENDOR_DIR / VENDORED[url].split("/")[0]
    assert list(package_dir.glob("LICENSE*")), f"no LICENSE beside {path}"
    version = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))["version"]
    assert re.search(rf"[@/-]{re.escape(version)}[/.]", url), f"{url} is not version {version}"


def test_every_url_folium_and_the_explorer_plugins_declare_is_mapped():
    declared = [url for cls in (folium.Map, *EXPLORER_PLUGINS) for _, url in cls.default_js + cls.default_css]
    assert [u for u in declared if u not in VENDORED] == []


def test_vendored_stylesheets_reference_only_vendored_files():
    for rel in {r for r in VENDORED.values() if r and r.endswith(".css")}:
        text = vendored_file(rel).read_text(encoding="utf-8")
        for ref in re.findall(r"""url\(\s*["']?([^"')]+)""", text):
            if not ref.startswith(("data:", "#")):
                assert (vendored_file(rel).parent / ref).is_file(), f"{rel} needs {ref}"


def test_an_unknown_plugin_url_raises_asset_error_naming_it(layers, plugin_from_an_unknown_cdn):
    fmap = build_map(layers)
    plugin_from_an_unknown_cdn.add_to(fmap)
    with pytest.raises(AssetError, match=re.escape("https://cdn.example.org/sparkles@1.0.0/sparkles.min.js")):
        localize_assets(fmap)


def test_folium_popups_needing_jquery_are_refused(layers):
    fmap = build_map(layers)
    folium.Marker([31.03, 121.22], popup=folium.Popup("x")).add_to(fmap)
    with pytest.raises(AssetError, match="jQuery"):
        localize_assets(fmap)


def test_a_plugin_folium_ships_but_we_did_not_vendor_is_refused(layers):
    fmap = build_map(layers)
    folium.plugins.MiniMap().add_to(fmap)
    with pytest.raises(AssetError, match="MiniMap"):
        localize_assets(fmap, mode="inline")


def test_an_icon_marker_is_refused_because_its_fonts_are_not_vendored(layers):
    fmap = build_map(layers)
    folium.Marker([31.03, 121.22], icon=folium.Icon(icon="info-sign")).add_to(fmap)
    with pytest.raises(AssetError, match="folium.Icon"):
        localize_assets(fmap)


def test_an_unknown_mode_is_refused(layers):
    with pytest.raises(AssetError, match="unknown asset mode"):
        localize_assets(build_map(layers), mode="cdn")


def test_localising_one_map_leaves_folium_defaults_for_other_maps(layers):
    build_map(layers)
    assert folium.Map.default_js[0][1].startswith("https://")
    assert folium.plugins.Fullscreen.default_css[0][1].startswith("https://")


def test_inline_mode_has_no_http_src_or_href_in_the_markup(inline_html):
    assert [u for u in _attribute_urls(inline_html) if re.match(r"(?:https?:)?//", u[2])] == []
    assert [u for u in _attribute_urls(inline_html) if u[0] in ("script", "link")] == []
    assert SERVED_PREFIX not in inline_html
    assert not CSS_REMOTE_URL_RE.search(inline_html)
    # The one literal 'href="http' left is inside Leaflet's code: its attribution link, text not a request.
    outside_scripts = re.sub(r"<script>.*?</script>", "", inline_html, flags=re.S)
    assert 'src="http' not in outside_scripts and 'href="http' not in outside_scripts


def test_inline_mode_embeds_each_library_once_and_css_images_as_data_uris(inline_html):
    assert inline_html.count("Leaflet 1.9.3") == 1  # leaflet.js banner
    assert inline_html.count("leaflet-measure") >= 1 and "Fullscreen" in inline_html
    # jQuery and Bootstrap are not needed (Leaflet's own tooltips and popups): not loaded at all.
    assert "jQuery v3.7.1" not in inline_html and "Bootstrap" not in inline_html
    assert "url(images/" not in inline_html and "url(icon-fullscreen.svg)" not in inline_html
    assert 'url("data:image/png;base64,' in inline_html
    assert 'url("data:image/svg+xml;base64,' in inline_html


def test_inline_css_refuses_a_reference_outside_the_vendor_folder(tmp_path, monkeypatch):
    from layers.map import assets as assets

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "evil.css").write_text("a{background:url(../../etc/passwd)}", encoding="utf-8")
    monkeypatch.setattr(assets, "VENDOR_DIR", tmp_path)
    inline_css.cache_clear()
    try:
        with pytest.raises(AssetError, match="not vendored"):
            inline_css("pkg/evil.css")
    finally:
        inline_css.cache_clear()
