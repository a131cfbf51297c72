"""Turn loaded layers into a folium map: display copies, tooltips, popups, accuracy rings, legend."""
from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from folium.plugins import Fullscreen, GroupedLayerControl, MeasureControl
from shapely.geometry import Point

from layers.core import settings
from layers.core.caches import cached
from layers.core.catalog import Catalog, LayerSpec, get_catalog
from layers.core.crs import TO_MEASURE, TO_WGS84, geometry_wgs84_to_gcj02
from layers.core.datatext import pick_lang, plan_ref_text
from layers.core.i18n import t
from layers.core.numbers import fmt_field, is_missing, missing_text
from layers.map.basemaps import BASEMAPS, Basemap, basemaps
from layers.map.elements import Legend, VectorLayer, ZoomControl, legend_html, safe_text
from layers.map.load import town_name
from layers.map.style import APPROXIMATE_RING, LegendEntry, accuracy_legend, layer_title, legend_entries, style_function

#: Decimal places of drawn coordinates (1e-6 degree is about 0.1 m here).
DISPLAY_DECIMALS = 6
#: Figures measured on the feature's own geometry: approximate when it is schematic.
GEOMETRY_FIGURES = frozenset({"area_km2", "length_km"})
#: A point's town: approximate when it was computed on a schematic cell.
TOWN_FIELDS = frozenset({"town_zh", "town_code", "town_codes"})
#: Fields whose values are codes with labels in the catalogue's [values] tables.
CODED_FIELDS = ("accuracy", "mode", "status", "kind", "industries", "element", "type", "town_basis")
#: Fields that cite the plan's lines ("FYP 1447"): worded as references ("规划第 1447 行").
PLAN_REF_FIELDS = frozenset({"plan_ref", "fyp_zone_ref"})


def _display_value(catalog: Catalog, field: str, value: Any, lang: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return missing_text(lang)
    if isinstance(value, (bool, np.bool_)):
        return t("yes" if value else "no", lang)
    figure = fmt_field(field, value, lang) if not (isinstance(value, str) and value == "") else None
    if figure is not None:
        return safe_text(figure)
    if field == "town_zh" and isinstance(value, str):
        value = town_name(value, lang)  # the unit's English name on an English page
    elif field in CODED_FIELDS and isinstance(value, str):
        value = ", ".join(catalog.value_label(field, v.strip(), lang) for v in value.split(",")) if value else ""
    elif isinstance(value, str):
        value = plan_ref_text(value, lang) if field in PLAN_REF_FIELDS else pick_lang(value, lang)
    return safe_text(value)


def lang_fields(fields: tuple[str, ...] | list[str], lang: str) -> tuple[str, ...]:
    """The fields a reader of ``lang`` is shown: in zh no English copies (``*_en``); in en no Chinese copies of
    texts that have an English one (the Chinese name stays: it is the place's official name)."""
    def keep(f: str) -> bool:
        if lang == "en":
            return not (f.endswith("_zh") and f != "name_zh" and f"{f[:-3]}_en" in fields)
        return not f.endswith("_en")
    kept = [f for f in fields if keep(f)]
    if lang == "en" and "name_zh" in kept and "name_en" in kept:  # the English name first: a hover shows the first
        kept.remove("name_en")
        kept.insert(kept.index("name_zh"), "name_en")
    return tuple(kept)


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
    shown = list(lang_fields(shown, lang))
    raw = [f for f in dict.fromkeys(("accuracy", "status", spec.style.color_field)) if f and f in gdf.columns]
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    keep = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if gcj02:
        geoms = np.array([geometry_wgs84_to_gcj02(g) if k else None for g, k in zip(geoms, keep, strict=False)],
                         dtype=object)
    geo_json = shapely.to_geojson(_rounded(geoms))
    ids = [safe_text(v) for v in gdf["id"].tolist()]
    values = {f: gdf[f].tolist() for f in shown}
    raws = {f: gdf[f].tolist() for f in raw}
    geom_approx = ([a == "schematic" for a in gdf["accuracy"].tolist()] if "accuracy" in gdf.columns
                   else [False] * len(gdf))
    town_approx = ([v is not None and v == v and bool(v) for v in gdf["town_approx"].tolist()]
                   if "town_approx" in gdf.columns else [False] * len(gdf))
    features = []
    for i in np.flatnonzero(keep):
        props: dict[str, Any] = {"id": ids[i]}
        props.update((f, _display_value(catalog, f, values[f][i], lang)) for f in shown)
        # Figures that depend on schematic geometry carry "≈" wherever they appear (issue 13).
        for f in shown:
            if (f in GEOMETRY_FIGURES and geom_approx[i]) or (f in TOWN_FIELDS and town_approx[i]):
                props[f] = "≈ " + props[f]
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


@cached(maxsize=64)
def _rings(points: tuple[tuple[float, float, float], ...], gcj02: bool) -> tuple[tuple[float, str], ...]:
    """(radius, geometry JSON text) of each uncertainty circle, drawn true to scale in EPSG:4549."""
    out = []
    for lon, lat, radius in points:
        x, y = TO_MEASURE.transform(lon, lat)
        ring = shapely.transform(Point(x, y).buffer(radius, quad_segs=12),
                                 lambda xy: np.column_stack(TO_WGS84.transform(xy[:, 0], xy[:, 1])))
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
    rows = [(i, g, r) for i, g, r in zip(approx["id"] if "id" in approx.columns else [None] * len(approx),
                                         approx.geometry, approx["accuracy_m"], strict=True) if g.geom_type == "Point"]
    points = tuple((round(g.x, 7), round(g.y, 7), float(r)) for _, g, r in rows)
    # Each circle names its point (``_of``), so the in-page map hides it with its point when a filter leaves it out.
    return [{"type": "Feature", "id": None,
             "properties": {"accuracy_m": radius, "_of": None if i is None else safe_text(i)},
             "geometry": text if geometry_text else json.loads(text)}
            for (i, _, _), (radius, text) in zip(rows, _rings(points, gcj02), strict=True)]


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
    group = folium.FeatureGroup(name=safe_text(layer_title(spec, gdf, lang)), show=show)
    if spec.geometry == "point":
        rings = uncertainty_rings(gdf, gcj02=basemap.gcj02, geometry_text=True)
        if rings:
            VectorLayer(rings, style=lambda _f: tweak(dict(APPROXIMATE_RING)),
                        name=f"{spec.id}-uncertainty", interactive=False).add_to(group)
    base_style = style_function(spec)
    VectorLayer(features, style=lambda f: tweak(base_style({"properties": _raw_props(f["properties"])})),
                name=spec.id, tip=_field_labels(catalog, lang_fields(spec.tooltip, lang), lang),
                pop=_field_labels(catalog, lang_fields(spec.popup, lang), lang), radius=spec.style.radius
                ).add_to(group)
    group.add_to(fmap)
    return group


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
        props = {f"f{j}": (missing_text(lang) if not isinstance(values[c][i], str) and is_missing(values[c][i])
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


def legend_records(spec: LayerSpec, gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """The few attributes the legend reads, per feature (plain lists: far cheaper than ``to_dict`` per rerun)."""
    cols = [c for c in dict.fromkeys((spec.style.color_field, "id", "name_zh", "name_en", "status", "accuracy",
                                      "colour"))
            if c and c in gdf.columns]
    return [dict(zip(cols, row, strict=False)) for row in zip(*(gdf[c].tolist() for c in cols), strict=False)]


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
    """The one place a folium map is made: no tiles, SVG rendering, scale bar, zoom buttons titled in ``lang``, and
    (``tools``) the full-screen button and measure tool. Assets are localised at the output boundary (``ui.draw``,
    HTML export)."""
    fmap = folium.Map(location=list(location), zoom_start=zoom, tiles=None, control_scale=True, prefer_canvas=False,
                      zoom_control=False)
    fmap.add_child(ZoomControl(t("mv_zoom_in", lang), t("mv_zoom_out", lang)))
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
            folium.TileLayer(base.labels, attr=html.escape(base.attribution), name=t("map_labels", lang),
                             subdomains=base.subdomains, max_zoom=18, overlay=True).add_to(fmap)
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
            sections.append((layer_title(spec, gdf, lang),
                             legend_entries(spec, legend_records(spec, gdf), catalog, lang)))
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
