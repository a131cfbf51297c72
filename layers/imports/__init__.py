"""Replacing schematic town boundaries with real ones (``python -m layers import-towns`` / ``refresh-osm``).

plan (read → match → clip → check → report, nothing written) → report (``ImportReport``) → apply (overlay +
rebuild committed as a version of the workspace store, or revert to any version) · osm (fetch OpenStreetMap
boundaries, then the same path) · cli."""

__all__ = ["apply", "cli", "osm", "plan", "report"]
