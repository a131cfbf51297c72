"""QGIS layer styles (QML) from :mod:`layers.export.symbology`: rule-based symbols, labels and field aliases."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from layers.export.symbology import Condition, LayerSheet, Symbol

#: The QGIS version the style is written for (the LTR Debian 12 ships); later versions read it unchanged.
QGIS_VERSION = "3.22.16-Białowieża"
#: Label font: QGIS falls back to a font with CJK glyphs when this one is missing.
LABEL_FONT = "Noto Sans CJK SC"
#: QGIS label placement by geometry: around a point, horizontal over a polygon, curved along a line.
_PLACEMENT = {"point": "0", "polygon": "1", "line": "3"}
_SYMBOL_TYPE = {"point": "marker", "line": "line", "polygon": "fill"}


def qgis_colour(hex_colour: str, opacity: float = 1.0) -> str:
    """``#rrggbb`` and an opacity as QGIS writes colours: ``r,g,b,a`` (0–255)."""
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},{round(max(0.0, min(1.0, opacity)) * 255)}"


def _options(parent: ET.Element, values: dict[str, str]) -> None:
    box = ET.SubElement(parent, "Option", type="Map")
    for name, value in values.items():
        ET.SubElement(box, "Option", name=name, type="QString", value=value)


def _line_layer(parent: ET.Element, sym: Symbol) -> None:
    layer = ET.SubElement(parent, "layer", {"class": "SimpleLine", "enabled": "1", "pass": "0", "locked": "0"})
    _options(layer, {
        "line_color": qgis_colour(sym.stroke, sym.stroke_opacity), "line_width": f"{sym.width:g}",
        "line_width_unit": "Pixel", "line_style": "solid", "capstyle": "round", "joinstyle": "round",
        "use_custom_dash": "1" if sym.dash else "0", "customdash": ";".join(f"{v:g}" for v in sym.dash) or "5;2",
        "customdash_unit": "Pixel", "offset": "0", "offset_unit": "Pixel", "draw_inside_polygon": "0",
    })


def _symbol(parent: ET.Element, name: str, sym: Symbol) -> None:
    node = ET.SubElement(parent, "symbol", {"type": _SYMBOL_TYPE[sym.family], "name": name, "alpha": "1",
                                            "clip_to_extent": "1", "force_rhr": "0"})
    if sym.family == "point":
        layer = ET.SubElement(node, "layer", {"class": "SimpleMarker", "enabled": "1", "pass": "0", "locked": "0"})
        _options(layer, {
            "name": "circle", "color": qgis_colour(sym.fill or sym.stroke, sym.fill_opacity),
            "outline_color": qgis_colour(sym.stroke, sym.stroke_opacity), "outline_style": "solid",
            "outline_width": f"{sym.width:g}", "outline_width_unit": "Pixel", "size": f"{sym.size:g}",
            "size_unit": "Pixel", "scale_method": "diameter", "joinstyle": "round",
        })
    elif sym.family == "polygon":
        fill = ET.SubElement(node, "layer", {"class": "SimpleFill", "enabled": "1", "pass": "0", "locked": "0"})
        _options(fill, {
            "color": qgis_colour(sym.fill or sym.stroke, sym.fill_opacity),
            "style": "solid" if sym.fill_opacity > 0 else "no", "outline_style": "no",
            "outline_color": qgis_colour(sym.stroke, 0.0), "outline_width": "0", "outline_width_unit": "Pixel",
        })
        _line_layer(node, sym)  # an outline symbol layer: the only one that draws a custom dash pattern
    else:
        _line_layer(node, sym)


def rule_expression(conditions: tuple[Condition, ...]) -> str:
    """A QGIS filter expression for a rule's conditions (``ELSE`` for the catch-all)."""
    parts = []
    for cond in conditions:
        value = cond.value.replace("'", "''")
        field = cond.field.replace('"', '""')
        parts.append(f"\"{field}\" {'=' if cond.equal else '<>'} '{value}'")
    return " AND ".join(parts) if parts else "ELSE"


def _labeling(parent: ET.Element, sheet: LayerSheet) -> None:
    labeling = ET.SubElement(parent, "labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    style = ET.SubElement(settings, "text-style", {
        "fieldName": sheet.label_field or "", "isExpression": "0", "fontFamily": LABEL_FONT, "namedStyle": "Regular",
        "fontSize": "9", "fontSizeUnit": "Point", "fontWeight": "50", "fontItalic": "0", "textColor": "40,40,40,255",
        "textOpacity": "1", "multilineHeight": "1", "allowHtml": "0", "capitalization": "0",
    })
    ET.SubElement(style, "text-buffer", {"bufferDraw": "1", "bufferSize": "1", "bufferSizeUnits": "MM",
                                         "bufferColor": "255,255,255,255", "bufferOpacity": "0.85",
                                         "bufferJoinStyle": "128", "bufferNoFill": "1"})
    ET.SubElement(settings, "text-format", {"wrapChar": "", "autoWrapLength": "0", "multilineAlign": "3",
                                            "addDirectionSymbol": "0", "formatNumbers": "0"})
    ET.SubElement(settings, "placement", {"placement": _PLACEMENT[sheet.family], "dist": "1.5", "distUnits": "MM",
                                          "priority": "5", "placementFlags": "10", "offsetType": "0",
                                          "centroidInside": "1", "centroidWhole": "0", "fitInPolygonOnly": "0",
                                          "repeatDistance": "0", "overrunDistance": "0"})
    ET.SubElement(settings, "rendering", {"obstacle": "1", "drawLabels": "1", "scaleVisibility": "0",
                                          "displayAll": "0", "upsidedownLabels": "0", "labelPerPart": "0",
                                          "mergeLines": "1" if sheet.family == "line" else "0",
                                          "limitNumLabels": "0", "fontLimitPixelSize": "0"})


def style_elements(sheet: LayerSheet) -> list[ET.Element]:
    """The children of a QML ``<qgis>`` root (renderer, labels, aliases): also embedded in a project's layer."""
    renderer = ET.Element("renderer-v2", {"type": "RuleRenderer", "symbollevels": "0", "enableorderby": "0",
                                          "forceraster": "0", "referencescale": "-1"})
    rules = ET.SubElement(renderer, "rules", key="{root}")
    symbols = ET.Element("symbols")
    for i, rule in enumerate(sheet.rules):
        ET.SubElement(rules, "rule", {"key": "{" + rule.key + "}", "symbol": str(i), "label": rule.label,
                                      "filter": rule_expression(rule.conditions)})
        _symbol(symbols, str(i), rule.symbol)
    renderer.append(symbols)
    elements = [renderer]
    if sheet.label_field:
        labeling = ET.Element("_")
        _labeling(labeling, sheet)
        elements += list(labeling)
    aliases = ET.Element("aliases")
    for i, (field, alias) in enumerate(sheet.aliases):
        ET.SubElement(aliases, "alias", field=field, index=str(i), name=alias)
    elements.append(aliases)
    elements.append(ET.Element("layerGeometryType", {}))
    elements[-1].text = {"point": "0", "line": "1", "polygon": "2"}[sheet.family]
    return elements


def layer_qml(sheet: LayerSheet) -> str:
    """A complete ``.qml`` document for one table (QGIS applies it on open from ``layer_styles`` or beside a file)."""
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "Symbology|Labeling|Fields",
                               "labelsEnabled": "1" if sheet.label_field else "0"})
    root.extend(style_elements(sheet))
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode") + "\n"
