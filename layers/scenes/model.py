"""Meeting scenes as data (layers/scenes/scenes.toml): scene, its layers, validation against the catalogue."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layers.core import paths, settings
from layers.core.caches import cached
from layers.core.catalog import Catalog, get_catalog
from layers.core.errors import SceneError

SCENES_FILE = paths.SCENES_FILE
EMPHASES = ("normal", "faint", "focus")
EXTENTS = ("district", "town")
LANGS = ("zh", "en")


@dataclass(frozen=True)
class SceneLayer:
    """One layer of a scene and how it is shown."""

    id: str
    emphasis: str = "normal"
    labels: bool = False
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    within_town: bool = False
    legend: bool = True
    color_by: str = ""                              # colour points by this (comma-list) field instead of the layer's
    colors: tuple[tuple[str, str], ...] = ()        # value → colour for ``color_by``, in legend order


@dataclass(frozen=True)
class Scene:
    """A themed meeting map: titles, plan reference, a note on sources and accuracy, and its layers."""

    id: str
    title_zh: str
    title_en: str
    subtitle_zh: str
    subtitle_en: str
    plan_ref: str
    note_zh: str
    note_en: str
    extent: str
    layers: tuple[SceneLayer, ...]
    cite_zh: str = ""       # where a term of the scene comes from when it is not the plan (a note line)
    cite_en: str = ""

    def text(self, name: str, lang: str) -> str:
        """The ``title``/``subtitle``/``note`` in ``lang``."""
        return getattr(self, f"{name}_{'en' if lang == 'en' else 'zh'}")

    @property
    def needs_town(self) -> bool:
        """True when the scene is a close-up of one town."""
        return self.extent == "town"


def _scene_from_dict(raw: dict[str, Any]) -> Scene:
    scene_id = raw.get("id", "?")
    where = f"scene {scene_id!r} in scenes.toml"
    for key in ("id", "title_zh", "title_en", "subtitle_zh", "subtitle_en", "plan_ref", "note_zh", "note_en"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise SceneError(f"{where}: missing or empty text key {key!r}.")
    extent = raw.get("extent", "district")
    if extent not in EXTENTS:
        raise SceneError(f"{where}: extent must be one of {EXTENTS}, got {extent!r}.")
    layers = []
    for item in raw.get("layer", []):
        layer_where = f"{where}, layer {item.get('id', '?')!r}"
        emphasis = item.get("emphasis", "normal")
        if emphasis not in EMPHASES:
            raise SceneError(f"{layer_where}: emphasis must be one of {EMPHASES}, got {emphasis!r}.")
        filters = item.get("where", {})
        if not isinstance(filters, dict) or not all(isinstance(v, list) for v in filters.values()):
            raise SceneError(f"{layer_where}: 'where' must map a field to a list of values.")
        if item.get("within_town") and extent != "town":
            raise SceneError(f"{layer_where}: within_town needs a town scene (extent = \"town\").")
        colors = item.get("colors", {})
        if item.get("color_by") and (not isinstance(colors, dict) or not colors):
            raise SceneError(f"{layer_where}: color_by needs a colors table (value = \"#rrggbb\").")
        layers.append(SceneLayer(
            id=str(item.get("id", "")), emphasis=emphasis, labels=bool(item.get("labels", False)),
            where=tuple((k, tuple(str(x) for x in v)) for k, v in sorted(filters.items())),
            within_town=bool(item.get("within_town", False)), legend=bool(item.get("legend", True)),
            color_by=str(item.get("color_by", "")), colors=tuple((str(k), str(v)) for k, v in colors.items()),
        ))
    if not layers:
        raise SceneError(f"{where}: lists no [[scene.layer]].")
    return Scene(id=scene_id, title_zh=raw["title_zh"], title_en=raw["title_en"], subtitle_zh=raw["subtitle_zh"],
                 subtitle_en=raw["subtitle_en"], plan_ref=raw["plan_ref"], note_zh=raw["note_zh"],
                 note_en=raw["note_en"], extent=extent, layers=tuple(layers),
                 cite_zh=str(raw.get("cite_zh", "")), cite_en=str(raw.get("cite_en", "")))


def validate_scenes(scenes: dict[str, Scene], catalog: Catalog) -> None:
    """Check that every scene layer exists in the catalogue and every filter names a field the layer shows.

    Raises
    ------
    SceneError
        Naming the scene and the layer.
    """
    for scene in scenes.values():
        for layer in scene.layers:
            if layer.id not in catalog.layer_ids:
                raise SceneError(f"Scene {scene.id!r} shows layer {layer.id!r}, which is not in the catalogue "
                                 f"(known: {', '.join(catalog.layer_ids)}).")
            spec = catalog.layer(layer.id)
            known_fields = {"id", *settings.REQUIRED_PROPERTIES, *spec.tooltip, *spec.popup}
            if layer.color_by and layer.color_by not in known_fields:
                raise SceneError(f"Scene {scene.id!r}, layer {layer.id!r}: color_by field {layer.color_by!r} is "
                                 f"not a field of that layer.")
            for field_name, _ in layer.where:
                if field_name not in known_fields:
                    raise SceneError(f"Scene {scene.id!r}, layer {layer.id!r}: filter field {field_name!r} is "
                                     f"not a field of that layer.")


def load_scenes(path: Path | None = None, *, catalog: Catalog | None = None) -> dict[str, Scene]:
    """Read ``layers/scenes.toml`` (or ``path``) and validate it against the catalogue.

    Returns
    -------
    dict
        Scene id → :class:`Scene`, in file order.
    """
    path = path or SCENES_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SceneError(f"Scene file not found: {path}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SceneError(f"Scene file {path.name} is not valid TOML: {exc}.") from exc
    scenes: dict[str, Scene] = {}
    for raw in data.get("scene", []):
        scene = _scene_from_dict(raw)
        if scene.id in scenes:
            raise SceneError(f"Scene id {scene.id!r} is defined twice in {path.name}.")
        scenes[scene.id] = scene
    if not scenes:
        raise SceneError(f"{path.name} defines no [[scene]].")
    validate_scenes(scenes, catalog or get_catalog())
    return scenes


@cached(maxsize=1)
def get_scenes() -> dict[str, Scene]:
    """The project's scenes, read once per process."""
    return load_scenes()


def get_scene(scene_id: str) -> Scene:
    """Return the scene ``scene_id``; raise SceneError listing the known ones otherwise."""
    scenes = get_scenes()
    if scene_id not in scenes:
        raise SceneError(f"Unknown scene {scene_id!r}; known scenes: {', '.join(scenes)}.")
    return scenes[scene_id]
