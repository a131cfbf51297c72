"""A page with the Map page's map and nothing else, drawn three ways, for the peers of ``bench/run_bench.py``.

``?frame=component`` (default) draws it with the app's in-page map component (``layers/app/mapview.py``), as the
Map page does; ``?frame=st_folium`` with streamlit-folium's ``st_folium``, as the app did before issue 12;
``?frame=pydeck`` with ``st.pydeck_chart`` from the same layer payloads and styles (colours, widths, point radii;
no dashes, no layer control, no popups: what pydeck offers); ``?frame=srcdoc`` folium's own document in a plain
``st.iframe``; ``?frame=floor`` no map at all but a component painting one SVG path as it mounts (no data, no
Leaflet): how soon a Streamlit page can show a component's first shape at all. Below the map, a checkbox "open
lines only" filters rail lines and stations by status (the bench's filter change); ``?filter=open`` starts with it
on. Run from a folder where ``static/`` is the project's (the bench
makes one), so Leaflet is served as in the app.
"""
import json
import re
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from layers.app.cache import all_layers, cached_display_layers, cached_map_view
from layers.app.mapview import show_map_spec
from layers.core.catalog import get_catalog
from layers.map.assets import localize_assets
from layers.map.filters import FILTER_KEYS, LayerFilter, filter_layers
from layers.map.render import build_map
from layers.map.simplify import with_display_geometry
from layers.map.spec import map_spec
from layers.map.state import MapState

HEIGHT = 620
FILTER_KEY = "open_only"

st.set_page_config(layout="wide")
frame = st.query_params.get("frame", "component")
if frame == "floor":
    floor = st.components.v2.component(
        "floor_shape", html='<div class="sj-map-root" style="height:620px"></div>', isolate_styles=False,
        js="export default function (c) {\n  const r = c.parentElement.querySelector('.sj-map-root');\n"
           "if (!r.firstChild) { r.innerHTML = '<div class=\"leaflet-overlay-pane\"><svg width=\"200\" "
           "height=\"200\"><path d=\"M0 0 L100 100 L0 100 Z\" fill=\"red\"/></svg></div>'; } }")
    floor(key="floor")
    st.stop()
if FILTER_KEY not in st.session_state:
    st.session_state[FILTER_KEY] = st.query_params.get("filter") == "open"
catalog = get_catalog()
layer_ids = catalog.layer_ids
layers, _ = all_layers()
flt = LayerFilter(rail_status=("open",)) if st.session_state[FILTER_KEY] else LayerFilter()
if frame != "component":  # the peers build their map on every run, as the app did before issue 12
    drawn = with_display_geometry(filter_layers(layers, flt), cached_display_layers(layer_ids))
    fmap = build_map(drawn, lang="zh", basemap="none", visible=layer_ids)


def _rgba(colour: str, opacity: float) -> list[int]:
    colour = colour.lstrip("#")
    return [int(colour[i:i + 2], 16) for i in (0, 2, 4)] + [round(255 * opacity)]


def deck(spec: dict):
    """The same layers as pydeck GeoJsonLayers: each feature carries its style as colours and a width."""
    import pydeck as pdk

    by_key = {e["key"]: e for e in spec["layers"]}
    deck_layers = []
    for key in spec["z_order"]:
        for part in by_key[key]["parts"]:
            payload = json.loads(part["payload"])
            for feature in payload["geojson"]["features"]:
                style = payload["styles"][feature["properties"].get("_s", 0)]
                fill = style.get("fillColor", style.get("color", "#3388ff"))
                feature["properties"]["_fill"] = _rgba(fill, style.get("fillOpacity", 0.2)
                                                       if style.get("fill", True) else 0)
                feature["properties"]["_line"] = _rgba(style.get("color", "#3388ff"), style.get("opacity", 1.0))
                feature["properties"]["_width"] = style.get("weight", 3)
            deck_layers.append(pdk.Layer(
                "GeoJsonLayer", payload["geojson"], id=part["name"], pickable=part["interactive"], stroked=True,
                filled=True, get_fill_color="properties._fill", get_line_color="properties._line",
                get_line_width="properties._width", line_width_units="'pixels'", point_type="'circle'",
                get_point_radius=part["radius"], point_radius_units="'pixels'"))
    view = pdk.ViewState(latitude=31.03, longitude=121.22, zoom=10.3)
    return pdk.Deck(layers=deck_layers, initial_view_state=view, map_style=None, map_provider=None,
                    tooltip={"text": "{name_zh}"})


if frame == "st_folium":
    from streamlit_folium import st_folium

    localize_assets(fmap)
    # As the app drew every map before issue 12 (layers.app.chrome.draw at that time).
    st_folium(fmap, key="explorer-map", height=HEIGHT, use_container_width=True, returned_objects=[])
elif frame == "srcdoc":
    html = localize_assets(fmap).get_root().render()
    # folium's random element ids, numbered: the same map gives the same document, so reruns keep the frame.
    numbers: dict[str, str] = {}
    html = re.sub(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])", lambda m: numbers.setdefault(m.group(0), str(len(numbers))),
                  html)
    st.iframe(html, height=HEIGHT)
elif frame == "pydeck":
    st.pydeck_chart(deck(map_spec(fmap, lang="zh", catalog=catalog)), height=HEIGHT, key="explorer-map")
else:
    # As the Map page does: the spec and labels of a view state, cached per state without its filter (the spec holds
    # every feature); the map applies the filter from the spec's filter index.
    spec, _, labels = cached_map_view(MapState(lang="zh", layers=layer_ids, basemap="none"))
    values = {key: list(getattr(flt, key)) for key in FILTER_KEYS}
    show_map_spec(spec, key="explorer-map", height=HEIGHT, lang="zh", on=list(layer_ids), labels=labels,
                  share=True, clickable=True, filters={"values": values, "at": None, "ui": []})
st.checkbox("open lines only", key=FILTER_KEY)
