"""A QGIS project (``.qgs`` XML) opening every table of an exported GeoPackage, styled and grouped as on the web map."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from pyproj import CRS

from layers.core.catalog import Catalog
from layers.export.qml import QGIS_VERSION, style_elements
from layers.export.symbology import LayerSheet

_GEOMETRY = {"point": ("Point", "Point"), "line": ("Line", "MultiLineString"), "polygon": ("Polygon", "MultiPolygon")}


def layer_source(gpkg_name: str, table: str) -> str:
    """The OGR data source of one table, relative to the project file (both sit in the same folder)."""
    return f"./{gpkg_name}|layername={table}"


def _srs(parent: ET.Element, epsg: int) -> None:
    crs = CRS.from_epsg(epsg)
    ref = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    for tag, text in (("wkt", crs.to_wkt()), ("srsid", "0"), ("srid", str(epsg)),
                      ("authid", f"EPSG:{epsg}"), ("description", crs.name),
                      ("geographicflag", "true" if crs.is_geographic else "false")):
        ET.SubElement(ref, tag).text = text


def _layer_id(table: str) -> str:
    return f"songjiang_{table}"


def project_qgs(catalog: Catalog, tables: Sequence[tuple[str, LayerSheet]], *, gpkg_name: str, crs: int, lang: str,
                title: str, extent: tuple[float, float, float, float] | None = None) -> str:
    """The project XML for ``tables`` — (layer id, sheet) pairs in draw order, bottom first.

    Layers sit in the catalogue's groups (titles in ``lang``), the topmost drawn first as in QGIS's layer panel;
    each reads its table from ``gpkg_name`` by a relative path and carries the same style as ``layer_styles``.
    """
    root = ET.Element("qgis", {"projectname": title, "version": QGIS_VERSION})
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = title
    _srs(ET.SubElement(root, "projectCrs"), crs)
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    groups: dict[str, ET.Element] = {}
    for layer_id, sheet in reversed(tables):
        group_key = catalog.layer(layer_id).group
        if group_key not in groups:
            names = catalog.groups.get(group_key, {})
            groups[group_key] = ET.SubElement(tree, "layer-tree-group", {
                "name": names.get(lang, group_key), "checked": "Qt::Checked", "expanded": "1"})
            ET.SubElement(groups[group_key], "customproperties")
        node = ET.SubElement(groups[group_key], "layer-tree-layer", {
            "id": _layer_id(sheet.name), "name": sheet.title, "source": layer_source(gpkg_name, sheet.name),
            "providerKey": "ogr", "checked": "Qt::Checked", "expanded": "1", "legend_exp": ""})
        ET.SubElement(node, "customproperties")
    if extent is not None:
        canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
        ET.SubElement(canvas, "units").text = "degrees" if CRS.from_epsg(crs).is_geographic else "meters"
        box = ET.SubElement(canvas, "extent")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), extent, strict=True):
            ET.SubElement(box, tag).text = repr(float(value))
        _srs(ET.SubElement(canvas, "destinationsrs"), crs)
    layers = ET.SubElement(root, "projectlayers")
    for _source_layer, sheet in tables:
        geometry, wkb = _GEOMETRY[sheet.family]
        node = ET.SubElement(layers, "maplayer", {
            "type": "vector", "geometry": geometry, "wkbType": wkb, "labelsEnabled": "1" if sheet.label_field else "0",
            "hasScaleBasedVisibilityFlag": "0", "minScale": "100000000", "maxScale": "0", "readOnly": "0"})
        ET.SubElement(node, "id").text = _layer_id(sheet.name)
        ET.SubElement(node, "datasource").text = layer_source(gpkg_name, sheet.name)
        ET.SubElement(node, "layername").text = sheet.title
        _srs(ET.SubElement(node, "srs"), crs)
        ET.SubElement(node, "provider", encoding="UTF-8").text = "ogr"
        node.extend(style_elements(sheet))
    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode") + "\n"
