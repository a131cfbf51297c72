"""Downloads for GIS tools (``python -m layers export``): GeoJSON, GeoPackage, Shapefile, KML, CSV in
EPSG:4326/4490/4549, provenance on every feature. job → formats (``FORMATS``) → download (``export_layers``)."""

__all__ = ["cli", "download", "formats", "gpkg", "job", "qgs", "qml", "sld", "symbology", "tables"]
