"""Cached loaders for the pages (keyed by simple values) and one function that clears every cache."""
from __future__ import annotations

from typing import Any

import geopandas as gpd
import streamlit as st

from layers.app.preview import set_data_stamp
from layers.core import paths, settings
from layers.core.caches import clear_caches
from layers.core.catalog import get_catalog
from layers.core.errors import SongjiangMapError, StoreError
from layers.core.files import version_stamp
from layers.core.store import Store, open_store
from layers.export.download import export_download
from layers.export.tables import listed_not_drawn_download
from layers.imports.apply import check_workspace
from layers.map.filters import LayerFilter
from layers.map.load import load_layers
from layers.map.render import build_map
from layers.map.search import GazetteerEntry, build_gazetteer, search_places
from layers.map.simplify import display_copies
from layers.map.spec import map_spec
from layers.map.state import MapState
from layers.map.stats import town_contents, town_statistic_marks, town_statistics
from layers.map.tables import headline_figures, read_indicators
from layers.map.view import map_view_spec
from layers.scenes.output import scene_bytes
from layers.scenes.web import SceneText, scene_spec, scene_text

#: The data version the caches were filled from: the shipped build's stamp (``build_info.json`` is replaced by
#: ``make data``) and the workspace store's version number (every import and revert, by any app process or the
#: command line, adds one), and what :func:`check_workspace` said about it.
_DATA_VERSION: dict[str, object] = {}


def _data_key(store: Store) -> tuple[object, ...]:
    return (str(paths.GEODATA_DIR), version_stamp(paths.GEODATA_DIR / "build_info.json"), store.url,
            store.version())


def refresh_if_data_changed() -> SongjiangMapError | None:
    """Read the data version (one indexed query of the store, on every run: a change made by another process is
    seen on the next run); when it changed, move an older version's import into the store and clear the caches.
    Returns a problem to show, or None."""
    try:
        store = open_store()
        key = _data_key(store)
        if _DATA_VERSION.get("key") != key:
            problem = check_workspace(paths.GEODATA_DIR, store)
            if "key" in _DATA_VERSION:
                clear_all_caches()
            _DATA_VERSION.update(key=_data_key(store), problem=problem)
            set_data_stamp(_DATA_VERSION["key"])
    except StoreError as exc:
        _DATA_VERSION["key"] = ("unreadable",)  # so the caches are cleared once it answers again
        return exc
    return _DATA_VERSION.get("problem")  # type: ignore[return-value]


@st.cache_data(show_spinner=False)
def cached_layers(layer_ids: tuple[str, ...]):
    """Load layers once per process, keyed by the tuple of ids (never by a GeoDataFrame)."""
    return load_layers(layer_ids)


@st.cache_data(show_spinner=False)
def cached_display_layers(layer_ids: tuple[str, ...]):
    """Drawing copies of the layers (towns simplified as a coverage; zones and district re-dissolved)."""
    layers, _ = cached_layers(layer_ids)
    return display_copies(layers)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_map_view(state: MapState, focus: GazetteerEntry | None = None):
    """The Map page's map for a view state without the planner's own layer: spec, summary and labels, built once
    per state (centre and zoom do not change the build: the caller leaves them out of ``state``)."""
    layer_ids = get_catalog().layer_ids
    layers, _ = cached_layers(layer_ids)
    return map_view_spec(layers, state, focus=focus, display=cached_display_layers(layer_ids))


@st.cache_data(show_spinner=False, max_entries=16)
def cached_catalogue_spec(lang: str, basemap: str = "none", only: tuple[str, ...] | None = None) -> dict:
    """The in-page map's spec of the catalogue layers (``only`` these when given), compact, as the Home and Plan
    pages show them: built once per language and basemap."""
    layers, _ = cached_layers(get_catalog().layer_ids)
    shown = {k: v for k, v in layers.items() if only is None or k in only}
    return map_spec(build_map(shown, lang=lang, basemap=basemap, compact=True), lang=lang)


@st.cache_data(show_spinner=False)
def cached_headline_figures(lang: str) -> list[dict[str, str]]:
    """The home page's headline figures, read once per language."""

    return headline_figures(lang)


@st.cache_data(show_spinner=False)
def cached_indicators():
    """The plan's headline indicators, read once per process."""

    return read_indicators()


def all_layers() -> tuple[dict[str, gpd.GeoDataFrame], dict[str, str]]:
    """Every catalogue layer (cached) and the load errors."""
    return cached_layers(get_catalog().layer_ids)


@st.cache_data(show_spinner=False)
def cached_gazetteer(layer_ids: tuple[str, ...]) -> list[GazetteerEntry]:
    """The place index of the loaded layers."""
    layers, _ = cached_layers(layer_ids)
    return build_gazetteer(layers)


@st.cache_data(show_spinner=False)
def cached_town_statistics(layer_ids: tuple[str, ...]):
    """Per-town statistics table (None when the towns layer did not load)."""
    layers, _ = cached_layers(layer_ids)
    if "towns" not in layers:
        return None
    return town_statistics(layers)


@st.cache_data(show_spinner=False)
def cached_town_contents(layer_ids: tuple[str, ...], code: str) -> dict | None:
    """What lies inside one town (:func:`layers.map.stats.town_contents`); None without the towns layer."""
    layers, _ = cached_layers(layer_ids)
    if "towns" not in layers:
        return None
    return town_contents(layers, code)


@st.cache_data(show_spinner=False)
def cached_town_marks(layer_ids: tuple[str, ...]):
    """Which per-town figure is approximate (depends on schematic geometry); None without the towns layer."""
    layers, _ = cached_layers(layer_ids)
    if "towns" not in layers:
        return None
    return town_statistic_marks(layers)


@st.cache_data(show_spinner=False)
def cached_option_names(layer_ids: tuple[str, ...], lang: str) -> dict[str, dict[str, str]]:
    """Filter key → {id: name} for the options named after features (zones, towns, lines), built once."""
    layers, _ = cached_layers(layer_ids)
    names: dict[str, dict[str, str]] = {}
    for key, layer_id in (("zone", "zones"), ("town", "towns"), ("rail_line", "rail_lines")):
        frame = layers.get(layer_id)
        if frame is not None:
            column = "name_en" if lang == "en" else "name_zh"
            names[key] = dict(zip(frame["id"].astype(str), frame[column].astype(str), strict=False))
    return names


@st.cache_data(show_spinner=False, max_entries=settings.DOWNLOAD_CACHE_ENTRIES)
def cached_download(layer_ids: tuple[str, ...], fmt: str, crs: int, filter_params: tuple[tuple[str, str], ...]
                    ) -> tuple[str, bytes, str]:
    """A download, made once per (layers, format, CRS, filter) and kept in a bounded cache."""
    layers, _ = all_layers()
    flt, _ = LayerFilter.from_params(dict(filter_params))
    return export_download(layer_ids, fmt=fmt, crs=crs, flt=flt, layers=layers)


def _search_hits(layer_ids: tuple[str, ...], query: str) -> list[GazetteerEntry]:
    return search_places(cached_gazetteer(layer_ids), query) if query.strip() else []


@st.cache_data(show_spinner=False)
def cached_town_names(lang: str) -> dict[str, str]:
    """Town code → name in ``lang``, in code order (empty when the towns layer does not load)."""
    layers, _ = cached_layers(("towns",))
    towns = layers.get("towns")
    if towns is None:
        return {}
    column = "name_en" if lang == "en" else "name_zh"
    return {str(code): str(name) for code, name in sorted(zip(towns["code"], towns[column], strict=False))}


@st.cache_data(show_spinner=False)
def cached_scene_text(scene_id: str, town: str | None, lang: str) -> SceneText:
    """Title, subtitle and note of a scene, keyed by simple values."""
    return scene_text(scene_id, town=town, lang=lang)


@st.cache_data(show_spinner=False, max_entries=30)
def cached_scene_spec(scene_id: str, town: str | None, lang: str) -> dict[str, Any]:
    """The scene as the Present page draws it (:func:`layers.scenes.web.scene_spec`), keyed by simple values."""
    return scene_spec(scene_id, town=town, lang=lang)


@st.cache_data(show_spinner=False, max_entries=60)
def cached_scene_file(scene_id: str, town: str | None, lang: str, fmt: str) -> bytes:
    """A scene as PNG, PDF or HTML bytes, made on the first download and kept for the next."""
    return scene_bytes(scene_id, town=town, lang=lang, fmt=fmt)


def clear_all_caches() -> None:
    """Forget every cache: Streamlit's (layers, tables, downloads) and the project's in-process ones."""
    st.cache_data.clear()
    clear_caches()


@st.cache_data(show_spinner=False)
def cached_listed_download(lang: str) -> tuple[str, bytes, str]:
    """The zip of the lines not drawn and the parks not located (attribute tables with reasons)."""
    return listed_not_drawn_download(lang=lang)
