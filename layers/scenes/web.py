"""Meeting scenes on screen: the scene web map, its self-contained offline HTML and its spec for the Present page."""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd

from layers.core import settings
from layers.core.catalog import Catalog, get_catalog
from layers.core.errors import AssetError, SceneError
from layers.core.files import atomic_output
from layers.core.i18n import LANGS
from layers.map.assets import localize_assets
from layers.map.elements import Legend, legend_html, safe_text
from layers.map.render import add_fullscreen, add_layer, new_map
from layers.map.spec import map_spec
from layers.scenes.chrome import SceneChrome, SceneLabel
from layers.scenes.frame import (
    FAINT,
    FAINT_WEIGHT,
    FOCUS_EDGE,
    FOCUS_FILL_OPACITY,
    FOCUS_WEIGHT,
    NO_ZONE_FILL,
    TEXT,
    SceneFrame,
    label_text,
    prepare_frame,
    scene_titles,
    source_lines,
)
from layers.scenes.legend import legend_sections
from layers.scenes.model import get_scene

#: XML namespace names: identifiers inside Leaflet's and Bootstrap's code that are compared, never fetched.
NAMESPACE_URIS = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink", "http://www.w3.org/1999/xhtml")
_NOT_A_NAMESPACE = r"(?!www\.w3\.org/(?:2000/svg|1999/xlink|1999/xhtml)(?![\w/.-]))"
_SCHEME = re.compile(r"https?://" + _NOT_A_NAMESPACE, re.I)
_FOREIGN_URL = re.compile(r"https?://" + _NOT_A_NAMESPACE + r"[^\s\"'<>()`\\]*", re.I)
#: A tag that would load something from another host by a protocol-relative address.
_REMOTE_TAG = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?//", re.I)
#: Pack formats, in the order files are listed.
PACK_FORMATS = ("png", "pdf", "html")
MIME = {"png": "image/png", "pdf": "application/pdf", "html": "text/html", "zip": "application/zip"}
#: Leaflet options of the scene map that the Present page's in-page scene takes over.
PAGE_MAP_OPTIONS = ("zoomSnap", "zoomDelta", "zoomAnimation", "keyboard", "attributionControl")


def _fade(style: dict[str, Any]) -> dict[str, Any]:
    """A faint layer: the same look with less opacity and thinner outlines, as on the printed page."""
    out = dict(style)
    for key in ("opacity", "fillOpacity"):
        if key in out:
            out[key] = out[key] * FAINT
    if "weight" in out:
        out["weight"] = out["weight"] * FAINT_WEIGHT
    return out


def _focus(fill: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The chosen town of a close-up: filled with its zone's colour, a dark, heavy outline."""
    def restyle(style: dict[str, Any]) -> dict[str, Any]:
        return {**style, "fillColor": fill, "fillOpacity": FOCUS_FILL_OPACITY, "color": FOCUS_EDGE,
                "weight": style.get("weight", 1.0) * FOCUS_WEIGHT, "opacity": 0.95}
    return restyle


def _labels(frame: SceneFrame, lang: str) -> list[SceneLabel]:
    """Names to write on the map, ranked like the printed page: the chosen town, then the top layer first."""
    labels: list[SceneLabel] = []
    focus_code = str(frame.town["code"]) if frame.town is not None else None
    view = gpd.GeoSeries([frame.view], crs=settings.MEASURE_CRS)
    for priority, (scene_layer, spec, gdf) in enumerate(reversed(frame.layers)):
        if not scene_layer.labels or gdf.empty:
            continue
        anchors = []
        for geom in gdf.geometry:
            if geom is None or geom.is_empty:
                anchors.append(None)
            elif spec.geometry == "point":
                anchors.append(geom.representative_point())
            else:
                # Name the part inside the view, so a neighbour cut by the frame is still named.
                inside = geom.intersection(view.iloc[0])
                anchors.append((inside if not inside.is_empty else geom).representative_point())
        points = gpd.GeoSeries(anchors, crs=settings.MEASURE_CRS).to_crs(settings.WGS84)
        for props, point in zip(gdf.drop(columns="geometry").to_dict("records"), points, strict=True):
            text = label_text(spec.id, props, lang)
            if not text or point is None or point.is_empty:
                continue
            focus = focus_code is not None and str(props.get("code")) == focus_code
            faint = scene_layer.emphasis == "faint" or (scene_layer.emphasis == "focus" and not focus)
            labels.append(SceneLabel(lat=point.y, lon=point.x, text=text, rank=-1 if focus else priority,
                                 kind="point" if spec.geometry == "point" else "area",
                                 style="focus" if focus else "faint" if faint else "",
                                 radius=spec.style.radius if spec.geometry == "point" else 0.0))
    return labels


def build_scene_map(scene_id: str, *, town: str | None = None, lang: str = "zh", standalone: bool = True,
                    layout: str = "file", catalog: Catalog | None = None) -> folium.Map:
    """A scene as a folium map, drawn with the explorer's styles: the scene's layers (filtered, faint or focused as
    the scene says), labels, legend, scale bar and north arrow; no basemap, so nothing is fetched.

    Parameters
    ----------
    scene_id, town
        As for :func:`layers.present.render_scene`.
    standalone
        Also put the title, subtitle and the note on sources and accuracy on the map.
    layout
        "file" (the offline HTML: title and note over the map) or "page" (the Present page, read by
        :func:`scene_spec`: no full-screen plugin, the arrow keys left to the clicker).

    Returns
    -------
    folium.Map
        Assets not yet localised (see :func:`layers.assets.localize_assets`).
    """
    if lang not in LANGS:
        raise SceneError(f"Unknown language {lang!r}; use one of {LANGS}.")
    catalog = catalog or get_catalog()
    scene = get_scene(scene_id)
    frame = prepare_frame(scene, town, catalog)
    fmap = new_map(tools=False, lang=lang)
    # Fit the scene closely, and leave attribution to the note: Leaflet's own control links to its web site.
    # No zoom animation: every change of view is then immediate, with its events in order, so the names are always
    # placed for the view on screen (an animated zoom still running from the first fit could end after the chrome's
    # own fit, leave the map zoomed for the frame's first size and the names placed for another view).
    fmap.options.update(zoomSnap=settings.SCENE_ZOOM_SNAP, zoomDelta=0.5, attributionControl=False,
                        zoomAnimation=False)
    zone_colours = catalog.layer("zones").style.colour_map()
    for scene_layer, spec, gdf in frame.layers:          # bottom first
        wgs = gdf.to_crs(settings.WGS84)
        if scene_layer.emphasis == "focus" and frame.town is not None:
            chosen = wgs["code"].astype(str) == str(frame.town["code"])
            fill = zone_colours.get(str(frame.town.get("zone_id")), NO_ZONE_FILL)
            add_layer(fmap, spec, wgs[~chosen], lang=lang, catalog=catalog, restyle=_fade)
            add_layer(fmap, spec, wgs[chosen], lang=lang, catalog=catalog, restyle=_focus(fill))
        elif not wgs.empty:
            add_layer(fmap, spec, wgs, lang=lang, catalog=catalog,
                      restyle=_fade if scene_layer.emphasis == "faint" else None)
    sections = legend_sections(frame, catalog, lang)
    Legend(legend_html([(s.title or "", list(s.entries)) for s in sections]),
           title=TEXT[lang]["legend"]).add_to(fmap)
    title, subtitle = scene_titles(scene, frame.town, lang) if standalone else ("", "")
    notes = tuple(source_lines(scene, frame, catalog, lang)) if standalone else ()
    minx, miny, maxx, maxy = gpd.GeoSeries([frame.view], crs=settings.MEASURE_CRS).to_crs(settings.WGS84).total_bounds
    bounds = [[round(miny, 6), round(minx, 6)], [round(maxy, 6), round(maxx, 6)]]
    # A first fit without padding (never NaN on a phone); the chrome script then refits with padding in proportion
    # to the map's size (fixed pixel padding wider than a phone made Leaflet's zoom NaN and the phone drew no map).
    fmap.fit_bounds(bounds)
    SceneChrome(lang=lang, labels=_labels(frame, lang), bounds=bounds, title=title, subtitle=subtitle,
                note_lines=notes, layout=layout).add_to(fmap)
    if layout == "file":
        add_fullscreen(fmap, lang=lang, position="topright")
    else:
        fmap.options["keyboard"] = False     # the arrow keys belong to the clicker, not to panning
    return fmap


@dataclass(frozen=True)
class SceneText:
    """The words around a scene map: title, subtitle (with the plan reference) and the note lines."""

    title: str
    subtitle: str
    note: tuple[str, ...]


def scene_text(scene_id: str, *, town: str | None = None, lang: str = "zh") -> SceneText:
    """Title, subtitle and the note on sources and accuracy, as on the printed page."""
    catalog = get_catalog()
    scene = get_scene(scene_id)
    frame = prepare_frame(scene, town, catalog)
    title, subtitle = scene_titles(scene, frame.town, lang)
    return SceneText(title, subtitle, tuple(source_lines(scene, frame, catalog, lang)))


def foreign_urls(text: str) -> list[str]:
    """Every http(s) address in ``text`` except the XML namespace names (:data:`NAMESPACE_URIS`)."""
    return [m.group(0) for m in _FOREIGN_URL.finditer(text)]


def neutralise_urls(text: str) -> str:
    """Drop the scheme of every http(s) address except namespace names, so nothing can point at another host.

    In the vendored files these are licence banners, comments and error messages ("https://leafletjs.com"
    becomes "leafletjs.com"): the notices stay readable and complete, nothing is fetched or linked.
    """
    return _SCHEME.sub("", text)


def scene_html(scene_id: str, *, town: str | None = None, lang: str = "zh") -> str:
    """One scene as a self-contained HTML page: Leaflet, plugins, styles and data inlined, no other host named.

    Raises
    ------
    AssetError
        Something in the page would still load from, or link to, another host.
    """
    fmap = build_scene_map(scene_id, town=town, lang=lang, standalone=True)
    localize_assets(fmap, mode="inline")
    scene = get_scene(scene_id)
    root = fmap.get_root()
    root.title = safe_text(f"{scene.text('title', lang)} · {get_catalog().meta['title_' + lang]}")
    page = root.render()
    page = page.replace("<html>", f'<html lang="{"en" if lang == "en" else "zh-CN"}">', 1)
    page = neutralise_urls(page)
    leftover = foreign_urls(page) or [m.group(0) for m in _REMOTE_TAG.finditer(page)]
    if leftover:
        raise AssetError(f"The offline page for scene {scene_id!r} still refers to another host ({leftover[0][:80]}); "
                         "vendor that asset under static/vendor and inline it.")
    return page


def scene_spec(scene_id: str, *, town: str | None = None, lang: str = "zh") -> dict[str, Any]:
    """The scene as the Present page draws it in the page (``layers/app/sceneview.py``), read off the scene's
    folium map so the page and the offline file cannot differ in what they show.

    Returns
    -------
    dict
        ``map``: :func:`layers.map.spec.map_spec` of the scene map (the same escaped layer payloads, faint and focus
        styles, legend); ``options``: the map's Leaflet options (zoom steps, no animation, no keyboard panning);
        ``chrome``: :meth:`SceneChrome.page_data` (title, subtitle, note, north arrow, names, bounds); ``token``:
        a digest of all that, so the page redraws only a scene that changed (a rerun keeps the presenter's zoom).
    """
    fmap = build_scene_map(scene_id, town=town, lang=lang, standalone=True, layout="page")
    chrome = next(c for c in fmap._children.values() if isinstance(c, SceneChrome)).page_data()
    spec = map_spec(fmap, lang=lang, ignore=(SceneChrome,))
    options = {k: fmap.options[k] for k in PAGE_MAP_OPTIONS if k in fmap.options}
    digest = hashlib.blake2b(digest_size=12)
    digest.update(json.dumps([chrome, options, spec["legend"], [e["hash"] for e in spec["layers"]]],
                             sort_keys=True).encode("utf-8"))
    return {"map": spec, "options": options, "chrome": chrome, "token": digest.hexdigest()}


def write_scene_html(scene_id: str, *, town: str | None = None, lang: str = "zh", out: Path) -> Path:
    """Write :func:`scene_html` to ``out`` (UTF-8, atomically); it opens by double-click with no network."""
    page = scene_html(scene_id, town=town, lang=lang)
    with atomic_output(Path(out), suffix=".html") as tmp:
        tmp.write_text(page, encoding="utf-8")
    return Path(out)


def scene_file_name(scene_id: str, town: str | None, fmt: str | None, *, number: int | None = None) -> str:
    """``03_transport.pdf``, ``town_310117107.html`` (``fmt`` None: no extension): ASCII names in scene order."""
    stem = f"{scene_id}_{town}" if town else scene_id
    stem = f"{number:02d}_{stem}" if number is not None else stem
    return f"{stem}.{fmt}" if fmt else stem


