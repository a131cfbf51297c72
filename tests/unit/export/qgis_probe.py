"""Run by Debian's /usr/bin/python3 (PyQGIS lives there, not in the venv): open an exported GeoPackage and its
QGIS project headless, report per layer validity, CRS, the style QGIS applied, and render the project to a PNG.

Usage: python3 qgis_probe.py GPKG QGS PNG  → one JSON object on stdout.
"""
from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsRenderContext,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def _colours(layer: QgsVectorLayer) -> list[str]:
    """Every colour of every symbol layer the renderer draws with (fills, outlines, markers)."""
    renderer = layer.renderer()
    colours: set[str] = set()
    for sym in renderer.symbols(QgsRenderContext()) if renderer else []:
        for i in range(sym.symbolLayerCount()):
            sl = sym.symbolLayer(i)
            colours.add(sl.color().name())
            if hasattr(sl, "strokeColor"):
                colours.add(sl.strokeColor().name())
    return sorted(colours)


_keep: list = []


def main(gpkg: str, qgs: str, png: str) -> dict:
    app = QgsApplication([], False)
    app.initQgis()
    _keep.append(app)
    out: dict = {"gpkg": {}, "project": {}, "errors": []}
    try:
        whole = QgsVectorLayer(gpkg, "probe", "ogr")
        tables = [s.split("!!::!!")[1] for s in whole.dataProvider().subLayers()]
        for table in tables:
            if table in ("layer_metadata", "layer_styles"):
                continue
            layer = QgsVectorLayer(f"{gpkg}|layername={table}", table, "ogr")
            message, ok = layer.loadDefaultStyle()
            renderer = layer.renderer()
            out["gpkg"][table] = {
                "valid": layer.isValid(), "crs": layer.crs().authid(), "style_loaded": bool(ok),
                "style_message": message, "renderer": renderer.type() if renderer else None,
                "colours": _colours(layer), "labels": layer.labelsEnabled(),
                "aliases": {f.name(): f.alias() for f in layer.fields()},
                "features": layer.featureCount(),
            }
        project = QgsProject.instance()
        out["project_read"] = project.read(qgs)
        layers = list(project.mapLayers().values())
        root = project.layerTreeRoot()
        out["groups"] = [g.name() for g in root.children()]
        for layer in layers:
            renderer = layer.renderer()
            out["project"][layer.name()] = {
                "valid": layer.isValid(), "crs": layer.crs().authid(), "source": layer.source(),
                "renderer": renderer.type() if renderer else None, "colours": _colours(layer),
                "labels": layer.labelsEnabled(), "features": layer.featureCount(),
            }
        settings = QgsMapSettings()
        order = [node.layer() for node in root.findLayers()]
        settings.setLayers(order)
        settings.setDestinationCrs(project.crs())
        extent = QgsRectangle()
        for layer in order:
            extent.combineExtentWith(layer.extent())
        extent.scale(1.05)
        settings.setExtent(extent)
        settings.setOutputSize(QSize(1000, 800))
        settings.setBackgroundColor(QColor("white"))
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        image = job.renderedImage()
        out["png_saved"] = image.save(png, "PNG")
        # A blank map is all white: count the pixels that are not.
        w, h = image.width(), image.height()
        out["non_white_fraction"] = sum(image.pixel(x, y) != 0xFFFFFFFF for x in range(0, w, 4)
                                        for y in range(0, h, 4)) / ((w // 4) * (h // 4))
    except Exception as exc:  # reported to the test, which fails with it
        out["errors"].append(f"{type(exc).__name__}: {exc}")
    return out


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4]), ensure_ascii=False), flush=True)
    # Tearing PyQGIS down can crash after the work is done (layers outliving the app); the report is out already.
    os._exit(0)
