"""A page with the Map page's map and nothing else: the floor for the first-draw figure (``bench/run_bench.py``).

``?frame=st_folium`` (default) draws it as the app does (``draw``); ``?frame=srcdoc`` draws the same document in
a plain ``st.iframe``, to measure what st_folium itself costs. Run from a folder where ``static/`` is the project's
(the bench makes one), so Leaflet is served as in the app.
"""
import re
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from layers.app.cache import all_layers, cached_display_layers
from layers.app.chrome import draw
from layers.app.map_page import map_view
from layers.core.catalog import get_catalog
from layers.map.assets import localize_assets
from layers.map.state import state_from_params

st.set_page_config(layout="wide")
layer_ids = get_catalog().layer_ids
layers, _ = all_layers()
state, _ = state_from_params({})
fmap, _ = map_view(layers, state, display=cached_display_layers(layer_ids))
if st.query_params.get("frame") == "srcdoc":
    html = localize_assets(fmap).get_root().render()
    # folium's random element ids, numbered: the same map gives the same document, so reruns keep the frame.
    numbers: dict[str, str] = {}
    html = re.sub(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])", lambda m: numbers.setdefault(m.group(0), str(len(numbers))),
                  html)
    st.iframe(html, height=620)
else:
    draw(fmap, key="explorer-map", height=620)
