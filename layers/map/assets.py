"""Point the map's JS/CSS at vendored copies (or inline them) so it draws with no network at all."""
from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import branca.colormap
import folium
from branca.element import Element

from layers.core import paths
from layers.core.caches import cached
from layers.core.errors import AssetError

#: Where the vendored npm files live (one folder per package, LICENSE and package.json beside the files).
VENDOR_DIR = paths.STATIC_DIR / "vendor"
#: URL prefix Streamlit serves ``static/vendor`` under (``server.enableStaticServing``). It is root-relative:
#: the streamlit-folium component iframe has the app's origin, so it resolves there too.
SERVED_PREFIX = "/app/static/vendor/"

_ICON_FONTS = "icon fonts for folium.Icon markers: the map draws circle markers, so they are not vendored"

#: Every CDN URL folium 0.20 (and the plugins the explorer uses) may put in a map → file under VENDOR_DIR,
#: or None for an asset left out on purpose (the reason is in the comment; see also :func:`_check_unvendorable`).
#: Versions are the ones folium references; each package folder's package.json says which was vendored.
VENDORED: dict[str, str | None] = {
    # folium.Map
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/leaflet.css",
    # jQuery and Bootstrap serve folium's own popups, ajax layers and HTML widgets; our layers bind Leaflet's
    # tooltips and popups themselves (render.VectorLayer), so neither is loaded (~360 KB less per map).
    "https://code.jquery.com/jquery-3.7.1.min.js": None,
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": None,
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": None,
    # folium.Map, for folium.Icon only (_ICON_FONTS)
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": None,
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": None,
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": None,
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": None,
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": None,
    # folium.plugins.Fullscreen (npm leaflet.fullscreen@3.0.0 ships the unminified file only)
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js":
        "leaflet.fullscreen/Control.FullScreen.js",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css":
        "leaflet.fullscreen/Control.FullScreen.css",
    # folium.plugins.MeasureControl (npm leaflet-measure@2.1.7; its CSS is shipped unminified)
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js":
        "leaflet-measure/leaflet-measure.min.js",
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css":
        "leaflet-measure/leaflet-measure.css",
    # folium.plugins.GroupedLayerControl (npm leaflet-groupedlayercontrol@0.6.1): the layer control's groups
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.js":
        "leaflet-groupedlayercontrol/leaflet.groupedlayercontrol.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.css":
        "leaflet-groupedlayercontrol/leaflet.groupedlayercontrol.min.css",
}

_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


def vendored_file(rel: str) -> Path:
    """Absolute path of a vendored file given its path under ``static/vendor``."""
    return VENDOR_DIR / PurePosixPath(rel)


def _walk(element) -> Iterator:
    """The element and all its descendants, in render order."""
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from _walk(child)


#: folium elements whose code calls jQuery or Bootstrap, which the maps no longer load.
_NEEDS_JQUERY = (folium.GeoJsonPopup, folium.GeoJsonTooltip, folium.Popup)


def _check_unvendorable(fmap: folium.Map) -> None:
    """Refuse elements that would fetch assets outside ``default_js``/``default_css`` or that need dropped ones."""
    for element in _walk(fmap):
        if isinstance(element, _NEEDS_JQUERY):
            raise AssetError(f"{type(element).__name__} needs jQuery/Bootstrap, which the maps do not load; bind "
                             "tooltips and popups in the browser as layers.render.VectorLayer does")
        if isinstance(element, folium.Icon):
            raise AssetError(f"folium.Icon needs {_ICON_FONTS}; use a CircleMarker or vendor "
                             "Font Awesome and awesome-markers into static/vendor and add them to VENDORED")
        if isinstance(element, branca.colormap.ColorMap):
            raise AssetError("a branca colour map makes streamlit-folium load d3 from "
                             "https://d3js.org/d3.v4.min.js; draw the legend with layers.render.Legend instead")


def _local(url: str, owner: object, prefix: str) -> str | None:
    """Vendored relative path for ``url`` (None: dropped on purpose); AssetError for an unknown URL."""
    if url.startswith(prefix):  # already localised by an earlier call
        return url[len(prefix):]
    if url not in VENDORED:
        raise AssetError(f"{type(owner).__name__} loads {url}, which has no vendored copy: add the file "
                         "under static/vendor/ and its URL to layers.assets.VENDORED")
    rel = VENDORED[url]
    if rel is not None and not vendored_file(rel).is_file():
        raise AssetError(f"vendored file for {url} is missing: {vendored_file(rel)}")
    return rel


def _resolved(fmap: folium.Map, prefix: str) -> Iterator[tuple[object, str, list[tuple[str, str]]]]:
    """(element, "js"/"css", [(name, vendored path), ...]) for every element that declares assets."""
    _check_unvendorable(fmap)
    for element in _walk(fmap.get_root()):
        for kind in ("js", "css"):
            declared = getattr(element, f"default_{kind}", None)
            if declared:
                local = [(name, _local(url, element, prefix)) for name, url in declared]
                yield element, kind, [(name, rel) for name, rel in local if rel is not None]


def _serve(fmap: folium.Map, prefix: str) -> None:
    for element, kind, local in list(_resolved(fmap, prefix)):
        # An instance attribute: folium's class-level lists are shared by every map.
        setattr(element, f"default_{kind}", [(name, prefix + rel) for name, rel in local])


@cached(maxsize=64)
def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".svg":
        mime = "image/svg+xml"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@cached(maxsize=32)
def inline_css(rel: str) -> str:
    """A vendored stylesheet with every relative ``url(...)`` turned into a data: URI."""
    css_file = vendored_file(rel)
    text = css_file.read_text(encoding="utf-8")

    def embed(match: re.Match) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("data:", "#")):  # already inline; "#default#VML" is an old-IE behaviour name
            return match.group(0)
        if "://" in ref or ref.startswith("//"):
            raise AssetError(f"{rel} references {ref}, which would be fetched from the network")
        target = (css_file.parent / ref.split("?")[0].split("#")[0]).resolve()
        if not target.is_file() or VENDOR_DIR.resolve() not in target.parents:
            raise AssetError(f"{rel} references {ref}, which is not vendored ({target})")
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(embed, text)


class InlineAsset(Element):
    """A ``<script>`` or ``<style>`` block holding a vendored file's text (rendered verbatim, not as a template)."""

    def __init__(self, kind: str, text: str):
        super().__init__()
        self.kind = kind
        self.text = text

    def render(self, **kwargs) -> str:
        if self.kind == "js":
            # "</script" inside the code would end the block early; "<\/" means the same inside JS strings.
            return "<script>" + re.sub(r"</(script)", r"<\\/\1", self.text, flags=re.I) + "</script>"
        return "<style>" + re.sub(r"</(style)", r"<\\/\1", self.text, flags=re.I) + "</style>"


def _inline(fmap: folium.Map, prefix: str) -> None:
    header = fmap.get_root().header
    done: set[str] = set()
    for element, kind, local in list(_resolved(fmap, prefix)):
        for name, rel in local:
            if rel in done:
                continue
            done.add(rel)
            text = inline_css(rel) if kind == "css" else vendored_file(rel).read_text(encoding="utf-8")
            header.add_child(InlineAsset(kind, text), name=f"inline_{name}")
        setattr(element, f"default_{kind}", [])


_MODES: dict[str, Callable[[folium.Map, str], None]] = {"served": _serve, "inline": _inline}


def localize_assets(fmap: folium.Map, *, mode: str = "served", prefix: str = SERVED_PREFIX) -> folium.Map:
    """Make ``fmap`` load no JS/CSS from the network; call it after every element has been added.

    Parameters
    ----------
    fmap
        The map; it and all its descendants are changed in place (instance attributes only).
    mode
        "served": asset URLs become ``prefix`` + vendored path (Streamlit serves ``static/`` at
        ``/app/static/``). "inline": file contents go into the page header, CSS images as data: URIs,
        for a self-contained HTML file.
    prefix
        URL prefix of ``static/vendor/`` in "served" mode.

    Raises
    ------
    AssetError
        An element loads a URL with no vendored copy, or needs an asset left out on purpose.
    """
    if mode not in _MODES:
        raise AssetError(f"unknown asset mode {mode!r}; choose one of {', '.join(_MODES)}")
    _MODES[mode](fmap, prefix)
    return fmap
