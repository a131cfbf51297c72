"""Songjiang planning map: layer catalogue, geodata build, loading, styling and rendering."""
