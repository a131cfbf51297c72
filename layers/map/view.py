"""The Map page's map for one view state, pure of Streamlit: filter, build, focus outline, spec, labels.

The app caches :func:`map_view_spec` per view state (``layers.app.cache.cached_map_view``), so a first draw, a
return to the page or a filter set seen before costs no build; the in-page map draws the spec.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import folium
import geopandas as gpd
import shapely

from layers.core.catalog import get_catalog
from layers.core.crs import geometry_wgs84_to_gcj02
from layers.map.basemaps import basemaps
from layers.map.elements import VectorLayer, safe_text
from layers.map.filters import FILTER_KEYS, LayerFilter, filter_index, filter_layers, filter_masks
from layers.map.identify import map_labels
from layers.map.render import build_map
from layers.map.search import GazetteerEntry
from layers.map.simplify import with_display_geometry
from layers.map.spec import map_spec
from layers.map.state import MapState

__all__ = ["filtered_summary", "map_view", "map_view_spec"]


def map_view(layers: Mapping[str, gpd.GeoDataFrame], state: MapState, *, focus: GazetteerEntry | None = None,
             display: Mapping[str, gpd.GeoDataFrame] | None = None,
             user_layers: Mapping[str, gpd.GeoDataFrame] | None = None) -> tuple[folium.Map, dict[str, Any]]:
    """Filter the layers, build the map and zoom to ``focus`` (or the state's town); pure of Streamlit.

    ``display`` (from :func:`layers.simplify.display_copies`) supplies simplified geometry to draw; filters
    always run on the full geometry. Returns the map and a summary: ``features`` (per visible layer),
    ``total`` and ``bounds`` zoomed to (or None).
    """
    filtered = filter_layers(layers, state.filters)
    drawn = with_display_geometry(filtered, display) if display is not None else filtered
    fmap = build_map(drawn, lang=state.lang, basemap=state.basemap, visible=state.layers, user_layers=user_layers)
    bounds = None
    outline = None
    if focus is not None:
        bounds = focus.folium_bounds
        south, west = bounds[0]
        north, east = bounds[1]
        if north - south < 1e-6 and east - west < 1e-6:  # a point: a small box around it
            bounds = [[south - 0.005, west - 0.005], [north + 0.005, east + 0.005]]
        outline = shapely.box(bounds[0][1], bounds[0][0], bounds[1][1], bounds[1][0]).exterior
        label = safe_text(focus.name(state.lang))
    elif state.town is not None and "towns" in layers:
        towns = layers["towns"]
        hit = towns[towns["id"].astype(str) == state.town]
        if len(hit):
            minx, miny, maxx, maxy = hit.total_bounds
            bounds = [[miny, minx], [maxy, maxx]]
            outline = hit.geometry.iloc[0].boundary
            label = safe_text(hit.iloc[0]["name_en" if state.lang == "en" else "name_zh"])
    if outline is not None:
        if basemaps().get(state.basemap, basemaps()["none"]).gcj02:
            outline = geometry_wgs84_to_gcj02(outline)
        feature = {"id": "focus", "properties": {"label": label},
                   "geometry": json.loads(shapely.to_geojson(outline))}
        VectorLayer([feature], name="focus", tip=[["label", ""]],
                    style=lambda _f: {"color": "#e31a1c", "weight": 3, "dashArray": "6 4", "fill": False}
                    ).add_to(fmap)
        fmap.fit_bounds(bounds)
    features = {k: len(v) for k, v in filtered.items() if k in state.layers}
    return fmap, {"features": features, "total": sum(features.values()), "bounds": bounds}


def map_view_spec(layers: Mapping[str, gpd.GeoDataFrame], state: MapState, *, focus: GazetteerEntry | None = None,
                  display: Mapping[str, gpd.GeoDataFrame] | None = None,
                  user_layers: Mapping[str, gpd.GeoDataFrame] | None = None
                  ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """What the in-page map draws for ``state``: the spec of :func:`map_view`'s map with every feature, its summary
    (counts as ``state``'s filter leaves them) and the names of the towns and stations shown.

    The filter is applied by the map itself from ``spec["filter"]`` (each feature's clauses of
    :func:`layers.map.filters.filter_index`, by layer and feature id), so a filter changed in the map redraws at
    once, and the spec, built without the filter, is the same for every filter set. Labels carry their feature's
    layer and id, so a name goes with its feature.
    """
    fmap, summary = map_view(layers, replace(state, filters=LayerFilter()), focus=focus, display=display,
                             user_layers=user_layers)
    spec = map_spec(fmap, lang=state.lang, catalog=get_catalog())
    drawn = {entry["key"] for entry in spec["layers"]}
    spec["filter"] = {layer_id: dict(zip((safe_text(v) for v in layers[layer_id]["id"]), clauses, strict=True))
                      for layer_id, clauses in filter_index(layers).items() if layer_id in drawn}
    shown = {k: v for k, v in layers.items() if k in state.layers}
    gcj02 = basemaps().get(state.basemap, basemaps()["none"]).gcj02
    return spec, filtered_summary(layers, state, summary), map_labels(shown, lang=state.lang, gcj02=gcj02)


def filtered_summary(layers: Mapping[str, gpd.GeoDataFrame], state: MapState, summary: Mapping[str, Any]
                     ) -> dict[str, Any]:
    """``summary`` with the features of each shown layer counted as ``state``'s filter leaves them."""
    flt = state.filters
    masks = filter_masks(filter_index(layers, keys=[k for k in FILTER_KEYS if getattr(flt, k)]), flt)
    features = {k: int(masks[k].sum()) if k in masks else len(v) for k, v in layers.items() if k in state.layers}
    return {**summary, "features": features, "total": sum(features.values())}
