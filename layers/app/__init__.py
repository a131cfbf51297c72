"""The Streamlit layer: the only code besides ``app.py`` and ``pages/`` that imports Streamlit.

cache (cached loaders, ``clear_all_caches``) · chrome (language, navigation, drawing a map) · map_page ·
present_page · import_panel (+ access: who may apply) · routes (the pages' files and addresses) · serve (what
``make run`` serves: an ``st.App`` whose pages know their base address) · server (the app as a subprocess, for
tests and benches) · cluster (N processes behind nginx)."""

__all__ = ["access", "cache", "chrome", "cluster", "import_panel", "map_page", "present_page", "routes", "serve",
           "server"]
