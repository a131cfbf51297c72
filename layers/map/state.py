"""Shareable map state: the view (language, layers, basemap, filters, town, selected feature, centre, zoom) to and
from URL parameters."""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from layers.core import paths, settings
from layers.core.caches import cached
from layers.core.catalog import get_catalog
from layers.core.i18n import t
from layers.map.basemaps import basemaps
from layers.map.filters import LayerFilter

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
DEFAULT_BASEMAP = "none"
#: Centres outside this WGS84 box (lon_min, lat_min, lon_max, lat_max) around Songjiang are refused.
CENTRE_BOUNDS = settings.NEAR_DISTRICT_BOUNDS
ZOOM_RANGE = (8, 18)
#: Decimals kept for the map centre (5 decimals is about 1 m), so a state survives the URL unchanged.
CENTRE_DECIMALS = 5
#: Parameter values longer than this are refused before any parsing.
MAX_VALUE_CHARS = 400
#: The parameters this module owns; a filter parameter with one of these names travels as ``f_<name>``.
STATE_KEYS = ("lang", "layers", "basemap", "town", "sel", "c", "z")
#: Layers whose features can be the selection (``sel=<layer>:<id>``): what the search finds, but towns, which
#: travel as ``town=`` (a selected town is the focused town, with its profile).
SELECTABLE_LAYERS = ("zones", "structure", "parks", "rail_lines", "stations")
FILTER_PREFIX = "f_"
_NUMBER = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{1,12})?")
_INTEGER = re.compile(r"[0-9]{1,2}")
_LAYER_ID = re.compile(r"[a-z][a-z0-9_]{0,40}")
_TOWN_CODE = re.compile(r"[0-9]{9}")
_FEATURE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _empty_filter() -> LayerFilter:
    return LayerFilter()


def _default_layers() -> tuple[str, ...]:

    return get_catalog().layer_ids


@dataclass(frozen=True)
class MapState:
    """Everything a shared link restores.

    ``center`` is (lat, lon) in WGS84, rounded to :data:`CENTRE_DECIMALS`; ``town`` is a 9-digit code or None;
    ``selected`` is (layer id, feature id) of the feature chosen by a search (one of :data:`SELECTABLE_LAYERS`).
    """

    lang: str = DEFAULT_LANG
    layers: tuple[str, ...] = field(default_factory=_default_layers)
    basemap: str = DEFAULT_BASEMAP
    filters: LayerFilter = field(default_factory=_empty_filter)
    town: str | None = None
    selected: tuple[str, str] | None = None
    center: tuple[float, float] | None = None
    zoom: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(dict.fromkeys(self.layers)))
        if self.center is not None:
            lat, lon = self.center
            object.__setattr__(self, "center", (round(float(lat), CENTRE_DECIMALS),
                                                round(float(lon), CENTRE_DECIMALS)))


@cached(maxsize=1)
def town_codes() -> frozenset[str]:
    """The codes of the towns layer (read once from geodata/towns.geojson; empty when it cannot be read)."""
    try:
        data = json.loads(paths.layer_file("towns.geojson").read_text(encoding="utf-8"))
        return frozenset(str(f["properties"]["code"]) for f in data["features"])
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()


@cached(maxsize=1)
def feature_ids() -> dict[str, frozenset[str]]:
    """The feature ids of each selectable layer (read once from geodata/; a layer that cannot be read has none)."""
    catalog = get_catalog()
    out: dict[str, frozenset[str]] = {}
    for layer_id in SELECTABLE_LAYERS:
        try:
            data = json.loads(catalog.layer(layer_id).path.read_text(encoding="utf-8"))
            out[layer_id] = frozenset(str(f["properties"]["id"]) for f in data["features"])
        except (OSError, ValueError, KeyError, TypeError):
            out[layer_id] = frozenset()
    return out


def _parse_selection(text: str, known: Mapping[str, frozenset[str]]) -> tuple[str, str] | None:
    """``<layer>:<id>`` naming a feature that exists, else None."""
    layer_id, sep, feature_id = text.partition(":")
    if not sep or not _LAYER_ID.fullmatch(layer_id) or not _FEATURE_ID.fullmatch(feature_id):
        return None
    return (layer_id, feature_id) if feature_id in known.get(layer_id, frozenset()) else None


def _number_text(value: float) -> str:
    text = f"{value:.{CENTRE_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def state_to_params(state: MapState) -> dict[str, str]:
    """URL parameters for ``state``: short and readable, e.g. ``lang=en&layers=towns,rail_lines&basemap=none&z=12``.

    ``lang``, ``layers`` and ``basemap`` are always written (``layers=`` empty means none on); filters, town, centre
    and zoom only when set. A filter parameter named like one of :data:`STATE_KEYS` is written as ``f_<name>``.
    """
    params: dict[str, str] = {"lang": state.lang, "layers": ",".join(state.layers), "basemap": state.basemap}
    for key, value in state.filters.to_params().items():
        params[FILTER_PREFIX + key if key in STATE_KEYS else key] = value
    if state.town is not None:
        params["town"] = state.town
    if state.selected is not None:
        params["sel"] = f"{state.selected[0]}:{state.selected[1]}"
    if state.center is not None:
        params["c"] = f"{_number_text(state.center[0])},{_number_text(state.center[1])}"
    if state.zoom is not None:
        params["z"] = str(state.zoom)
    return params


def _parse_number(text: str) -> float | None:
    """A plain decimal (no exponent, nan, inf, underscores or non-ASCII digits), else None."""
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _parse_centre(text: str) -> tuple[float, float] | None:
    parts = text.split(",")
    if len(parts) != 2:
        return None
    lat, lon = (_parse_number(p.strip()) for p in parts)
    lon_min, lat_min, lon_max, lat_max = CENTRE_BOUNDS
    if lat is None or lon is None or not (lat_min <= lat <= lat_max and lon_min <= lon <= lon_max):
        return None
    return lat, lon


def _parse_zoom(text: str) -> int | None:
    if not _INTEGER.fullmatch(text):
        return None
    zoom = int(text)
    return zoom if ZOOM_RANGE[0] <= zoom <= ZOOM_RANGE[1] else None


def view_from_params(params: Mapping[str, Any]) -> tuple[tuple[float, float] | None, int | None]:
    """Centre and zoom from ``c``/``z`` (as written by the map when the user pans); None for what is absent or bad."""
    def first(key: str) -> str | None:
        value = params.get(key)
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        return value if isinstance(value, str) and len(value) <= MAX_VALUE_CHARS else None

    c, z = first("c"), first("z")
    return (_parse_centre(c) if c else None), (_parse_zoom(z) if z else None)


def _split_params(items: list[tuple[Any, Any]], notices: list[tuple[str, dict[str, Any]]]
                  ) -> tuple[dict[str, str], dict[str, str]]:
    """One string per state key (the last of repeated ones) and the filter parameters; notices for what is dropped."""
    values: dict[str, str] = {}
    filter_params: dict[str, str] = {}
    for key, raw in items:
        if not isinstance(key, str):
            continue
        if isinstance(raw, (list, tuple)):
            strings = [v for v in raw if isinstance(v, str)]
            if key in STATE_KEYS and len(strings) > 1:
                notices.append(("repeated", {"key": key}))
            raw = (strings[-1] if key in STATE_KEYS else ",".join(strings)) if strings else None
        if not isinstance(raw, str):
            if key in STATE_KEYS:
                notices.append(("invalid", {"key": key, "why": "type"}))
            continue
        if key in STATE_KEYS:
            if len(raw) > MAX_VALUE_CHARS:
                notices.append(("invalid", {"key": key, "why": "long"}))
            else:
                values[key] = raw.strip()
        elif key.startswith(FILTER_PREFIX) and key[len(FILTER_PREFIX):] in STATE_KEYS:
            filter_params[key[len(FILTER_PREFIX):]] = raw
        else:
            filter_params[key] = raw
    return values, filter_params


def state_from_params(params: Mapping[str, Any], *, town_codes_known: frozenset[str] | None = None,
                      feature_ids_known: Mapping[str, frozenset[str]] | None = None) -> tuple[MapState, list[str]]:
    """Rebuild a :class:`MapState` from URL parameters, keeping what is valid and dropping the rest.

    Parameters
    ----------
    params
        Key → value or list of values (repeated keys), e.g. ``st.query_params.to_dict()`` or a parsed query string.
        Unknown keys are ignored.
    town_codes_known
        Valid town codes; by default those of the towns layer.
    feature_ids_known
        Layer id → valid feature ids for ``sel``; by default those of the layers (:func:`feature_ids`).

    Returns
    -------
    (state, notices)
        The state, with defaults wherever a value was missing or invalid, and one short notice per dropped value,
        in the state's language. Notices name the parameter and never repeat its value. Never raises.
    """
    notices: list[tuple[str, dict[str, Any]]] = []
    try:
        items = list(params.items())
    except Exception:  # a mapping that cannot even be listed gives the default view
        items = []
    values, filter_params = _split_params(items, notices)

    kwargs: dict[str, Any] = {}

    def take(key: str, parse) -> None:
        if key not in values:
            return
        parsed = parse(values[key])
        if parsed is None:
            notices.append(("invalid", {"key": key, "why": key}))
        else:
            kwargs[key] = parsed

    take("lang", lambda v: v if v in LANGS else None)
    lang = kwargs.get("lang", DEFAULT_LANG)

    take("basemap", lambda v: v if v in basemaps() else None)
    known_codes = town_codes() if town_codes_known is None else town_codes_known
    take("town", lambda v: v if _TOWN_CODE.fullmatch(v) and v in known_codes else None)
    known_ids = feature_ids() if feature_ids_known is None else feature_ids_known
    take("sel", lambda v: _parse_selection(v, known_ids))
    take("c", _parse_centre)
    take("z", _parse_zoom)
    if "layers" in values:
        known = set(_default_layers())
        asked = [p.strip() for p in values["layers"].split(",") if p.strip()]
        good = [p for p in asked if _LAYER_ID.fullmatch(p) and p in known]
        if len(good) < len(asked):
            notices.append(("unknown_layers", {"n": len(asked) - len(good)}))
        if good or not asked:
            kwargs["layers"] = tuple(good)
        else:
            notices.append(("invalid", {"key": "layers", "why": "layers"}))

    filter_notices: list[str] = []
    try:

        # Only the filter's own keys go to it: other pages may add parameters of their own.
        filter_keys = {f.name for f in fields(LayerFilter)}
        filter_params = {k: v for k, v in filter_params.items() if k in filter_keys}
        kwargs["filters"], filter_notices = LayerFilter.from_params(filter_params, lang=lang)
    except Exception:  # the filters module owns its validation; a failure there must not break the page
        notices.append(("filters_failed", {}))
    state = MapState(lang=lang, layers=kwargs.get("layers", _default_layers()),
                     basemap=kwargs.get("basemap", DEFAULT_BASEMAP),
                     **({"filters": kwargs["filters"]} if "filters" in kwargs else {}),
                     town=kwargs.get("town"), selected=kwargs.get("sel"), center=kwargs.get("c"),
                     zoom=kwargs.get("z"))
    return state, [_notice_text(name, args, lang) for name, args in notices] + [str(n) for n in filter_notices]


def _notice_text(name: str, args: dict[str, Any], lang: str) -> str:
    # Notices name the parameter, never echo its value, so nothing a link carries reaches the page.
    args = dict(args)
    if "why" in args:
        args["why"] = t(f"url_why_{args['why']}", lang)
    return t(f"url_{name}", lang, **args)
