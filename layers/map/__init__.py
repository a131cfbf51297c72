"""The interactive map below Streamlit: load layers, filter, simplify for display, style, render with folium.

load → filters → simplify → style → render (basemaps, elements) · state (the view in the URL) · search · stats ·
tables · choropleth · userlayer · assets (vendored JS/CSS, no network)."""

__all__ = ["assets", "basemaps", "choropleth", "elements", "filters", "load", "render", "search", "simplify",
           "state", "stats", "style", "tables", "userlayer"]
