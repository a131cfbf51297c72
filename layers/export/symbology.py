"""The catalogue's web-map styles as drawing rules for GIS files, shared by the QML, SLD, project and KML writers."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from layers.core.catalog import Catalog, LayerSpec
from layers.core.i18n import t
from layers.map.style import leaflet_style

#: Attribute whose value names a feature in labels, by export language.
LABEL_FIELDS = {"zh": "name_zh", "en": "name_en"}


@dataclass(frozen=True)
class Symbol:
    """How one category is drawn, in screen pixels as on the web map."""

    family: str                  # "polygon", "line" or "point"
    stroke: str                  # '#rrggbb'
    width: float
    stroke_opacity: float = 0.95
    dash: tuple[float, ...] = ()  # on/off lengths in pixels; empty = solid
    fill: str | None = None
    fill_opacity: float = 0.0
    size: float = 0.0            # marker diameter (points)


@dataclass(frozen=True)
class Condition:
    """``field = value`` (or ``field <> value`` when ``equal`` is False)."""

    field: str
    value: str
    equal: bool = True

    def holds(self, props: Mapping[str, Any]) -> bool:
        """Whether a feature's attributes meet the condition (a missing value meets neither form)."""
        got = props.get(self.field)
        if got is None or (isinstance(got, float) and got != got):
            return False
        return (str(got) == self.value) == self.equal


@dataclass(frozen=True)
class StyleRule:
    """One legend row: features meeting every condition (none = all the others) drawn with ``symbol``."""

    key: str
    label: str
    conditions: tuple[Condition, ...]
    symbol: Symbol

    @property
    def is_else(self) -> bool:
        """Whether this is the catch-all rule for features no other rule takes."""
        return not self.conditions


@dataclass(frozen=True)
class LayerSheet:
    """Everything a style file says about one table: rules, the label field and the field aliases."""

    name: str
    title: str
    family: str
    rules: tuple[StyleRule, ...]
    label_field: str | None
    aliases: tuple[tuple[str, str], ...]
    lang: str

    def rule_for(self, props: Mapping[str, Any]) -> StyleRule:
        """The first rule a feature meets (the catch-all when none)."""
        for rule in self.rules:
            if rule.conditions and all(c.holds(props) for c in rule.conditions):
                return rule
        return self.rules[-1]


def _dash(text: str | None) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split()) if text else ()


def symbol_for(spec: LayerSpec, props: Mapping[str, Any], family: str) -> Symbol:
    """The web map's drawing of one feature (:func:`layers.map.style.leaflet_style`) as a :class:`Symbol`."""
    web = leaflet_style(spec, dict(props))
    if family == "point":
        return Symbol("point", web["color"], float(web["weight"]), 1.0, (), web["fillColor"],
                      float(web["fillOpacity"]), 2 * spec.style.radius)
    dash = _dash(web.get("dashArray"))
    if family == "line":
        return Symbol("line", web["color"], float(web["weight"]), float(web["opacity"]), dash)
    return Symbol("polygon", web["color"], float(web["weight"]), float(web["opacity"]), dash,
                  web.get("fillColor", web["color"]), float(web.get("fillOpacity", 0.0)))


def _category_label(catalog: Catalog, field: str, value: str, features: Sequence[Mapping[str, Any]],
                    lang: str) -> str:
    if field in ("id", "colour"):
        name_field = LABEL_FIELDS.get(lang, "name_zh")
        names = list(dict.fromkeys(str(f.get(name_field) or f.get("name_zh") or value)
                                   for f in features if str(f.get(field)) == value))
        return "、".join(names) if names else value
    return catalog.value_label(field, value, lang)


def layer_rules(spec: LayerSpec, catalog: Catalog, features: Sequence[Mapping[str, Any]], *, family: str,
                lang: str) -> tuple[StyleRule, ...]:
    """Rules for one table: a rule per category of the catalogue's ``color_field`` (those in the catalogue and
    those in the data), split by ``status`` and schematic accuracy where they change the dash, then a catch-all.

    Labels are in ``lang``; colours, widths and dashes are those of the web map.
    """
    field = spec.style.color_field
    has_status = family != "point" and any("status" in f for f in features)
    # Categories the catalogue knows but the (filtered) data lacks still get a rule, drawn as the layer draws them.
    samples: list[Mapping[str, Any]] = list(features)
    if field:
        present = {str(f.get(field)) for f in features}
        samples += [{field: value, "accuracy": spec.provenance.accuracy} for value, _c in spec.style.colors
                    if value not in present]
    rules: dict[tuple[Condition, ...], StyleRule] = {}
    for props in samples:
        conditions: list[Condition] = []
        parts: list[str] = []
        if field:
            conditions.append(Condition(field, str(props.get(field))))
        if has_status and props.get("status") is not None:
            conditions.append(Condition("status", str(props["status"])))
            parts.append(catalog.value_label("status", str(props["status"]), lang))
        if family != "point":
            schematic = props.get("accuracy") == "schematic"
            conditions.append(Condition("accuracy", "schematic", schematic))
            if schematic and spec.provenance.accuracy != "schematic":
                parts.append(catalog.value_label("accuracy", "schematic", lang))
        key = tuple(conditions)
        if key in rules:
            continue
        if field:
            members = [f for f in features if all(c.holds(f) for c in key)]
            parts.insert(0, _category_label(catalog, field, str(props.get(field)), members, lang))
        label = " · ".join(parts) or spec.title(lang)
        rules[key] = StyleRule(f"r{len(rules)}", label, key, symbol_for(spec, props, family))
    other = StyleRule(f"r{len(rules)}", t("exp_other", lang), (), symbol_for(spec, {}, family))
    return (*rules.values(), other)


def field_aliases(columns: Iterable[str], catalog: Catalog, lang: str) -> tuple[tuple[str, str], ...]:
    """(column, alias) for every column, unique within the table: the catalogue label in ``lang``, with the
    column name added where two labels are the same (e.g. ``reason_zh`` and ``reason_en``: both 原因)."""
    columns = list(columns)
    labels = [catalog.label(c, lang) for c in columns]
    seen: dict[str, int] = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    return tuple((c, label if seen[label] == 1 else f"{label} ({c})") for c, label in zip(columns, labels, strict=True))


def layer_sheet(spec: LayerSpec, catalog: Catalog, *, name: str, family: str, columns: Sequence[str],
                features: Sequence[Mapping[str, Any]], lang: str) -> LayerSheet:
    """The :class:`LayerSheet` of one table of ``spec`` holding ``columns`` and ``features``."""
    label_field = LABEL_FIELDS.get(lang, "name_zh")
    title = spec.title(lang) if name == spec.id else f"{spec.title(lang)} ({t(f'exp_geom_{family}', lang)})"
    return LayerSheet(name=name, title=title, family=family,
                      rules=layer_rules(spec, catalog, features, family=family, lang=lang),
                      label_field=label_field if label_field in columns else None,
                      aliases=field_aliases(columns, catalog, lang), lang=lang)
