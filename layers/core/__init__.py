"""The ground every other folder stands on: settings, paths, errors, CRS, GeoJSON, safe writes, the
untrusted-file reader, names, the zh/en dictionaries, the layer catalogue, the cache registry and the workspace
store (user changes as versions, SQLite or PostgreSQL).

Entry points: ``catalog.get_catalog()``, ``i18n.t(key, lang)``, ``crs.to_measure(geom)``,
``files.write_texts_together(files)``, ``upload.read_town_file(source)``, ``store.open_store()``."""

__all__ = ["caches", "catalog", "crs", "errors", "files", "gdal", "geojson", "i18n", "names", "paths", "settings",
           "sniff", "store", "upload", "worker"]
