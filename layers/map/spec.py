"""The in-page map's spec, read off the folium map: tiles, layers (the same escaped payloads), legend, view.

The in-page map component (``layers/app/mapview.py``) draws from this spec, so the map in the page and folium's
own HTML (offline file, meeting pack) are built by one function and cannot show different things. A map holding
an element this module does not know is refused with :class:`layers.core.errors.MapSpecError`; the caller then
shows folium's own document instead.
"""
from __future__ import annotations

import hashlib
import html
from typing import Any

import folium
from folium.map import FitBounds
from folium.plugins import Fullscreen, GroupedLayerControl, MeasureControl

from layers.core.catalog import Catalog, get_catalog
from layers.core.errors import MapSpecError
from layers.map.elements import Legend, VectorLayer, ZoomControl

#: Elements the component handles itself (controls it draws in its own way) or that have no effect in the page.
_HANDLED_ELSEWHERE = (GroupedLayerControl, folium.LayerControl, Fullscreen, MeasureControl, ZoomControl)


def _tiles(layer: folium.TileLayer) -> dict[str, Any]:
    return {"url": layer.tiles, "attribution": layer.options.get("attribution", ""),
            "subdomains": layer.options.get("subdomains", "abc"), "maxZoom": layer.options.get("max_zoom", 18),
            "overlay": bool(layer.overlay), "name": html.unescape(str(layer.layer_name))}


def _part(layer: VectorLayer) -> dict[str, Any]:
    return {"name": layer.layer_name, "interactive": layer.interactive, "radius": layer.radius,
            "payload": layer.payload_json()}


def _layer_key(parts: list[dict[str, Any]]) -> str:
    names = [p["name"] for p in parts if not p["name"].endswith("-uncertainty")]
    return names[0] if names else parts[0]["name"]


def _entry(parts: list[dict[str, Any]], *, title: str, show: bool, catalog: Catalog) -> dict[str, Any]:
    key = _layer_key(parts)
    digest = hashlib.blake2b(digest_size=12)
    for part in parts:
        digest.update(part["payload"].encode("utf-8"))
    group = catalog.layer(key).group if key in catalog.layer_ids else "mine"
    return {"key": key, "title": title, "show": show, "group": group, "hash": digest.hexdigest(), "parts": parts}


def map_spec(fmap: folium.Map, *, lang: str = "zh", catalog: Catalog | None = None,
             ignore: tuple[type, ...] = ()) -> dict[str, Any]:
    """The spec of ``fmap`` for the in-page map; elements of the ``ignore`` types are the caller's to read (the
    Present page's scene reads its chrome itself).

    Returns
    -------
    dict
        ``tiles`` (basemap layers), ``layers`` (draw order; each with ``key``, ``title``, ``group``, ``show``,
        ``hash`` of its data and ``parts``, the escaped JSON payloads of its vector layers), ``groups`` (group id →
        title in ``lang``), ``legend`` (``title``, ``html``, ``open``), ``fit`` (bounds or None) and ``tools``.

    Raises
    ------
    MapSpecError
        For any element the in-page map does not draw.
    """
    catalog = catalog or get_catalog()
    spec: dict[str, Any] = {"tiles": [], "layers": [], "legend": None, "fit": None, "tools": False,
                            "groups": {gid: names[lang] for gid, names in catalog.groups.items()}}
    for child in fmap._children.values():
        if ignore and isinstance(child, ignore):
            continue
        if isinstance(child, folium.TileLayer):
            spec["tiles"].append(_tiles(child))
        elif isinstance(child, folium.FeatureGroup):
            parts = [_part(c) for c in child._children.values() if isinstance(c, VectorLayer)]
            if len(parts) != len(child._children):
                raise MapSpecError(f"feature group {child.layer_name!r} holds more than vector layers")
            if parts:
                spec["layers"].append(_entry(parts, title=html.unescape(str(child.layer_name)), show=child.show,
                                             catalog=catalog))
        elif isinstance(child, VectorLayer):
            spec["layers"].append(_entry([_part(child)], title=child.layer_name, show=True, catalog=catalog))
        elif isinstance(child, Legend):
            spec["legend"] = {"title": child.title, "html": child.body, "open": child.open_}
        elif isinstance(child, FitBounds):
            spec["fit"] = [[float(v) for v in corner] for corner in child.bounds]
        elif isinstance(child, _HANDLED_ELSEWHERE):
            spec["tools"] = spec["tools"] or isinstance(child, (Fullscreen, MeasureControl))
        else:
            raise MapSpecError(f"{type(child).__name__} is not drawn by the in-page map")
    spec["z_order"] = _z_order(spec["layers"], catalog)
    return spec


def _z_order(entries: list[dict[str, Any]], catalog: Catalog) -> list[str]:
    """Drawing order: filled areas first with the towns on top of them (so hovering a town names the town, not
    the zone over it), then lines, points and the user's own layers."""
    def rank(entry: dict[str, Any]) -> int:
        key = entry["key"]
        if key not in catalog.layer_ids:
            return 3
        if key == "towns":
            return 1
        return 0 if catalog.layer(key).geometry in ("polygon", "mixed") else 2
    return [e["key"] for e in sorted(entries, key=rank)]
