"""The in-page map: a Streamlit Components v2 component that draws a folium map's spec with the vendored Leaflet.

Every interactive map of the app goes through :func:`show_map_spec`; the offline HTML and meeting files stay
folium's own output. The component updates its layers in place on a rerun, keeps the user's view, writes the
view into the address without rerunning, and reports layer toggles, clicks and its first paint.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from layers.app.preview import data_stamp
from layers.core import settings
from layers.core.i18n import t

_HERE = Path(__file__).resolve().parent
_CSS = """
.sj-map-root { position: relative; width: 100%; font: 12px/1.35 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif; }
.sj-map-root:fullscreen { height: 100vh !important; background: #fff; }
.sj-map { position: absolute; inset: 0; background: #f4f4f2; }
.sj-notice { display: none; position: absolute; top: 8px; left: 50%; transform: translateX(-50%); z-index: 1001;
  background: #fff3cd; border: 1px solid #d6b656; border-radius: 4px; padding: 3px 8px; }
.sj-controls { position: absolute; top: 8px; right: 8px; z-index: 1000; display: flex; flex-direction: column;
  align-items: flex-end; gap: 6px; max-width: 46%; }
.sj-slot { display: contents; }
.sj-legend-slot { position: absolute; bottom: 26px; left: 8px; z-index: 1000; max-width: 46%; }
.sj-legend-slot .sj-box { max-height: 38vh; font-size: 11px; }
.sj-box { background: rgba(255,255,255,.94); border: 1px solid #999; border-radius: 4px; padding: 4px 8px;
  max-height: 52vh; overflow: auto; }
.sj-box summary { cursor: pointer; font-weight: 700; }
.sj-group, .sj-fgroup { font-weight: 700; margin-top: 4px; }
.sj-row { display: block; white-space: nowrap; cursor: pointer; }
.sj-tools { display: flex; gap: 4px; }
.sj-button { background: #fff; border: 1px solid #999; border-radius: 4px; padding: 3px 8px; cursor: pointer;
  font: inherit; }
.sj-label { white-space: nowrap; pointer-events: none; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; }
.sj-label-town { font-weight: 700; color: #333; font-size: 12px; }
.sj-label-station { color: #1f3b73; font-size: 11px; }
.sj-tip { font: 12px/1.3 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif; }
"""

_LOADER = (_HERE / "leaflet_loader.js").read_text(encoding="utf-8")


def component_js(name: str) -> str:
    """A component's module: the shared Leaflet loader and layer drawing (``leaflet_loader.js``,
    ``leaflet_layers.js``), then the component's own file ``name``."""
    return "\n".join([_LOADER] + [(_HERE / f).read_text(encoding="utf-8") for f in ("leaflet_layers.js", name)])


_COMPONENT = st.components.v2.component(
    "songjiang_map", html='<div class="sj-map-root"></div>', css=_CSS, js=component_js("mapview.js"),
    isolate_styles=False)


def map_texts(lang: str) -> dict[str, str]:
    """Every word the component shows, in ``lang``."""
    keys = ("layers", "copy", "copied", "fullscreen", "tiles_failed", "failed", "mine", "zoom_in", "zoom_out",
            "filters", "clear")
    texts = {k: t(f"mv_{k}", lang) for k in keys}
    texts["measure_locale"] = "en" if lang == "en" else "cn"
    return texts


def show_map_spec(spec: dict[str, Any], *, key: str, height: int, lang: str, on: list[str] | None = None,
                  view: dict[str, Any] | None = None, labels: list[dict[str, Any]] | None = None,
                  layer_control: bool = True, share: bool = False, url_view: bool = False,
                  clickable: bool = False, gate: bool = False, compact: bool = False,
                  filters: dict[str, Any] | None = None,
                  on_layers_change: Callable[[], None] | None = None,
                  on_filters_change: Callable[[], None] | None = None,
                  on_click_change: Callable[[], None] | None = None,
                  on_drawn_change: Callable[[], None] | None = None) -> Any:
    """Mount the in-page map with a stable ``key``; returns the component's result (``layers``, ``filters``,
    ``click``, ``drawn``).

    ``view`` moves the map only when its ``token`` changes (a new search, town or shared link); otherwise the
    user's own view is kept. ``url_view`` writes the view into the address as c/z; ``gate`` reports the first
    paint (``drawn``: "drawn", "error" or "timeout"), so the page can send the rest after the map
    (:mod:`layers.app.gate`). ``filters`` (``values``: key → values chosen; ``at``: the last change the map reported
    that they include; ``ui``: the in-map filter's groups, ``[key, title, [[value, label], …]]``, plain text) is
    applied by the map from the spec's filter index; a change in the map is drawn at once and reported as
    ``filters``.
    """
    data = {"spec": spec, "height": height, "on": on, "view": view or {"token": "default"}, "labels": labels or [],
            "layerControl": layer_control, "share": share, "urlView": url_view, "clickable": clickable,
            "gate": gate, "gateMs": int(settings.MAP_GATE_TIMEOUT_S * 1000), "compact": compact,
            "readonly": on_layers_change is None and on_click_change is None,
            "storageKey": key if url_view else None, "texts": map_texts(lang), "filters": filters,
            "version": data_stamp()}
    callbacks = {"on_layers_change": on_layers_change or _ignore, "on_click_change": on_click_change or _ignore,
                 "on_drawn_change": on_drawn_change or _ignore, "on_filters_change": on_filters_change or _ignore}
    return _COMPONENT(key=key, data=data, height=height, **callbacks)


def _ignore() -> None:
    """Callbacks must exist for the component to keep its state; most maps need none."""
