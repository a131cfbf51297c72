"""Per-layer filters (rail status/mode/line, park kind/industry, zone, town), kept in the URL as plain params.

One :class:`LayerFilter` describes what the map shows; :func:`filter_layers` applies it to the loaded layers
(the map and the downloads use the same function, so an export holds exactly what the map shows).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from layers.core.caches import cached
from layers.core.i18n import t
from layers.map.load import load_layers, read_layer

#: Filter keys in URL / display order; each is a field of LayerFilter.
FILTER_KEYS = ("rail_status", "rail_mode", "rail_line", "park_kind", "park_industry", "zone", "town")
#: Longest raw parameter value accepted (characters); longer values are dropped whole.
MAX_PARAM_CHARS = 1000
#: Most values accepted per key (more than any layer has).
MAX_VALUES = 64
#: How many characters of a rejected key/value a notice shows.
NOTICE_CHARS = 40
#: Layers never filtered: they are the frame of reference.
UNFILTERED_LAYERS = ("district", "structure")


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _as_tuple(values: Any) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = _split(values)
    return tuple(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))


def describe_untrusted(text: Any) -> str:
    """A short, inert rendering of an untrusted string for a notice: truncated, odd characters as ``?``, repr'd.

    Letters (any script), digits, space and ``_-.,:`` are kept; everything else (``<``, ``>``, quotes, ``&``,
    markdown and control characters) becomes ``?``, so the notice is safe as text, markdown or HTML.
    """
    raw = str(text)
    short = raw[:NOTICE_CHARS]
    safe = "".join(c if (c.isalnum() or c in " _-.,:") else "?" for c in short)
    suffix = f" … ({len(raw)} characters)" if len(raw) > NOTICE_CHARS else ""
    return repr(safe) + suffix


@dataclass(frozen=True)
class LayerFilter:
    """What the map shows: each key is a tuple of allowed values; an empty tuple means "no filter on this key".

    Values within one key combine with OR; different keys combine with AND.
    """

    rail_status: tuple[str, ...] = ()
    rail_mode: tuple[str, ...] = ()
    rail_line: tuple[str, ...] = ()
    park_kind: tuple[str, ...] = ()
    park_industry: tuple[str, ...] = ()
    zone: tuple[str, ...] = ()
    town: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Accept lists or comma strings from callers, store deduplicated tuples (hashable, cache-friendly).
        for f in fields(self):
            object.__setattr__(self, f.name, _as_tuple(getattr(self, f.name)))

    def is_empty(self) -> bool:
        """True when no key filters anything."""
        return not any(getattr(self, key) for key in FILTER_KEYS)

    def to_params(self) -> dict[str, str]:
        """URL parameters, e.g. ``{"rail_status": "open,planned"}``; only the keys that filter something."""
        return {key: ",".join(getattr(self, key)) for key in FILTER_KEYS if getattr(self, key)}

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, options: Mapping[str, Iterable[str]] | None = None,
                    lang: str = "zh") -> tuple[LayerFilter, list[str]]:
        """Parse URL parameters tolerantly; never raises.

        Parameters
        ----------
        params
            Key → comma-joined values (a list of strings per key is accepted too, as Streamlit may give).
        options
            Allowed values per key; by default :func:`known_options` (read from the built layers).

        Returns
        -------
        (filter, notices)
            Unknown keys, unknown values and over-long values are dropped; each drop is reported in a
            plain-text notice that shows the offending text only truncated and neutralised.
        """
        notices: list[str] = []
        try:
            allowed = {k: set(v) for k, v in (options if options is not None else known_options()).items()}
        except Exception as exc:  # a broken data folder must not break URL parsing
            notices.append(t("flt_unreadable", lang, error=type(exc).__name__))
            return cls(), notices
        chosen: dict[str, tuple[str, ...]] = {}
        try:
            items = list(params.items())
        except Exception:
            return cls(), [t("flt_not_mapping", lang)]
        for key, raw in items:
            if not isinstance(key, str) or key not in FILTER_KEYS:
                notices.append(t("flt_unknown", lang, key=describe_untrusted(key)))
                continue
            if isinstance(raw, (list, tuple)):
                raw = ",".join(str(r) for r in raw)
            raw = "" if raw is None else str(raw)
            if len(raw) > MAX_PARAM_CHARS:
                notices.append(t("flt_long", lang, name=t(f"f_{key}", lang), n=f"{len(raw):,}"))
                continue
            values = list(dict.fromkeys(_split(raw)))
            good = [v for v in values if v in allowed.get(key, set())]
            bad = [v for v in values if v not in allowed.get(key, set())]
            if bad:
                shown = ", ".join(describe_untrusted(v) for v in bad[:3])
                more = t("flt_more", lang, n=len(bad) - 3) if len(bad) > 3 else ""
                notices.append(t("flt_bad_values", lang, name=t(f"f_{key}", lang), values=shown + more))
            if len(good) > MAX_VALUES:
                notices.append(t("flt_many", lang, name=t(f"f_{key}", lang), n=MAX_VALUES))
                good = good[:MAX_VALUES]
            if good:
                chosen[key] = tuple(good)
        return cls(**chosen), notices


def _tokens(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return _split(str(value))


def filter_options(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, list[str]]:
    """Allowed values of each filter key, read from the data (sorted; empty list when the layer is absent).

    ``rail_line`` lists the ``rail_lines.line_id`` values and the national line names that stations list
    (e.g. 沪昆高铁), so that a national-rail station can be selected by its line too.
    """
    rail = layers.get("rail_lines")
    stations = layers.get("stations")
    parks = layers.get("parks")
    out: dict[str, set[str]] = {key: set() for key in FILTER_KEYS}
    for frame in (rail, stations):
        if frame is not None:
            out["rail_status"].update(str(v) for v in frame.get("status", []) if isinstance(v, str) and v)
            out["rail_mode"].update(str(v) for v in frame.get("mode", []) if isinstance(v, str) and v)
    if rail is not None:
        out["rail_line"].update(str(v) for v in rail["line_id"] if isinstance(v, str) and v)
    if stations is not None:
        for v in stations["lines"]:
            out["rail_line"].update(_tokens(v))
    if parks is not None:
        out["park_kind"].update(str(v) for v in parks["kind"] if isinstance(v, str) and v)
        for v in parks["industries"]:
            out["park_industry"].update(_tokens(v))
    if layers.get("zones") is not None:
        out["zone"].update(str(v) for v in layers["zones"]["id"])
    elif layers.get("towns") is not None:
        out["zone"].update(str(v) for v in layers["towns"]["zone_id"] if isinstance(v, str) and v)
    if layers.get("towns") is not None:
        out["town"].update(str(v) for v in layers["towns"]["id"])
    return {key: sorted(values) for key, values in out.items()}


@cached(maxsize=1)
def _cached_options() -> tuple[tuple[str, tuple[str, ...]], ...]:

    loaded, _errors = load_layers(("rail_lines", "stations", "parks", "zones", "towns"))
    return tuple((k, tuple(v)) for k, v in filter_options(loaded).items())


def known_options() -> dict[str, list[str]]:
    """Allowed filter values from the built layers in geodata/ (read once per process)."""
    return {k: list(v) for k, v in _cached_options()}


def _in_set(series: Any, wanted: tuple[str, ...]) -> np.ndarray:
    return np.array([isinstance(v, str) and v in wanted for v in series], dtype=bool)


def _rail_masks(layers: Mapping[str, gpd.GeoDataFrame], flt: LayerFilter) -> dict[str, np.ndarray]:
    masks: dict[str, np.ndarray] = {}
    rail = layers.get("rail_lines")
    known_lines: set[str] = set()
    selected: set[str] = set()
    if rail is not None:
        keep = np.ones(len(rail), dtype=bool)
        if flt.rail_status:
            keep &= _in_set(rail["status"], flt.rail_status)
        if flt.rail_mode:
            keep &= _in_set(rail["mode"], flt.rail_mode)
        if flt.rail_line:
            keep &= _in_set(rail["line_id"], flt.rail_line)
        masks["rail_lines"] = keep
        known_lines = {str(v) for v in rail["line_id"]}
        selected = {str(v) for v, k in zip(rail["line_id"], keep, strict=False) if k}
    stations = layers.get("stations")
    if stations is not None:
        keep = []
        for lines, mode, status in zip(stations["lines"], stations["mode"], stations["status"], strict=False):
            own_ok = ((not flt.rail_mode or mode in flt.rail_mode)
                      and (not flt.rail_status or status in flt.rail_status))
            ok = False
            for token in _tokens(lines):
                if token in known_lines:
                    ok = token in selected
                else:  # a national line: judged by the station's own mode and status
                    ok = own_ok and (not flt.rail_line or token in flt.rail_line)
                if ok:
                    break
            keep.append(ok)
        masks["stations"] = np.array(keep, dtype=bool)
    return masks


def _polygon_layer(layers: Mapping[str, gpd.GeoDataFrame], layer_id: str) -> gpd.GeoDataFrame:
    if layers.get(layer_id) is not None:
        return layers[layer_id]

    return read_layer(layer_id)


def _area(layers: Mapping[str, gpd.GeoDataFrame], flt: LayerFilter) -> BaseGeometry | None:
    """The region points must fall in: selected zones ∩ selected towns; None when neither key filters."""
    area: BaseGeometry | None = None
    if flt.zone:
        if layers.get("zones") is None and layers.get("towns") is not None:
            towns = layers["towns"]
            parts = towns.geometry[_in_set(towns["zone_id"], flt.zone)]
        else:
            zones = _polygon_layer(layers, "zones")
            parts = zones.geometry[_in_set(zones["id"], flt.zone)]
        area = unary_union(list(parts)) if len(parts) else shapely.Polygon()
    if flt.town:
        towns = _polygon_layer(layers, "towns")
        parts = towns.geometry[_in_set(towns["id"].astype(str), flt.town)]
        town_area = unary_union(list(parts)) if len(parts) else shapely.Polygon()
        area = town_area if area is None else area.intersection(town_area)
    return area


def _zone_codes(layers: Mapping[str, gpd.GeoDataFrame], zones: tuple[str, ...]) -> set[str]:
    """The unit codes of the selected zones (the zones' member lists, else the towns' zone_id)."""
    frame = layers.get("zones")
    if frame is None:
        frame = _polygon_layer(layers, "zones") if layers.get("towns") is None else None
    if frame is not None and "member_codes" in frame.columns:
        return {c for mc, z in zip(frame["member_codes"], frame["id"], strict=False) if z in zones for c in _tokens(mc)}
    towns = _polygon_layer(layers, "towns")
    return {str(c) for c, z in zip(towns["id"], towns["zone_id"], strict=False) if isinstance(z, str) and z in zones}


def _place_mask(layers: Mapping[str, gpd.GeoDataFrame], layer_id: str, flt: LayerFilter) -> np.ndarray:
    """Points kept by the zone and town keys: by their town attribution (``town_codes``: stated first, every
    candidate unit of a boundary stop) when the layer has one, otherwise by position in the polygons."""
    frame = layers[layer_id]
    if "town_codes" not in frame.columns:
        area = _area(layers, flt)
        shapely.prepare(area)
        geoms = np.asarray(frame.geometry.values, dtype=object)
        return np.array([g is not None and area.intersects(g) for g in geoms], dtype=bool)
    zone_codes = _zone_codes(layers, flt.zone) if flt.zone else None
    keep = []
    for codes in frame["town_codes"]:
        units = set(_tokens(codes))
        ok = (zone_codes is None or bool(units & zone_codes)) and (not flt.town or bool(units & set(flt.town)))
        keep.append(ok)
    return np.array(keep, dtype=bool)


def filter_layers(layers: Mapping[str, gpd.GeoDataFrame], flt: LayerFilter) -> dict[str, gpd.GeoDataFrame]:
    """Apply ``flt`` to the layers; returns new frames, never mutates; absent layers stay absent.

    Semantics
    ---------
    - ``rail_status`` / ``rail_mode`` / ``rail_line`` select ``rail_lines`` rows, and the ``stations`` that
      serve at least one selected line (``stations.lines`` is comma-joined line ids, e.g. ``"L9, T2"``).
      A station line not in ``rail_lines`` (national rail, e.g. ``"沪昆高铁"``) is judged by the station's
      own ``mode`` and ``status``, and by its name when ``rail_line`` is set.
    - ``park_kind`` selects ``parks`` by ``kind``; ``park_industry`` keeps parks with any listed industry
      (``parks.industries`` is comma-joined).
    - ``zone`` keeps those ``zones`` rows, the ``towns`` whose ``zone_id`` is selected, and the parks and
      stations attributed to a member unit of a selected zone (``town_codes``: the unit a source states first,
      otherwise the one computed on the current boundaries; a boundary stop counts in each of its units). A
      point layer without attribution is tested against the zones' geometry.
    - ``town`` keeps those ``towns`` (by 9-digit code) and the parks and stations attributed to them, the same way.
      ``zone`` and ``town`` combine with AND (a point must lie in both); ``town`` does not filter ``zones``.
    - ``district`` and ``structure`` are never filtered.
    - When a zone/town filter is set but its polygon layer is not in ``layers``, that layer is read from
      geodata/ to test the points, and still not returned.
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    if flt.is_empty():
        return {k: v.copy() for k, v in layers.items()}
    masks: dict[str, np.ndarray] = {k: np.ones(len(v), dtype=bool) for k, v in layers.items()}
    if flt.rail_status or flt.rail_mode or flt.rail_line:
        for k, m in _rail_masks(layers, flt).items():
            masks[k] &= m
    parks = layers.get("parks")
    if parks is not None:
        if flt.park_kind:
            masks["parks"] &= _in_set(parks["kind"], flt.park_kind)
        if flt.park_industry:
            masks["parks"] &= np.array([any(t in flt.park_industry for t in _tokens(v))
                                        for v in parks["industries"]], dtype=bool)
    if layers.get("zones") is not None and flt.zone:
        masks["zones"] &= _in_set(layers["zones"]["id"], flt.zone)
    if layers.get("towns") is not None:
        if flt.zone:
            masks["towns"] &= _in_set(layers["towns"]["zone_id"], flt.zone)
        if flt.town:
            masks["towns"] &= _in_set(layers["towns"]["id"].astype(str), flt.town)
    for k in ("parks", "stations"):
        if k in layers and (flt.zone or flt.town):
            masks[k] &= _place_mask(layers, k, flt)
    for k, frame in layers.items():
        if k in UNFILTERED_LAYERS:
            out[k] = frame.copy()
        else:
            out[k] = frame[masks[k]].copy()
    return out
