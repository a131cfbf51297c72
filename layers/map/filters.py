"""Per-layer filters (rail status/mode/line, park kind/industry, zone, town), kept in the URL as plain params.

One :class:`LayerFilter` describes what the map shows; :func:`filter_layers` applies it to the loaded layers
(the map and the downloads use the same function, so an export holds exactly what the map shows).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

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


def _polygon_layer(layers: Mapping[str, gpd.GeoDataFrame], layer_id: str) -> gpd.GeoDataFrame:
    if layers.get(layer_id) is not None:
        return layers[layer_id]

    return read_layer(layer_id)


#: One clause of a feature's filter index: ``{"k": keys it tests, "a": alternatives}``; each alternative maps a
#: key to the feature's tokens for it. A feature passes a clause when the filter sets none of the clause's keys, or
#: when one alternative meets every key the filter sets (a token among the filter's values). A feature passes the
#: filter when it passes all its clauses. The in-page map applies the same index in the browser (mapview.js
#: ``passes``), so a filter changed in the map redraws at once and shows what :func:`filter_layers` keeps.
Clause = dict[str, Any]


def _strs(*values: Any) -> list[str]:
    return [str(v) for v in values if isinstance(v, str) and v]


def _clause(**tokens: list[str]) -> Clause:
    return {"k": list(tokens), "a": [tokens]}


def _rail_clauses(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, list[list[Clause]]]:
    """Rail lines by their status, mode and line; a station by the lines it serves: a line of ``rail_lines``
    as that line is judged, a national line (not in ``rail_lines``) by the station's own mode and status."""
    out: dict[str, list[list[Clause]]] = {}
    rail = layers.get("rail_lines")
    by_line: dict[str, list[dict[str, list[str]]]] = {}
    if rail is not None:
        out["rail_lines"] = []
        for status, mode, line in zip(rail["status"], rail["mode"], rail["line_id"], strict=False):
            alt = {"rail_status": _strs(status), "rail_mode": _strs(mode), "rail_line": _strs(line)}
            out["rail_lines"].append([{"k": list(alt), "a": [alt]}])
            by_line.setdefault(str(line), []).append(alt)
    stations = layers.get("stations")
    if stations is not None:
        out["stations"] = []
        for lines, mode, status in zip(stations["lines"], stations["mode"], stations["status"], strict=False):
            alts: list[dict[str, list[str]]] = []
            for token in _tokens(lines):
                alts.extend(by_line.get(token) or [{"rail_status": _strs(status), "rail_mode": _strs(mode),
                                                    "rail_line": [token]}])
            out["stations"].append([{"k": ["rail_status", "rail_mode", "rail_line"], "a": alts}])
    return out


def _zone_members(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, set[str]]:
    """Zone id → the unit codes it holds (the zones' member lists, else the towns' zone_id)."""
    frame = layers.get("zones")
    if frame is None:
        frame = _polygon_layer(layers, "zones") if layers.get("towns") is None else None
    members: dict[str, set[str]] = {}
    if frame is not None and "member_codes" in frame.columns:
        for codes, zone in zip(frame["member_codes"], frame["id"], strict=False):
            if isinstance(zone, str):
                members.setdefault(zone, set()).update(_tokens(codes))
        return members
    towns = _polygon_layer(layers, "towns")
    for code, zone in zip(towns["id"], towns["zone_id"], strict=False):
        if isinstance(zone, str):
            members.setdefault(zone, set()).add(str(code))
    return members


def _place_clauses(layers: Mapping[str, gpd.GeoDataFrame], layer_id: str,
                   keys: Iterable[str]) -> list[Clause]:
    """Points by the zone and town they lie in: their town attribution (``town_codes``: stated first, every
    candidate unit of a boundary stop) when the layer has one, otherwise their position in the polygons."""
    frame = layers[layer_id]
    keys = set(keys)
    if "town_codes" in frame.columns:
        members = _zone_members(layers) if "zone" in keys else {}
        out = []
        for codes in frame["town_codes"]:
            units = set(_tokens(codes))
            out.append(_clause(zone=sorted(z for z, m in members.items() if units & m), town=sorted(units)))
        return out
    geoms = np.asarray(frame.geometry.values, dtype=object)
    zone_of: list[list[str]] = [[] for _ in geoms]
    town_of: list[list[str]] = [[] for _ in geoms]
    if "zone" in keys:
        if layers.get("zones") is None and layers.get("towns") is not None:
            polygons = zip(layers["towns"]["zone_id"], layers["towns"].geometry, strict=False)
        else:
            zones = _polygon_layer(layers, "zones")
            polygons = zip(zones["id"], zones.geometry, strict=False)
        _tag(zone_of, geoms, polygons)
    if "town" in keys:
        towns = _polygon_layer(layers, "towns")
        _tag(town_of, geoms, zip(towns["id"].astype(str), towns.geometry, strict=False))
    return [_clause(zone=z, town=t_) for z, t_ in zip(zone_of, town_of, strict=False)]


def _tag(tags: list[list[str]], geoms: np.ndarray, polygons: Iterable[tuple[Any, BaseGeometry]]) -> None:
    """Add each polygon's name to the tags of the geometries it touches."""
    for name, polygon in polygons:
        if not isinstance(name, str) or polygon is None:
            continue
        shapely.prepare(polygon)
        for i, g in enumerate(geoms):
            if g is not None and polygon.intersects(g) and name not in tags[i]:
                tags[i].append(name)


#: Keys that test one column: (layer, key, column, the column value's tokens).
_COLUMN_KEYS: tuple[tuple[str, str, str, Callable[[Any], list[str]]], ...] = (
    ("parks", "park_kind", "kind", _strs), ("parks", "park_industry", "industries", _tokens),
    ("zones", "zone", "id", _strs), ("towns", "zone", "zone_id", _strs), ("towns", "town", "id", lambda v: [str(v)]))


def filter_index(layers: Mapping[str, gpd.GeoDataFrame], *, keys: Iterable[str] = FILTER_KEYS
                 ) -> dict[str, list[list[Clause]]]:
    """Each filterable layer's features' clauses (frame order), for the filter ``keys`` given (all by default).

    This is the one statement of what each filter key keeps (see :func:`filter_layers` for the rules in words);
    :func:`filter_layers` evaluates it on the server, the in-page map in the browser.
    """
    keys = set(keys)
    index: dict[str, list[list[Clause]]] = {k: [[] for _ in range(len(v))] for k, v in layers.items()
                                            if k not in UNFILTERED_LAYERS}

    def add(layer_id: str, clauses: list[Clause]) -> None:
        for features, clause in zip(index[layer_id], clauses, strict=True):
            features.append(clause)

    if keys & {"rail_status", "rail_mode", "rail_line"}:
        for layer_id, per_feature in _rail_clauses(layers).items():
            for features, clauses in zip(index[layer_id], per_feature, strict=True):
                features.extend(clauses)
    for layer_id, key, column, tokens in _COLUMN_KEYS:
        if key in keys and layers.get(layer_id) is not None:
            add(layer_id, [_clause(**{key: tokens(v)}) for v in layers[layer_id][column]])
    if keys & {"zone", "town"}:
        for layer_id in ("parks", "stations"):
            if layer_id in layers:
                add(layer_id, _place_clauses(layers, layer_id, keys))
    return index


def passes(clauses: list[Clause], chosen: Mapping[str, set[str]]) -> bool:
    """Whether a feature with these clauses passes the filter ``chosen`` (key → allowed values, only keys set)."""
    for clause in clauses:
        tested = [k for k in clause["k"] if chosen.get(k)]
        if tested and not any(all(chosen[k].intersection(alt.get(k, ())) for k in tested) for alt in clause["a"]):
            return False
    return True


def filter_masks(index: Mapping[str, list[list[Clause]]], flt: LayerFilter) -> dict[str, np.ndarray]:
    """Which features of each indexed layer pass ``flt``."""
    chosen = {key: set(getattr(flt, key)) for key in FILTER_KEYS if getattr(flt, key)}
    return {k: np.array([passes(c, chosen) for c in features], dtype=bool) for k, features in index.items()}


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
    if flt.is_empty():
        return {k: v.copy() for k, v in layers.items()}
    masks = filter_masks(filter_index(layers, keys=[key for key in FILTER_KEYS if getattr(flt, key)]), flt)
    return {k: frame[masks[k]].copy() if k in masks else frame.copy() for k, frame in layers.items()}
