"""Turn loaded layers into a folium map: display copies, tooltips, popups, accuracy rings, legend, basemaps."""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Mapping

import folium
import geopandas as gpd
from branca.element import MacroElement, Template

from . import settings
from .assets import localize_assets
from .catalog import Catalog, LayerSpec, get_catalog
from .coords import geometry_wgs84_to_gcj02
from .style import LegendEntry, accuracy_legend, legend_entries, style_function

MISSING = {"zh": "缺失（未找到来源）", "en": "missing (no source found)"}
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


BASEMAPS: dict[str, Basemap] = {
    "none": Basemap("none", "无底图（离线）", "No basemap (offline)", None, "", needs_network=False),
    "osm": Basemap("osm", "OpenStreetMap（需联网）", "OpenStreetMap (online)",
                   "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors"),
    "positron": Basemap("positron", "CartoDB Positron（需联网）", "CartoDB Positron (online)",
                        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
                        "© OpenStreetMap contributors © CARTO"),
    "amap": Basemap("amap", "高德地图（GCJ-02，需联网）", "Amap (GCJ-02, online)",
                    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                    "© 高德地图 AutoNavi", gcj02=True),
}


def _display_value(catalog: Catalog, field: str, value: Any, lang: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return MISSING[lang]
    if field in CODED_FIELDS and isinstance(value, str):
        value = ", ".join(catalog.value_label(field, v.strip(), lang) for v in value.split(",")) if value else ""
    return html.escape(str(value))


def display_frame(spec: LayerSpec, gdf: gpd.GeoDataFrame, *, lang: str = "zh", gcj02: bool = False,
                  catalog: Catalog | None = None) -> gpd.GeoDataFrame:
    """A copy for drawing: only the fields shown, values labelled and HTML-escaped, optionally shifted to GCJ-02.

    Escaping here means an attribute such as ``<img src=x onerror=…>`` shows as text in tooltips and popups.
    """
    catalog = catalog or get_catalog()
    keep = list(dict.fromkeys(["id", *spec.tooltip, *spec.popup]))
    out = gpd.GeoDataFrame({"id": gdf["id"].astype(str)}, geometry=gdf.geometry.values, crs=gdf.crs)
    for field in keep:
        if field == "id":
            continue
        out[field] = [_display_value(catalog, field, v, lang) for v in gdf[field]]
    # Raw values the style functions need, kept out of tooltips.
    for raw in ("accuracy", "status", spec.style.color_field):
        if raw and raw in gdf.columns:
            out[f"_raw_{raw}"] = gdf[raw].astype(str).values
    if gcj02:
        out = out.set_geometry([geometry_wgs84_to_gcj02(g) if g is not None else None for g in out.geometry])
    return out[~out.geometry.isna()]


def _raw_props(props: dict[str, Any]) -> dict[str, Any]:
    return {k[5:]: v for k, v in props.items() if k.startswith("_raw_")}


def _uncertainty_rings(gdf: gpd.GeoDataFrame, *, gcj02: bool) -> gpd.GeoDataFrame | None:
    approx = gdf[(gdf["accuracy"] == "approximate") & gdf["accuracy_m"].notna() & gdf.geometry.notna()]
    if approx.empty:
        return None
    metric = approx[["id", "accuracy_m"]].set_geometry(approx.geometry.to_crs(settings.MEASURE_CRS))
    rings = metric.set_geometry(metric.geometry.buffer(metric["accuracy_m"].astype(float), quad_segs=12))
    rings = rings.to_crs(settings.WGS84)
    if gcj02:
        rings = rings.set_geometry([geometry_wgs84_to_gcj02(g) for g in rings.geometry])
    return rings


def _labels(catalog: Catalog, fields: tuple[str, ...], lang: str) -> list[str]:
    return [html.escape(catalog.label(f, lang)) for f in fields]


def add_layer(fmap: folium.Map, spec: LayerSpec, gdf: gpd.GeoDataFrame, *, lang: str = "zh",
              basemap: Basemap = BASEMAPS["none"], show: bool = True, catalog: Catalog | None = None
              ) -> folium.FeatureGroup:
    """Add one layer (with its accuracy rings) to ``fmap`` as a toggleable feature group."""
    catalog = catalog or get_catalog()
    shown = display_frame(spec, gdf, lang=lang, gcj02=basemap.gcj02, catalog=catalog)
    group = folium.FeatureGroup(name=html.escape(spec.title(lang)), show=show)
    if spec.geometry == "point":
        rings = _uncertainty_rings(gdf, gcj02=basemap.gcj02)
        if rings is not None:
            folium.GeoJson(rings.to_json(drop_id=True), interactive=False, name=f"{spec.id}-uncertainty",
                           style_function=lambda _f: dict(APPROX_RING_STYLE)).add_to(group)
    base_style = style_function(spec)
    kwargs: dict[str, Any] = {}
    if spec.geometry == "point":
        kwargs["marker"] = folium.CircleMarker(radius=spec.style.radius)
    folium.GeoJson(
        shown.to_json(drop_id=True),
        name=spec.id,
        style_function=lambda f: base_style({"properties": _raw_props(f["properties"])}),
        highlight_function=lambda _f: {"weight": 4, "fillOpacity": 0.45},
        tooltip=folium.GeoJsonTooltip(fields=list(spec.tooltip), aliases=_labels(catalog, spec.tooltip, lang),
                                      sticky=True),
        popup=folium.GeoJsonPopup(fields=list(spec.popup), aliases=_labels(catalog, spec.popup, lang),
                                  max_width=420),
        **kwargs,
    ).add_to(group)
    group.add_to(fmap)
    return group


APPROX_RING_STYLE = {"color": "#555555", "weight": 1.0, "dashArray": "4 4", "fillColor": "#888888",
                     "fillOpacity": 0.06}

_LEGEND_TEMPLATE = """
{% macro html(this, kwargs) %}
<div class="sj-legend" style="position:absolute; bottom:44px; left:10px; z-index:1000; background:rgba(255,255,255,.93);
     padding:8px 10px; border:1px solid #999; border-radius:4px; font:12px/1.35 'Noto Sans CJK SC','Microsoft YaHei',sans-serif;
     max-height:60%; overflow:auto; max-width:260px;">
{{ this.body }}
</div>
{% endmacro %}
"""


def _swatch(entry: LegendEntry) -> str:
    colour = html.escape(entry.color)
    dash = f' stroke-dasharray="{html.escape(entry.dash)}"' if entry.dash else ""
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
        parts.append(f'<div style="font-weight:600;margin-top:4px">{html.escape(title)}</div>')
        for e in entries:
            parts.append(f'<div class="sj-legend-row">{_swatch(e)} {html.escape(e.label)}</div>')
    return "\n".join(parts)


class Legend(MacroElement):
    """A fixed legend box on the map."""

    _template = Template(_LEGEND_TEMPLATE)

    def __init__(self, body: str):
        super().__init__()
        self._name = "Legend"
        self.body = body


def build_map(layers: Mapping[str, gpd.GeoDataFrame], *, lang: str = "zh", basemap: str = "none",
              visible: tuple[str, ...] | None = None, catalog: Catalog | None = None,
              legend_title: str | None = None) -> folium.Map:
    """Build the folium map of the given layers, in catalogue (draw) order.

    Parameters
    ----------
    layers
        Layer id → GeoDataFrame (WGS84), e.g. from :func:`layers.load.load_layers`.
    lang
        "zh" or "en" for titles, labels and legend.
    basemap
        A key of :data:`BASEMAPS`; "none" needs no network. On a GCJ-02 basemap the vectors are shifted.
    visible
        Layer ids switched on at start; all when None.
    """
    catalog = catalog or get_catalog()
    base = BASEMAPS.get(basemap, BASEMAPS["none"])
    fmap = folium.Map(location=[31.03, 121.22], zoom_start=11, tiles=None, control_scale=True,
                      prefer_canvas=False)
    if base.tiles:
        folium.TileLayer(base.tiles, attr=html.escape(base.attribution), name=base.label_en if lang == "en"
                         else base.label_zh, subdomains="1234" if base.gcj02 else "abc", max_zoom=18).add_to(fmap)
    sections: list[tuple[str, list[LegendEntry]]] = []
    for spec in catalog.layers:
        if spec.id not in layers:
            continue
        gdf = layers[spec.id]
        show = visible is None or spec.id in visible
        add_layer(fmap, spec, gdf, lang=lang, basemap=base, show=show, catalog=catalog)
        if show:
            props = gdf.drop(columns="geometry").to_dict("records")
            sections.append((spec.title(lang), legend_entries(spec, props, catalog, lang)))
    sections.append(("精度与状态" if lang == "zh" else "Accuracy and status", accuracy_legend(catalog, lang)))
    Legend(legend_html(sections)).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    if "district" in layers:
        minx, miny, maxx, maxy = layers["district"].total_bounds
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    localize_assets(fmap)
    return fmap
