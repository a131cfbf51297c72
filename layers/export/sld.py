"""OGC SLD 1.1 styles from :mod:`layers.export.symbology`, for ArcGIS, GeoServer and QGIS's "Load style"."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from layers.export.symbology import LayerSheet, StyleRule, Symbol

SLD = "http://www.opengis.net/sld"
SE = "http://www.opengis.net/se"
OGC = "http://www.opengis.net/ogc"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
for _prefix, _uri in (("", SLD), ("se", SE), ("ogc", OGC), ("xsi", XSI)):
    ET.register_namespace(_prefix, _uri)


def _se(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{SE}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def _param(parent: ET.Element, name: str, value: str) -> None:
    _se(parent, "SvgParameter", value, name=name)


def _stroke(parent: ET.Element, sym: Symbol) -> None:
    stroke = _se(parent, "Stroke")
    _param(stroke, "stroke", sym.stroke)
    _param(stroke, "stroke-opacity", f"{sym.stroke_opacity:g}")
    _param(stroke, "stroke-width", f"{sym.width:g}")
    _param(stroke, "stroke-linejoin", "round")
    _param(stroke, "stroke-linecap", "round")
    if sym.dash:
        _param(stroke, "stroke-dasharray", " ".join(f"{v:g}" for v in sym.dash))


def _symbolizer(parent: ET.Element, sym: Symbol) -> None:
    if sym.family == "point":
        point = _se(parent, "PointSymbolizer")
        graphic = _se(point, "Graphic")
        mark = _se(graphic, "Mark")
        _se(mark, "WellKnownName", "circle")
        fill = _se(mark, "Fill")
        _param(fill, "fill", sym.fill or sym.stroke)
        _param(fill, "fill-opacity", f"{sym.fill_opacity:g}")
        _stroke(mark, sym)
        _se(graphic, "Size", f"{sym.size:g}")
        return
    if sym.family == "polygon":
        poly = _se(parent, "PolygonSymbolizer")
        if sym.fill_opacity > 0:
            fill = _se(poly, "Fill")
            _param(fill, "fill", sym.fill or sym.stroke)
            _param(fill, "fill-opacity", f"{sym.fill_opacity:g}")
        _stroke(poly, sym)
        return
    _stroke(_se(parent, "LineSymbolizer"), sym)


def _filter(parent: ET.Element, rule: StyleRule) -> None:
    if rule.is_else:
        _se(parent, "ElseFilter")
        return
    flt = ET.SubElement(parent, f"{{{OGC}}}Filter")
    target = ET.SubElement(flt, f"{{{OGC}}}And") if len(rule.conditions) > 1 else flt
    for cond in rule.conditions:
        op = ET.SubElement(target, f"{{{OGC}}}{'PropertyIsEqualTo' if cond.equal else 'PropertyIsNotEqualTo'}")
        ET.SubElement(op, f"{{{OGC}}}PropertyName").text = cond.field
        ET.SubElement(op, f"{{{OGC}}}Literal").text = cond.value


def _label_rule(parent: ET.Element, sheet: LayerSheet) -> None:
    rule = _se(parent, "Rule")
    _se(rule, "Name", "labels")
    text = _se(rule, "TextSymbolizer")
    label = _se(text, "Label")
    ET.SubElement(label, f"{{{OGC}}}PropertyName").text = sheet.label_field
    font = _se(text, "Font")
    _param(font, "font-family", "Noto Sans CJK SC")
    _param(font, "font-size", "12")
    halo = _se(text, "Halo")
    _se(halo, "Radius", "1.5")
    _param(_se(halo, "Fill"), "fill", "#ffffff")
    _param(_se(text, "Fill"), "fill", "#282828")


def layer_sld(sheet: LayerSheet) -> str:
    """A complete SLD 1.1 document for one table: one ``Rule`` per legend row, then the labels."""
    root = ET.Element(f"{{{SLD}}}StyledLayerDescriptor", {
        "version": "1.1.0",
        f"{{{XSI}}}schemaLocation": "http://www.opengis.net/sld "
                                    "http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd"})
    layer = ET.SubElement(root, f"{{{SLD}}}NamedLayer")
    _se(layer, "Name", sheet.name)
    style = ET.SubElement(layer, f"{{{SLD}}}UserStyle")
    _se(style, "Name", sheet.name)
    _se(_se(style, "Description"), "Title", sheet.title)
    fts = _se(style, "FeatureTypeStyle")
    for rule in sheet.rules:
        node = _se(fts, "Rule")
        _se(node, "Name", rule.key)
        _se(_se(node, "Description"), "Title", rule.label)
        _filter(node, rule)
        _symbolizer(node, rule.symbol)
    if sheet.label_field:
        _label_rule(fts, sheet)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
