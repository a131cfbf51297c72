"""Songjiang planning map: layer catalogue, geodata build, loading, styling and rendering."""
# GDAL's safe settings (no VRT, no network) must be in force before anything loads pyogrio: the package does it first.
from layers.core import gdal as _gdal  # noqa: F401
