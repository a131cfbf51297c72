"""The Present page's scene in the page: a Streamlit Components v2 component drawing a scene's spec with the
vendored Leaflet the in-page map loads (no iframe).

The spec is read off the scene's folium map (:func:`layers.scenes.web.scene_spec`), so the page shows the same
layers, styles, legend, names and note as the offline HTML and the meeting pack, which stay folium's own output.
The component takes the height left in the window, fits the scene to it, folds the note where it would cover the
scene's focus, goes full screen (⛶ or F) and passes the clicker's keys to the page's previous/next buttons; a new
scene replaces the old one's layers in the same frame, so stepping never shows an empty map.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from layers.app.mapview import component_js, map_texts

_FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif"
#: The scene chrome's look (as in the folium page, layers/scenes/chrome.py), every rule under the scene's root so
#: nothing reaches the rest of the app; in full screen the scene covers the page, with its title above the map.
#: Sizes are in units of the scene's own box (cqh/cqw: the root is a size container), as the folium page's vh/vw
#: were of its frame, so names, legend and note have the same size as before at every screen.
_CSS = f"""
.sj-scene {{ position: relative; width: 100%; height: 480px; display: flex; flex-direction: column;
  background: #fff; color: #222; font-family: {_FONT}; container-type: size; }}
html.sj-fs .sj-scene {{ position: fixed !important; inset: 0 !important; width: 100vw !important;
  height: 100vh !important; z-index: 1000000; }}
html.sj-fs [data-testid='stHeader'] {{ display: none; }}
.sj-scene .sj-scene-map {{ flex: 1 1 auto; position: relative; min-height: 0; }}
.sj-scene .leaflet-container {{ background: #fff; font-family: {_FONT}; }}
.sj-scene .sj-panel {{ position: absolute; z-index: 1000; background: rgba(255,255,255,.93); border: 1px solid #999;
  border-radius: 4px; color: #222; }}
.sj-scene .sj-title {{ order: -1; position: static; display: none; max-width: none; border: none; border-radius: 0;
  background: #fff; padding: clamp(6px,1.2cqh,24px) clamp(10px,1.4cqw,40px) clamp(2px,.6cqh,12px); }}
html.sj-fs .sj-scene .sj-title {{ display: block; }}
.sj-scene .sj-title h1 {{ font-size: clamp(20px,4.2cqh,64px); line-height: 1.25; margin: 0 0 4px; padding: 0;
  font-weight: 700; font-family: {_FONT}; }}
.sj-scene .sj-title p {{ font-size: clamp(12px,1.9cqh,30px); line-height: 1.4; margin: 0; color: #333; }}
.sj-scene .sj-note {{ bottom: 10px; right: 10px; max-width: min(40%, 560px); max-height: 45%; overflow: auto;
  padding: 6px 10px; font-size: clamp(10px,1.4cqh,20px); line-height: 1.4; }}
.sj-scene .sj-note p {{ margin: 0 0 2px; font-size: inherit; }}
.sj-scene .sj-note summary {{ cursor: pointer; font-weight: 600; }}
.sj-scene .sj-note[open] .sj-short, .sj-scene .sj-note:not([open]) .sj-long {{ display: none; }}
.sj-scene .sj-north {{ top: 10px; right: 10px; width: auto; padding: 2px 8px 4px; text-align: center;
  font-weight: 700; font-size: clamp(13px,2cqh,28px); line-height: 1; }}
.sj-scene .sj-north svg {{ height: clamp(34px,6cqh,96px); width: auto; }}
.sj-scene .sj-legend {{ position: absolute; left: 10px; bottom: clamp(40px,7cqh,110px); z-index: 1000;
  background: rgba(255,255,255,.93); padding: 6px 10px; border: 1px solid #999; border-radius: 4px; overflow: auto;
  max-height: calc(100% - 90px); max-width: min(34%, 420px); font: 12px/1.35 {_FONT};
  font-size: clamp(11px,1.55cqh,22px); }}
.sj-scene .sj-legend summary {{ cursor: pointer; font-weight: 700; }}
.sj-scene .leaflet-top.leaflet-right {{ top: clamp(58px,9cqh,150px); }}
.sj-scene .leaflet-control-scale-line {{ font-size: clamp(11px,1.4cqh,20px); }}
.sj-scene .leaflet-control-scale-line + .leaflet-control-scale-line {{ display: none; }}
.sj-scene .sj-anchor {{ background: none; border: none; }}
.sj-scene .sj-label {{ position: absolute; left: 0; top: 0; white-space: nowrap; pointer-events: none; color: #202020;
  font: 12px/1.2 {_FONT}; font-size: clamp(11px,1.5cqh,22px);
  text-shadow: 0 0 2px #fff,0 0 2px #fff,0 0 3px #fff,1px 1px 0 #fff,-1px -1px 0 #fff; }}
.sj-scene .sj-label-area {{ transform: translate(-50%,-50%); }}
.sj-scene .sj-label-faint {{ color: #6a6a6a; }}
.sj-scene .sj-label-focus {{ font-weight: 700; font-size: clamp(15px,2.3cqh,34px); }}
.sj-scene .sj-measuring .leaflet-overlay-pane path {{ pointer-events: visiblePainted !important; }}
.sj-scene .sj-present {{ position: absolute; z-index: 1001; top: 10px; right: clamp(70px,8cqw,150px);
  padding: 4px 10px; font: inherit; font-size: clamp(12px,1.6cqh,22px); cursor: pointer; background: #fff;
  border: 1px solid #888; border-radius: 4px; color: #222; }}
.sj-scene .sj-attr th {{ text-align: left; padding: 1px 8px 1px 0; vertical-align: top; color: #444;
  font-weight: 600; }}
.sj-scene .sj-attr td {{ padding: 1px 0; max-width: 300px; white-space: normal; }}
@container (max-width: 640px) {{
  .sj-scene .sj-legend {{ max-width: 60%; max-height: 40%; }}
  .sj-scene .sj-note {{ max-width: 70%; }}
  .sj-scene .sj-present {{ display: none; }}
}}
"""

_COMPONENT = st.components.v2.component(
    "songjiang_scene", html='<div class="sj-scene"></div>', css=_CSS, js=component_js("sceneview.js"),
    isolate_styles=False)


def show_scene(spec: dict[str, Any], *, key: str, lang: str) -> Any:
    """Mount the scene with a stable ``key`` (the same element across previous/next, so the new scene replaces the
    old one in place); ``spec`` from :func:`layers.app.cache.cached_scene_spec`."""
    return _COMPONENT(key=key, data={"spec": spec, "texts": map_texts(lang)})
