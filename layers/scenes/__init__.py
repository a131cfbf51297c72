"""Meeting scenes: the scene model, print figures (PNG/PDF), the web scene, offline HTML and the meeting pack."""
import matplotlib

# The print figures are drawn on servers and in CI without a display: choose the file backend before pyplot loads.
matplotlib.use("Agg")
