"""The ground every other folder stands on: settings, paths, errors, CRS, GeoJSON, safe writes, the
untrusted-file reader, names, the zh/en dictionaries, the layer catalogue and the cache registry.

Entry points: ``catalog.get_catalog()``, ``i18n.t(key, lang)``, ``crs.to_measure(geom)``,
``files.write_texts_together(files)``, ``upload.read_town_file(source)``."""

__all__ = ["caches", "catalog", "crs", "errors", "files", "gdal", "geojson", "i18n", "names", "paths", "settings",
           "sniff", "upload", "worker"]
