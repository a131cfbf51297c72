"""The project's own gazetteer: find towns, zones, stations, lines, parks and plan elements by name (no geocoder)."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
from pypinyin import lazy_pinyin

from layers.core.names import normalise_name

#: Layer id → the kind of place its features are, in the order places win a tie (towns first).
KINDS: dict[str, str] = {
    "towns": "town",
    "zones": "zone",
    "structure": "structure",
    "parks": "park",
    "rail_lines": "rail_line",
    "stations": "station",
}
_KIND_RANK = {kind: rank for rank, kind in enumerate(KINDS.values())}
#: Queries longer than this cannot match any name; they are cut before folding so a 5 kB paste stays cheap.
MAX_QUERY_CHARS = 80
# Punctuation dropped when folding: quotes and brackets planners rarely type.
_DROP_CHARS = str.maketrans("", "", "“”\"'‘’「」《》·・")
# Separators inside one name that join alternative names ("A / B", "A (B)", "一廊：B").
_PART_SPLIT = re.compile(r"\s*(?:/|／|\(|\)|（|）|：|:|,|，|、)\s*")
_LINE_NUMBER = re.compile(r"^L(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class GazetteerEntry:
    """One place the search can find.

    ``bounds`` is (minx, miny, maxx, maxy) in WGS84 lon/lat; ``centre`` is (lat, lon), the order folium and
    :class:`layers.state.MapState` use. ``keys`` are the folded names matched against a query.
    """

    kind: str
    layer_id: str
    feature_id: str
    name_zh: str
    name_en: str
    pinyin: str
    bounds: tuple[float, float, float, float]
    centre: tuple[float, float]
    keys: tuple[str, ...] = field(default=(), repr=False, compare=False)
    #: Other names (a station's aliases): they match one level weaker than ``keys``.
    aliases: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def folium_bounds(self) -> list[list[float]]:
        """Bounds as [[south, west], [north, east]] for ``folium.Map.fit_bounds``."""
        minx, miny, maxx, maxy = self.bounds
        return [[miny, minx], [maxy, maxx]]

    def name(self, lang: str) -> str:
        """Display name in ``lang`` ("zh" or "en")."""
        return self.name_en if lang == "en" and self.name_en else self.name_zh


def fold(text: str) -> str:
    """Fold a name or a query for matching: NFKC (full → half width), lower case, no spaces or quotes, no unit suffix.

    Never raises; non-strings fold to "".
    """
    if not isinstance(text, str):
        return ""
    # Control and format characters (zero-width spaces, bidi marks) would defeat matching; drop them.
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return normalise_name(text.translate(_DROP_CHARS))


def to_pinyin(name_zh: str) -> str:
    """Toneless pinyin of a Chinese name, lower case without spaces ("九亭镇" → "jiutingzhen")."""
    return "".join(s for s in lazy_pinyin(name_zh or "") if s.strip()).lower().replace(" ", "")


def _name_parts(name: str) -> list[str]:
    """The whole name and its alternatives ("A / B (C)" → A / B (C), A, B, C)."""
    parts = [name, *(_PART_SPLIT.split(name or ""))]
    return [p for p in parts if p and p.strip()]


def _station_keys(row: Mapping[str, object]) -> list[str]:
    """A station is also found by its name with 站: "泗泾站" → 泗泾."""
    base = re.split(r"[（(]", str(row.get("name_zh") or ""))[0].strip()
    return [fold(base + "站")] if base and not base.endswith("站") else []


def _alias_keys(row: Mapping[str, object]) -> tuple[str, ...]:
    """A station's aliases (``aliases_zh``, "|"-joined, e.g. 松江南站 → 上海松江站; a bracketed note after an
    alias is not part of it), folded and in pinyin."""
    aliases = row.get("aliases_zh")
    keys: list[str] = []
    if isinstance(aliases, str):
        for alias in aliases.split("|"):
            alias = re.split(r"\s*[（(]", alias)[0].strip()
            if alias:
                keys += [fold(alias), to_pinyin(alias)]
    return tuple(dict.fromkeys(k for k in keys if k))


def _keys_for(row: Mapping[str, object], layer_id: str) -> tuple[str, ...]:
    keys: list[str] = []
    for column in ("name_zh", "name_en"):
        value = row.get(column)
        if isinstance(value, str):
            for part in _name_parts(value):
                keys.append(fold(part))
                if column == "name_zh":
                    # Pinyin of the name with and without its 镇/街道 suffix: "jiutingzhen" and "jiuting".
                    keys.append(to_pinyin(part.translate(_DROP_CHARS)))
                    keys.append(to_pinyin(normalise_name(part.translate(_DROP_CHARS))))
    if layer_id == "rail_lines":
        line_id = str(row.get("line_id") or row.get("id") or "")
        keys.append(fold(line_id))
        number = _LINE_NUMBER.match(line_id)
        if number:
            n = int(number.group(1))
            keys += [f"{n}号线", f"line{n}", f"metroline{n}"]
    if layer_id == "towns" and isinstance(row.get("code"), str):
        keys.append(row["code"])
    if layer_id == "stations":
        keys += _station_keys(row)
    return tuple(dict.fromkeys(k for k in keys if k))


def build_gazetteer(layers: Mapping[str, gpd.GeoDataFrame]) -> list[GazetteerEntry]:
    """Build the search index from the loaded layers (any of towns, zones, structure, parks, rail_lines, stations).

    Parameters
    ----------
    layers
        Layer id → GeoDataFrame in WGS84, as returned by :func:`layers.load.load_layers`. Missing layers are skipped.

    Returns
    -------
    list[GazetteerEntry]
        One entry per feature with a non-empty geometry, towns first.
    """
    entries: list[GazetteerEntry] = []
    for layer_id, kind in KINDS.items():
        gdf = layers.get(layer_id)
        if gdf is None or gdf.empty:
            continue
        for row in gdf.to_dict("records"):
            geom = row.get("geometry")
            if geom is None or geom.is_empty:
                continue
            minx, miny, maxx, maxy = (float(v) for v in geom.bounds)
            point = geom.representative_point()
            name_zh = str(row.get("name_zh") or "")
            entries.append(GazetteerEntry(
                kind=kind, layer_id=layer_id, feature_id=str(row.get("id")), name_zh=name_zh,
                name_en=str(row.get("name_en") or ""), pinyin=to_pinyin(normalise_name(name_zh)),
                bounds=(minx, miny, maxx, maxy), centre=(float(point.y), float(point.x)),
                keys=_keys_for(row, layer_id), aliases=_alias_keys(row)))
    return entries


def _match_level(query: str, keys: Iterable[str]) -> int | None:
    """0 exact, 1 prefix, 2 substring, None no match (plain string tests: no regex ever sees the query)."""
    best: int | None = None
    for key in keys:
        if key == query:
            return 0
        if key.startswith(query):
            best = 1
        elif best is None and query in key:
            best = 2
    return best


def search_places(gazetteer: list[GazetteerEntry], query: str, *, limit: int = 10) -> list[GazetteerEntry]:
    """Find places whose Chinese, English or pinyin name matches ``query``.

    Matching ignores case, spaces, full/half width and the suffixes 镇/街道/Town/Subdistrict. Ranking: exact
    before prefix before substring; on a tie towns come first, then zones, plan elements, parks, lines, stations.

    Parameters
    ----------
    gazetteer
        Entries from :func:`build_gazetteer`.
    query
        What the user typed; any string is safe (it is only compared, never compiled or evaluated).
    limit
        Largest number of results.

    Returns
    -------
    list[GazetteerEntry]
        Best first; empty for an empty, overlong or unmatched query.
    """
    if not isinstance(query, str) or limit <= 0:
        return []
    q = fold(query[: MAX_QUERY_CHARS * 4])
    if not q or len(q) > MAX_QUERY_CHARS:
        return []
    scored = []
    for order, entry in enumerate(gazetteer):
        level = _match_level(q, entry.keys)
        alias = _match_level(q, entry.aliases)
        if alias is not None:
            level = alias + 1 if level is None else min(level, alias + 1)
        if level is not None:
            scored.append((level, _KIND_RANK.get(entry.kind, len(_KIND_RANK)), order, entry))
    scored.sort(key=lambda t: t[:3])
    return [t[3] for t in scored[:limit]]
