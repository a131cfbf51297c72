"""Turn loaded layers into a folium map: display copies, tooltips, popups, accuracy rings, legend, basemaps."""
from __future__ import annotations

import html
import json
import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement, Template
from folium.plugins import Fullscreen, GroupedLayerControl, MeasureControl
from pyproj import Transformer
from shapely.geometry import Point

from . import settings
from .catalog import Catalog, LayerSpec, get_catalog
from .coords import geometry_wgs84_to_gcj02
from .i18n import t
from .style import LegendEntry, accuracy_legend, legend_entries, style_function

MISSING = {"zh": "缺失（未找到来源）", "en": "missing (no source found)"}
#: Decimal places of drawn coordinates (1e-6 degree is about 0.1 m here).
DISPLAY_DECIMALS = 6
#: Fields whose values are codes with labels in the catalogue's [values] tables.
CODED_FIELDS = ("accuracy", "mode", "status", "kind", "industries", "element", "type")


@dataclass(frozen=True)
class Basemap:
    """A background map. ``gcj02`` basemaps need the vector layers shifted at draw time."""

    id: str
    label_zh: str
    label_en: str
    tiles: str | None
    attribution: str
    gcj02: bool = False
    needs_network: bool = True
    subdomains: str = "abc"
    #: A second tile layer drawn over the first (e.g. 天地图's place-name annotation).
    labels: str | None = None


BASEMAPS: dict[str, Basemap] = {
    "none": Basemap("none", "无底图（离线）", "No basemap (offline)", None, "", needs_network=False),
    "osm": Basemap("osm", "OpenStreetMap（需联网）", "OpenStreetMap (online)",
                   "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors"),
    "positron": Basemap("positron", "CartoDB Positron（需联网）", "CartoDB Positron (online)",
                        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
                        "© OpenStreetMap contributors © CARTO"),
    "amap": Basemap("amap", "高德地图（GCJ-02，需联网）", "Amap (GCJ-02, online)",
                    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                    "© 高德地图 AutoNavi", gcj02=True, subdomains="1234"),
}


_TIANDITU_KEY = re.compile(r"[0-9a-fA-F]{32}")
_TIANDITU_WMTS = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                  "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
                  "&TILECOL={x}&tk={key}")


def basemaps(environ: Mapping[str, str] | None = None) -> dict[str, Basemap]:
    """The basemaps on offer: :data:`BASEMAPS`, plus 天地图 when a key is configured.

    天地图 (the national map service) needs a personal key, read from the environment variable named by
    ``settings.TIANDITU_KEY_ENV`` (32 hex digits; anything else is ignored). Its tiles are CGCS2000, which is
    WGS84 to well under a metre here, so the vectors are not shifted.
    """
    env = os.environ if environ is None else environ
    key = (env.get(settings.TIANDITU_KEY_ENV) or "").strip()
    if not _TIANDITU_KEY.fullmatch(key):
        return BASEMAPS
    tianditu = Basemap(
        "tianditu", "天地图（需联网与密钥）", "Tianditu (online, needs a key)",
        _TIANDITU_WMTS.format(layer="vec", key=key, s="{s}", z="{z}", x="{x}", y="{y}"),
        "© 天地图 国家地理信息公共服务平台", subdomains="01234567",
        labels=_TIANDITU_WMTS.format(layer="cva", key=key, s="{s}", z="{z}", x="{x}", y="{y}"))
    return {**BASEMAPS, "tianditu": tianditu}


def _display_value(catalog: Catalog, field: str, value: Any, lang: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return MISSING[lang]
    if field in CODED_FIELDS and isinstance(value, str):
        value = ", ".join(catalog.value_label(field, v.strip(), lang) for v in value.split(",")) if value else ""
    return safe_text(value)


def _rounded(geoms: np.ndarray) -> np.ndarray:
    """Geometries with coordinates rounded to :data:`DISPLAY_DECIMALS` (~0.1 m): smaller pages, same drawing."""
    return shapely.transform(geoms, lambda xy: np.round(xy, DISPLAY_DECIMALS))


def display_features(spec: LayerSpec, gdf: gpd.GeoDataFrame, *, lang: str = "zh", gcj02: bool = False,
                     catalog: Catalog | None = None, geometry_text: bool = False) -> list[dict[str, Any]]:
    """GeoJSON features for drawing: ``id``, the fields shown (labelled, HTML-escaped, missing values said to be
    missing), the raw values the style needs as ``_raw_<field>``; geometry shifted to GCJ-02 when asked.
    With ``geometry_text`` each geometry stays the JSON text shapely wrote (for :class:`VectorLayer`).

    Escaping here means an attribute such as ``<img src=x onerror=…>`` shows as text in tooltips and popups.
    Plain Python over columns (no per-cell pandas) keeps a rerun of the Map page cheap.
    """
    catalog = catalog or get_catalog()
    shown = [f for f in dict.fromkeys([*spec.tooltip, *spec.popup]) if f != "id" and f in gdf.columns]
    raw = [f for f in dict.fromkeys(("accuracy", "status", spec.style.color_field)) if f and f in gdf.columns]
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    keep = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if gcj02:
        geoms = np.array([geometry_wgs84_to_gcj02(g) if k else None for g, k in zip(geoms, keep)], dtype=object)
    geo_json = shapely.to_geojson(_rounded(geoms))
    ids = [safe_text(v) for v in gdf["id"].tolist()]
    values = {f: gdf[f].tolist() for f in shown}
    raws = {f: gdf[f].tolist() for f in raw}
    features = []
    for i in np.flatnonzero(keep):
        props: dict[str, Any] = {"id": ids[i]}
        props.update((f, _display_value(catalog, f, values[f][i], lang)) for f in shown)
        props.update((f"_raw_{f}", str(raws[f][i])) for f in raw)
        features.append({"type": "Feature", "id": ids[i], "properties": props,
                         "geometry": geo_json[i] if geometry_text else json.loads(geo_json[i])})
    return features


def display_frame(spec: LayerSpec, gdf: gpd.GeoDataFrame, *, lang: str = "zh", gcj02: bool = False,
                  catalog: Catalog | None = None) -> gpd.GeoDataFrame:
    """:func:`display_features` as a GeoDataFrame (for inspection and tests)."""
    features = display_features(spec, gdf, lang=lang, gcj02=gcj02, catalog=catalog)
    if not features:
        return gpd.GeoDataFrame({"id": []}, geometry=[], crs=gdf.crs)
    return gpd.GeoDataFrame.from_features(features, crs=gdf.crs)


def _raw_props(props: dict[str, Any]) -> dict[str, Any]:
    return {k[5:]: v for k, v in props.items() if k.startswith("_raw_")}


_TO_MEASURE = Transformer.from_crs(settings.WGS84, settings.MEASURE_CRS, always_xy=True)
_TO_WGS84 = Transformer.from_crs(settings.MEASURE_CRS, settings.WGS84, always_xy=True)


@lru_cache(maxsize=64)
def _rings(points: tuple[tuple[float, float, float], ...], gcj02: bool) -> tuple[tuple[float, str], ...]:
    """(radius, geometry JSON text) of each uncertainty circle, drawn true to scale in EPSG:4549."""
    out = []
    for lon, lat, radius in points:
        x, y = _TO_MEASURE.transform(lon, lat)
        ring = shapely.transform(Point(x, y).buffer(radius, quad_segs=12),
                                 lambda xy: np.column_stack(_TO_WGS84.transform(xy[:, 0], xy[:, 1])))
        if gcj02:
            ring = geometry_wgs84_to_gcj02(ring)
        out.append((radius, str(shapely.to_geojson(_rounded(np.array([ring]))[0]))))
    return tuple(out)


def uncertainty_rings(gdf: gpd.GeoDataFrame, *, gcj02: bool = False, geometry_text: bool = False
                      ) -> list[dict[str, Any]]:
    """Features of the circles around the layer's approximate points (empty when there are none)."""
    if "accuracy_m" not in gdf.columns:
        return []
    approx = gdf[(gdf["accuracy"] == "approximate") & gdf["accuracy_m"].notna() & gdf.geometry.notna()]
    points = tuple((round(g.x, 7), round(g.y, 7), float(r)) for g, r in zip(approx.geometry, approx["accuracy_m"])
                   if g.geom_type == "Point")
    return [{"type": "Feature", "id": None, "properties": {"accuracy_m": radius},
             "geometry": text if geometry_text else json.loads(text)} for radius, text in _rings(points, gcj02)]


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
        parts.append('{"type":"Feature","id":%s,"properties":%s,"geometry":%s}' % (
            _dumps(feat.get("id")), _dumps(feat["properties"]),
            geometry if isinstance(geometry, str) else _dumps(geometry)))
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


def _field_labels(catalog: Catalog, fields: tuple[str, ...], lang: str) -> list[list[str]]:
    return [[f, safe_text(catalog.label(f, lang))] for f in fields]


def add_layer(fmap: folium.Map, spec: LayerSpec, gdf: gpd.GeoDataFrame, *, lang: str = "zh",
              basemap: Basemap = BASEMAPS["none"], show: bool = True, catalog: Catalog | None = None,
              restyle: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> folium.FeatureGroup:
    """Add one layer (with its accuracy rings) to ``fmap`` as a toggleable feature group.

    ``restyle`` turns each feature's Leaflet style (and the rings') into another, e.g. to fade a layer.
    """
    catalog = catalog or get_catalog()
    tweak = restyle or (lambda style: style)
    features = display_features(spec, gdf, lang=lang, gcj02=basemap.gcj02, catalog=catalog, geometry_text=True)
    group = folium.FeatureGroup(name=safe_text(spec.title(lang)), show=show)
    if spec.geometry == "point":
        rings = uncertainty_rings(gdf, gcj02=basemap.gcj02, geometry_text=True)
        if rings:
            VectorLayer(rings, style=lambda _f: tweak(dict(APPROX_RING_STYLE)),
                        name=f"{spec.id}-uncertainty", interactive=False).add_to(group)
    base_style = style_function(spec)
    VectorLayer(features, style=lambda f: tweak(base_style({"properties": _raw_props(f["properties"])})),
                name=spec.id, tip=_field_labels(catalog, spec.tooltip, lang),
                pop=_field_labels(catalog, spec.popup, lang), radius=spec.style.radius).add_to(group)
    group.add_to(fmap)
    return group


APPROX_RING_STYLE = {"color": "#555555", "weight": 1.0, "dashArray": "4 4", "fillColor": "#888888",
                     "fillOpacity": 0.06}

_LEGEND_CSS = """<style>
  .sj-legend { position:absolute; bottom:64px; left:10px; z-index:1000; background:rgba(255,255,255,.93);
    padding:6px 10px; border:1px solid #999; border-radius:4px; max-height:55%; overflow:auto; max-width:260px;
    font:12px/1.35 'Noto Sans CJK SC','Microsoft YaHei',sans-serif; }
  .sj-legend summary { cursor:pointer; font-weight:700; }
  .leaflet-control-layers { font:12px/1.4 'Noto Sans CJK SC','Microsoft YaHei',sans-serif; }
  .leaflet-control-layers-group-name { font-weight:700; display:block; margin-top:4px; }
</style>"""


USER_LAYER_COLOUR = "#6a3d9a"


def add_user_layer(fmap: folium.Map, gdf: gpd.GeoDataFrame, *, name: str, lang: str = "zh",
                   basemap: Basemap = BASEMAPS["none"]) -> folium.FeatureGroup:
    """Draw an uploaded layer (purple; its first attribute columns in tooltip and popup, escaped)."""
    columns = [c for c in gdf.columns if c != gdf.geometry.name][:settings.USER_LAYER_MAX_FIELDS]
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    if basemap.gcj02:
        geoms = np.array([geometry_wgs84_to_gcj02(g) for g in geoms], dtype=object)
    texts = shapely.to_geojson(_rounded(geoms))
    values = {c: gdf[c].tolist() for c in columns}
    features = []
    for i, text in enumerate(texts):
        props = {f"f{j}": (MISSING[lang] if values[c][i] is None or (isinstance(values[c][i], float)
                                                                   and math.isnan(values[c][i]))
                           else safe_text(str(values[c][i])[:500])) for j, c in enumerate(columns)}
        features.append({"type": "Feature", "id": str(i), "properties": props, "geometry": text})
    fields = [[f"f{j}", safe_text(str(c)[:80])] for j, c in enumerate(columns)]
    style = {"color": USER_LAYER_COLOUR, "weight": 2.5, "opacity": 0.95, "fillColor": USER_LAYER_COLOUR,
             "fillOpacity": 0.25}
    group = folium.FeatureGroup(name=safe_text(name), show=True)
    VectorLayer(features, style=lambda _f: dict(style), name="user-layer", tip=fields[:4], pop=fields,
                radius=5.0).add_to(group)
    group.add_to(fmap)
    return group


def _swatch(entry: LegendEntry) -> str:
    colour = safe_text(entry.color)
    dash = f' stroke-dasharray="{safe_text(entry.dash)}"' if entry.dash else ""
    if entry.shape == "fill":
        inner = f'<rect x="1" y="2" width="22" height="10" fill="{colour}" fill-opacity=".35" stroke="{colour}" stroke-width="2"{dash}/>'
    elif entry.shape == "point":
        inner = f'<circle cx="12" cy="7" r="5" fill="{colour}" stroke="#fff" stroke-width="1.5"/>'
    elif entry.shape == "ring":
        inner = f'<circle cx="12" cy="7" r="6" fill="#888" fill-opacity=".15" stroke="{colour}" stroke-width="1"{dash}/><circle cx="12" cy="7" r="2" fill="{colour}"/>'
    else:
        inner = f'<line x1="1" y1="7" x2="23" y2="7" stroke="{colour}" stroke-width="3"{dash}/>'
    return f'<svg width="24" height="14" style="vertical-align:middle">{inner}</svg>'


def legend_html(sections: list[tuple[str, list[LegendEntry]]]) -> str:
    """HTML body of the legend; every label is escaped."""
    parts = []
    for title, entries in sections:
        parts.append(f'<div style="font-weight:600;margin-top:4px">{safe_text(title)}</div>')
        for e in entries:
            parts.append(f'<div class="sj-legend-row">{_swatch(e)} {safe_text(e.label)}</div>')
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


_VIEW_SYNC_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
    // Write the view the user pans or zooms to into the page address (c=lat,lon & z=zoom) so a copied link
    // restores it. Only the hosting Streamlit page (same origin) is touched; a standalone file does nothing.
    var map = {{ this._parent.get_name() }};
    var touched = false;
    var box = map.getContainer();
    // Capture phase: Leaflet's controls stop these events from bubbling.
    ["pointerdown", "mousedown", "wheel", "touchstart", "keydown", "dblclick"].forEach(function (name) {
        box.addEventListener(name, function () { touched = true; }, {passive: true, capture: true});
    });
    map.on("moveend", function () {
        if (!touched) { return; }
        try {
            var host = window.parent;
            if (!host || host === window) { return; }
            var url = new URL(host.location.href);
            var c = map.getCenter();
            url.searchParams.set("c", c.lat.toFixed({{ this.decimals }}) + "," + c.lng.toFixed({{ this.decimals }}));
            url.searchParams.set("z", String(Math.round(map.getZoom())));
            host.history.replaceState(host.history.state, "", url.toString());
        } catch (err) { /* another origin or no history: the link keeps the previous view */ }
    });
})();
{% endmacro %}
"""


class ViewToUrl(MacroElement):
    """Keeps the page URL's ``c``/``z`` in step with the map view after the user moves it (no server rerun)."""

    _template = Template(_VIEW_SYNC_TEMPLATE)

    def __init__(self, decimals: int = 5):
        super().__init__()
        self._name = "ViewToUrl"
        self.decimals = int(decimals)


def legend_records(spec: LayerSpec, gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """The few attributes the legend reads, per feature (plain lists: far cheaper than ``to_dict`` per rerun)."""
    cols = [c for c in dict.fromkeys((spec.style.color_field, "name_zh", "name_en", "status", "accuracy", "colour"))
            if c and c in gdf.columns]
    return [dict(zip(cols, row)) for row in zip(*(gdf[c].tolist() for c in cols))]


def add_fullscreen(fmap: folium.Map, *, lang: str = "zh", position: str = "topleft") -> None:
    """The full-screen button, titled in ``lang``."""
    Fullscreen(position=position, title=t("map_fullscreen", lang),
               title_cancel=t("map_fullscreen_exit", lang)).add_to(fmap)


def add_tools(fmap: folium.Map, *, lang: str = "zh") -> None:
    """Full-screen button and measure tool (the scale bar comes with ``control_scale``); assets are vendored."""
    add_fullscreen(fmap, lang=lang)
    MeasureControl(position="topleft", primary_length_unit="kilometers", secondary_length_unit="meters",
                   primary_area_unit="hectares", secondary_area_unit="sqmeters",
                   localization="en" if lang == "en" else "cn").add_to(fmap)


def add_layer_control(fmap: folium.Map, groups: Mapping[str, list[folium.FeatureGroup]], *,
                      basemap: Basemap, collapsed: bool = False) -> None:
    """The layer control with the catalogue's groups (规划结构 / 片区 / 行政区划 / 交通 / 产业).

    Basemap tiles, when any, get Leaflet's own control as well (the grouped one lists overlays only).
    """
    if groups:
        GroupedLayerControl({safe_text(k): v for k, v in groups.items()}, exclusive_groups=False,
                            collapsed=collapsed, position="topright").add_to(fmap)
    if basemap.tiles:
        folium.LayerControl(collapsed=True, position="topright").add_to(fmap)


def new_map(*, location: tuple[float, float] = (31.03, 121.22), zoom: int = 11, tools: bool = True,
            lang: str = "zh") -> folium.Map:
    """The one place a folium map is made: no tiles, SVG rendering, scale bar, and (``tools``) the
    full-screen button and measure tool. Assets are localised at the output boundary (``ui.draw``, HTML export)."""
    fmap = folium.Map(location=list(location), zoom_start=zoom, tiles=None, control_scale=True, prefer_canvas=False)
    if tools:
        add_tools(fmap, lang=lang)
    return fmap


def build_map(layers: Mapping[str, gpd.GeoDataFrame], *, lang: str = "zh", basemap: str = "none",
              visible: tuple[str, ...] | None = None, catalog: Catalog | None = None,
              tools: bool = True, user_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
              compact: bool = False) -> folium.Map:
    """Build the folium map of the given layers, in catalogue (draw) order.

    Parameters
    ----------
    layers
        Layer id → GeoDataFrame (WGS84), e.g. from :func:`layers.load.load_layers`.
    lang
        "zh" or "en" for titles, labels and legend.
    basemap
        A key of :func:`basemaps`; "none" needs no network. On a GCJ-02 basemap the vectors are shifted.
    visible
        Layer ids switched on at start; all when None.
    tools
        Add the full-screen button and the measure tool.
    user_layers
        Name → an uploaded layer (:func:`layers.userlayer.read_user_layer`) drawn on top, in its own group.
    compact
        For small maps: the legend and the layer control start folded.
    """
    catalog = catalog or get_catalog()
    offered = basemaps()
    base = offered.get(basemap, offered["none"])
    fmap = new_map(tools=tools, lang=lang)
    if base.tiles:
        folium.TileLayer(base.tiles, attr=html.escape(base.attribution), name=base.label_en if lang == "en"
                         else base.label_zh, subdomains=base.subdomains, max_zoom=18).add_to(fmap)
        if base.labels:
            folium.TileLayer(base.labels, attr=html.escape(base.attribution), name=t("map_labels", lang), subdomains=base.subdomains, max_zoom=18, overlay=True).add_to(fmap)
    sections: list[tuple[str, list[LegendEntry]]] = []
    groups: dict[str, list[folium.FeatureGroup]] = {}
    for spec in catalog.layers:
        if spec.id not in layers:
            continue
        gdf = layers[spec.id]
        show = visible is None or spec.id in visible
        group = add_layer(fmap, spec, gdf, lang=lang, basemap=base, show=show, catalog=catalog)
        groups.setdefault(catalog.groups[spec.group][lang], []).append(group)
        if show:
            sections.append((spec.title(lang), legend_entries(spec, legend_records(spec, gdf), catalog, lang)))
    for name, gdf in (user_layers or {}).items():
        group = add_user_layer(fmap, gdf, name=name, lang=lang, basemap=base)
        groups.setdefault(t("map_my_layers", lang), []).append(group)
        sections.append((name, [LegendEntry(t("map_uploaded", lang),
                                            USER_LAYER_COLOUR, "fill")]))
    sections.append((t("map_accuracy", lang), accuracy_legend(catalog, lang)))
    Legend(legend_html(sections), title=t("map_legend", lang), open_=not compact).add_to(fmap)
    add_layer_control(fmap, groups, basemap=base, collapsed=compact)
    if "district" in layers:
        minx, miny, maxx, maxy = layers["district"].total_bounds
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap
