"""Meeting scenes (``python -m layers present``): model (scenes.toml) → frame (what a scene shows) → figure,
legend, fonts (PNG/PDF) · web (the scene web map, offline HTML) · output (files) · batch (every scene's files, each
page drawn once, cached) → pack (the meeting pack), deck (the handout; pdfjoin joins its pages) · choice (which scene
the Present page shows)."""
import matplotlib

# The print figures are drawn on servers and in CI without a display: choose the file backend before pyplot loads.
matplotlib.use("Agg")

__all__ = ["batch", "choice", "chrome", "cli", "deck", "figure", "fonts", "frame", "legend", "model", "output", "pack",
           "pdfjoin", "web"]
