"""Read and validate the layer catalogue (catalog.toml) into typed, immutable layer specs."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layers.core import paths, settings
from layers.core.caches import cached
from layers.core.errors import CatalogError

GEOMETRY_KINDS = ("polygon", "line", "point", "mixed")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Provenance:
    """Where a layer comes from and how far it can be trusted."""

    source: str
    licence: str
    attribution: str
    date: str
    accuracy: str
    plan_ref: str = ""
    inputs: tuple[str, ...] = ()
    #: For a layer of ``mixed`` accuracy: how many features have each accuracy level.
    accuracy_counts: dict[str, int] | None = None
    #: The Chinese wording of source, licence, attribution and date (``<name>_zh`` in the catalogue).
    zh: dict[str, str] | None = None

    def text(self, name: str, lang: str = "zh") -> str:
        """``source``, ``licence``, ``attribution`` or ``date`` in ``lang`` (the English wording when the catalogue
        gives no Chinese one)."""
        if lang == "zh" and self.zh and self.zh.get(name):
            return self.zh[name]
        return str(getattr(self, name))


@dataclass(frozen=True)
class LayerStyle:
    """Drawing parameters; per-feature colours come from ``color_field`` through ``colors``."""

    color: str = "#333333"
    weight: float = 2.0
    fill_color: str | None = None
    fill_opacity: float = 0.2
    radius: float = 5.0
    color_field: str | None = None
    colors: tuple[tuple[str, str], ...] = ()

    def colour_map(self) -> dict[str, str]:
        """Return the category → colour mapping."""
        return dict(self.colors)


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the catalogue."""

    id: str
    file: str
    geometry: str
    group: str
    title_zh: str
    title_en: str
    tooltip: tuple[str, ...]
    popup: tuple[str, ...]
    style: LayerStyle
    provenance: Provenance
    notes_zh: str = ""
    notes_en: str = ""
    undrawn: tuple[dict[str, str], ...] = ()

    @property
    def path(self) -> Path:
        """Path of the built layer file."""
        return paths.layer_file(self.file)

    def title(self, lang: str) -> str:
        """Title in ``lang`` ("zh" or "en")."""
        return self.title_en if lang == "en" else self.title_zh


@dataclass(frozen=True)
class Catalog:
    """The whole catalogue: metadata, groups, field labels and the layers in draw order."""

    meta: dict[str, str]
    groups: dict[str, dict[str, str]]
    fields: dict[str, dict[str, str]]
    layers: tuple[LayerSpec, ...] = field(default_factory=tuple)
    values: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def layer(self, layer_id: str) -> LayerSpec:
        """Return the spec of ``layer_id``; raise CatalogError for an unknown id."""
        for spec in self.layers:
            if spec.id == layer_id:
                return spec
        known = ", ".join(s.id for s in self.layers)
        raise CatalogError(f"Unknown layer {layer_id!r}; known layers: {known}.")

    @property
    def layer_ids(self) -> tuple[str, ...]:
        """Layer ids in draw order."""
        return tuple(s.id for s in self.layers)

    def label(self, field_name: str, lang: str) -> str:
        """Human label of an attribute in ``lang``; the raw name when the catalogue has none."""
        return self.fields.get(field_name, {}).get(lang, field_name)

    def value_label(self, field_name: str, value: str, lang: str) -> str:
        """Human label of a coded value (e.g. status 'open' → '已开通'); the value itself when not coded."""
        return self.values.get(field_name, {}).get(value, {}).get(lang, value)


def _require(table: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    if key not in table:
        raise CatalogError(f"{where}: missing key {key!r}.")
    value = table[key]
    if not isinstance(value, kind):
        wanted = getattr(kind, "__name__", kind)
        raise CatalogError(f"{where}: key {key!r} should be {wanted}, got {type(value).__name__}.")
    return value


def _parse_style(raw: dict[str, Any], where: str) -> LayerStyle:
    colors = raw.get("colors", {})
    for name, value in [("color", raw.get("color", "#333333")), ("fill_color", raw.get("fill_color") or "#000000"),
                        *colors.items()]:
        if not isinstance(value, str) or not _COLOUR_RE.match(value):
            raise CatalogError(f"{where}: style colour {name!r} must be '#rrggbb', got {value!r}.")
    for name in ("weight", "fill_opacity", "radius"):
        if name in raw and not isinstance(raw[name], (int, float)):
            raise CatalogError(f"{where}: style {name!r} must be a number.")
    if "fill_opacity" in raw and not 0.0 <= raw["fill_opacity"] <= 1.0:
        raise CatalogError(f"{where}: style 'fill_opacity' must lie between 0 and 1.")
    return LayerStyle(
        color=raw.get("color", "#333333"),
        weight=float(raw.get("weight", 2.0)),
        fill_color=raw.get("fill_color"),
        fill_opacity=float(raw.get("fill_opacity", 0.2)),
        radius=float(raw.get("radius", 5.0)),
        color_field=raw.get("color_field"),
        colors=tuple(sorted(colors.items())),
    )


def _parse_layer(raw: dict[str, Any], groups: dict[str, Any], fields: dict[str, Any]) -> LayerSpec:
    layer_id = raw.get("id", "?")
    where = f"catalog layer {layer_id!r}"
    if not isinstance(layer_id, str) or not _ID_RE.match(layer_id):
        raise CatalogError(f"{where}: id must be lower_snake_case.")
    file_name = _require(raw, "file", where)
    if not file_name.endswith(".geojson") or "/" in file_name or ".." in file_name:
        raise CatalogError(f"{where}: file must be a plain '*.geojson' name inside geodata/, got {file_name!r}.")
    geometry = _require(raw, "geometry", where)
    if geometry not in GEOMETRY_KINDS:
        raise CatalogError(f"{where}: geometry must be one of {GEOMETRY_KINDS}, got {geometry!r}.")
    group = _require(raw, "group", where)
    if group not in groups:
        raise CatalogError(f"{where}: group {group!r} is not declared under [groups].")
    for list_key in ("tooltip", "popup"):
        names = _require(raw, list_key, where, list)
        unknown = [n for n in names if n not in fields]
        if unknown:
            raise CatalogError(f"{where}: {list_key} fields {unknown} have no label under [fields].")
    prov = _require(raw, "provenance", where, dict)
    accuracy = _require(prov, "accuracy", f"{where} provenance")
    if accuracy not in settings.LAYER_ACCURACY_LEVELS:
        raise CatalogError(f"{where}: provenance accuracy {accuracy!r} is not one of "
                           f"{settings.LAYER_ACCURACY_LEVELS}.")
    counts = prov.get("accuracy_counts")
    if accuracy == "mixed" and not (isinstance(counts, dict) and set(counts) <= set(settings.ACCURACY_LEVELS)):
        raise CatalogError(f"{where}: a mixed-accuracy layer needs accuracy_counts by level, e.g. {{osm = 4}}.")
    provenance = Provenance(
        source=_require(prov, "source", f"{where} provenance"),
        licence=_require(prov, "licence", f"{where} provenance"),
        attribution=_require(prov, "attribution", f"{where} provenance"),
        date=_require(prov, "date", f"{where} provenance"),
        accuracy=accuracy,
        plan_ref=prov.get("plan_ref", ""),
        inputs=tuple(prov.get("inputs", ())),
        accuracy_counts=dict(counts) if accuracy == "mixed" else None,
        zh={k: str(prov[f"{k}_zh"]) for k in ("source", "licence", "attribution", "date") if prov.get(f"{k}_zh")},
    )
    undrawn = tuple(dict(item) for item in raw.get("undrawn", ()))
    for item in undrawn:
        for key in ("line_id", "name_zh", "name_en", "status", "plan_ref", "reason_zh", "reason_en"):
            _require(item, key, f"{where} undrawn entry {item.get('line_id', '?')!r}")
    return LayerSpec(
        id=layer_id,
        file=file_name,
        geometry=geometry,
        group=group,
        title_zh=_require(raw, "title_zh", where),
        title_en=_require(raw, "title_en", where),
        tooltip=tuple(raw["tooltip"]),
        popup=tuple(raw["popup"]),
        style=_parse_style(raw.get("style", {}), where),
        provenance=provenance,
        notes_zh=raw.get("notes_zh", ""),
        notes_en=raw.get("notes_en", ""),
        undrawn=undrawn,
    )


def catalog_from_dict(data: dict[str, Any]) -> Catalog:
    """Validate a parsed catalogue and return it as a :class:`Catalog`.

    Raises
    ------
    CatalogError
        Naming the layer and the key that is wrong.
    """
    groups = data.get("groups", {})
    fields = data.get("fields", {})
    raw_layers = data.get("layer", [])
    if not raw_layers:
        raise CatalogError("The catalogue declares no [[layer]].")
    layers = tuple(_parse_layer(raw, groups, fields) for raw in raw_layers)
    ids = [s.id for s in layers]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CatalogError(f"Duplicate layer ids in the catalogue: {dupes}.")
    values = data.get("values", {})
    for field_name, table in values.items():
        for code, labels in table.items():
            if not {"zh", "en"} <= set(labels):
                raise CatalogError(f"[values.{field_name}] {code!r} needs both 'zh' and 'en' labels.")
    return Catalog(meta=dict(data.get("meta", {})), groups=groups, fields=fields, layers=layers, values=values)


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and validate ``layers/catalog.toml`` (or ``path``)."""
    path = path or paths.CATALOG_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogError(f"Catalogue file not found: {path}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"Catalogue {path.name} is not valid TOML: {exc}.") from exc
    return catalog_from_dict(data)


@cached(maxsize=1)
def get_catalog() -> Catalog:
    """The project's catalogue, read once per process."""
    return load_catalog()
