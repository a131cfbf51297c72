"""folium elements written verbatim (vector layers, legend, view sync) and the escaping they rely on."""
from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

from branca.element import Element, MacroElement, Template

from layers.map.style import LegendEntry


def safe_text(value: Any) -> str:
    """Text made inert for a map page: HTML-escaped, and ``{``/``}`` as entities.

    folium/branca re-read every rendered script as a Jinja template, so a ``{{ … }}`` in an attribute would be
    *evaluated on the server*; with the braces as entities it is just text (the browser shows ``{``).
    """
    return html.escape(str(value)).replace("{", "&#123;").replace("}", "&#125;")


class Verbatim(Element):
    """Text put into the page exactly as given: never parsed as a Jinja template (fast for large data, and
    nothing in the data can be evaluated)."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def script_json(value: Any) -> str:
    """JSON safe inside an HTML ``<script>`` block (every ``<`` escaped, so no ``</script>`` or ``<!--``)."""
    return _dumps(value).replace("<", "\\u003c")


def collection_json(features: list[dict[str, Any]]) -> str:
    """A FeatureCollection as JSON text; a geometry given as text (already JSON) is inserted as it is."""
    parts = []
    for feat in features:
        geometry = feat["geometry"]
        geometry_text = geometry if isinstance(geometry, str) else _dumps(geometry)
        parts.append(f'{{"type":"Feature","id":{_dumps(feat.get("id"))},"properties":{_dumps(feat["properties"])},'
                     f'"geometry":{geometry_text}}}')
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


_ATTRIBUTE_CSS = """<style>
  .sj-attr th { text-align:left; padding:1px 8px 1px 0; vertical-align:top; color:#444; font-weight:600; }
  .sj-attr td { padding:1px 0; max-width:300px; white-space:normal; }
</style>"""


#: The layer's script: its data (JSON, escaped for a script block) and the Leaflet layer. Everything is in the
#: script macro because streamlit-folium runs only element scripts (not inline scripts of the page header).
_VECTOR_TEMPLATE = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }}_data = {{ this.payload_json() }};
window.sjAttributeTable = window.sjAttributeTable || function (props, fields) {
    // Rows of [field, label]; values were escaped on the server (layers.render.safe_text).
    var rows = "";
    for (var i = 0; i < fields.length; i++) {
        var value = props[fields[i][0]];
        if (value === undefined) { continue; }
        rows += fields[i][1] ? "<tr><th>" + fields[i][1] + "</th><td>" + value + "</td></tr>"
                             : "<tr><td colspan='2'>" + value + "</td></tr>";
    }
    return "<table class='sj-attr'>" + rows + "</table>";
};
var {{ this.get_name() }} = L.geoJson({{ this.get_name() }}_data.geojson, {
    interactive: {{ this.interactive|tojson }},
    style: function (f) { return {{ this.get_name() }}_data.styles[f.properties._s]; },
    pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, Object.assign({radius: {{ this.radius|tojson }}},
                                                    {{ this.get_name() }}_data.styles[f.properties._s]));
    },
    onEachFeature: function (f, layer) {
        {%- if this.interactive %}
        var d = {{ this.get_name() }}_data;
        if (d.tip.length) { layer.bindTooltip(window.sjAttributeTable(f.properties, d.tip), {sticky: true}); }
        if (d.pop.length) { layer.bindPopup(window.sjAttributeTable(f.properties, d.pop), {maxWidth: 420}); }
        layer.on({
            mouseover: function (e) { if (e.target.setStyle) { e.target.setStyle(d.highlight); } },
            mouseout: function (e) { if (e.target.setStyle) { {{ this.get_name() }}.resetStyle(e.target); } }
        });
        {%- endif %}
    }
}).addTo({{ this._parent.get_name() }});
{% endmacro %}
"""


class VectorLayer(MacroElement):
    """A GeoJSON layer whose data, styles and field labels are written verbatim as one JSON object.

    Used instead of ``folium.GeoJson``: branca would re-parse the rendered data as a Jinja template, which is
    slow for large layers and evaluates any ``{{ … }}`` in an attribute. Styles are computed in Python, once per
    distinct style; tooltips and popups are tables of ``tip``/``pop`` fields ([field, label] pairs).

    Attributes ``data`` (the FeatureCollection) and ``layer_name`` are kept for inspection.
    """

    _template = Template(_VECTOR_TEMPLATE)

    def __init__(self, features: list[dict[str, Any]], *, style: Callable[[dict[str, Any]], dict[str, Any]],
                 name: str, tip: list[list[str]] | None = None, pop: list[list[str]] | None = None,
                 interactive: bool = True, radius: float = 5.0,
                 highlight: dict[str, Any] | None = None):
        super().__init__()
        self._name = "VectorLayer"
        self.layer_name = name
        self.interactive = bool(interactive)
        self.radius = float(radius)
        styles: dict[str, int] = {}
        style_list: list[dict[str, Any]] = []
        self._features = []
        for feat in features:
            key = json.dumps(style(feat), sort_keys=True)
            if key not in styles:
                styles[key] = len(style_list)
                style_list.append(json.loads(key))
            props = {k: v for k, v in feat["properties"].items() if not k.startswith("_raw_")}
            props["_s"] = styles[key]
            self._features.append({"id": feat.get("id"), "properties": props, "geometry": feat["geometry"]})
        self.extras = {"styles": style_list, "tip": tip or [], "pop": pop or [],
                       "highlight": highlight or {"weight": 4, "fillOpacity": 0.45}}

    @property
    def data(self) -> dict[str, Any]:
        """The FeatureCollection drawn (parsed back from the page's JSON; for inspection and tests)."""
        return json.loads(collection_json(self._features))

    def payload_json(self) -> str:
        """The one JSON object the page gets: ``geojson``, ``styles``, ``tip``, ``pop``, ``highlight``."""
        text = '{"geojson":' + collection_json(self._features) + "," + _dumps(self.extras)[1:]
        return text.replace("<", "\\u003c")

    def render(self, **kwargs: Any) -> None:
        """Like ``MacroElement.render``, but the script (it holds the data) goes in verbatim: branca would
        re-parse it as a Jinja template — slow for big layers, and it would evaluate ``{{ }}`` in the data."""
        figure = self.get_root()
        figure.header.add_child(Verbatim(_ATTRIBUTE_CSS), name="sj_attribute_css")
        script = self._template.module.__dict__["script"](self, kwargs)
        figure.script.add_child(Verbatim(script), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


_LEGEND_CSS = """<style>
  .sj-legend { position:absolute; bottom:64px; left:10px; z-index:1000; background:rgba(255,255,255,.93);
    padding:6px 10px; border:1px solid #999; border-radius:4px; max-height:55%; overflow:auto; max-width:260px;
    font:12px/1.35 'Noto Sans CJK SC','Microsoft YaHei',sans-serif; }
  .sj-legend summary { cursor:pointer; font-weight:700; }
  .leaflet-control-layers { font:12px/1.4 'Noto Sans CJK SC','Microsoft YaHei',sans-serif; }
  .leaflet-control-layers-group-name { font-weight:700; display:block; margin-top:4px; }
</style>"""


def _swatch(entry: LegendEntry) -> str:
    colour = safe_text(entry.color)
    dash = f' stroke-dasharray="{safe_text(entry.dash)}"' if entry.dash else ""
    if entry.shape == "fill":
        inner = (f'<rect x="1" y="2" width="22" height="10" fill="{colour}" fill-opacity=".35" stroke="{colour}"'
                 f' stroke-width="2"{dash}/>')
    elif entry.shape == "point":
        inner = f'<circle cx="12" cy="7" r="5" fill="{colour}" stroke="#fff" stroke-width="1.5"/>'
    elif entry.shape == "ring":
        inner = (f'<circle cx="12" cy="7" r="6" fill="#888" fill-opacity=".15" stroke="{colour}" stroke-width="1"'
                 f'{dash}/><circle cx="12" cy="7" r="2" fill="{colour}"/>')
    else:
        inner = f'<line x1="1" y1="7" x2="23" y2="7" stroke="{colour}" stroke-width="3"{dash}/>'
    return f'<svg width="24" height="14" style="vertical-align:middle">{inner}</svg>'


def legend_html(sections: list[tuple[str, list[LegendEntry]]]) -> str:
    """HTML body of the legend; every label is escaped."""
    parts = []
    for title, entries in sections:
        parts.append(f'<div style="font-weight:600;margin-top:4px">{safe_text(title)}</div>')
        for e in entries:
            # The features a row stands for, so the in-page map can hide a row its filter empties (mapview.js).
            named = f' data-layer="{safe_text(e.layer)}" data-ids="{safe_text(" ".join(e.ids))}"' if e.ids else ""
            parts.append(f'<div class="sj-legend-row"{named}>{_swatch(e)} {safe_text(e.label)}</div>')
    return "\n".join(parts)


class Legend(MacroElement):
    """A fixed, collapsible legend box on the map (written verbatim: its labels come from the data)."""

    def __init__(self, body: str, title: str, *, open_: bool = True):
        super().__init__()
        self._name = "Legend"
        self.body = body
        self.title = safe_text(title)
        self.open_ = open_

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        figure.header.add_child(Verbatim(_LEGEND_CSS), name="sj_legend_css")
        details = "<details open>" if self.open_ else "<details>"
        figure.html.add_child(Verbatim(f'<div class="sj-legend">{details}<summary>{self.title}</summary>\n'
                                       f'{self.body}\n</details></div>'), name=self.get_name())


class ZoomControl(MacroElement):
    """Leaflet's zoom buttons with their titles in the page's language (folium's own control says "Zoom in")."""

    _template = Template("""
{% macro script(this, kwargs) %}
L.control.zoom({position: "topleft", zoomInTitle: {{ this.zoom_in|tojson }},
                zoomOutTitle: {{ this.zoom_out|tojson }}}).addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, zoom_in: str, zoom_out: str):
        super().__init__()
        self._name = "ZoomControl"
        self.zoom_in, self.zoom_out = zoom_in, zoom_out
