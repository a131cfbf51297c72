"""Which scene (and town) the Present page shows, from the URL, and stepping through them."""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from layers.core import settings
from layers.scenes.model import get_scene, get_scenes


@dataclass(frozen=True)
class SceneChoice:
    """The scene on screen and, for a close-up, its town."""

    scene: str
    town: str | None = None

    def params(self) -> dict[str, str]:
        """URL parameters that bring this scene back."""
        return {"scene": self.scene, **({"town": self.town} if self.town else {})}


def scene_ids() -> list[str]:
    """Scene ids in presentation order (the order of layers/scenes.toml)."""
    return list(get_scenes())


def _one(value: Any) -> str | None:
    """The last value of a URL parameter; "" for one that is too long or not text (reported, never used)."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    if value is None:
        return None
    return value if isinstance(value, str) and len(value) <= 100 else ""


def choose_scene(params: Mapping[str, Any], *, town_codes: Collection[str], remembered_town: str | None = None
                 ) -> tuple[SceneChoice, list[str]]:
    """The scene and town the URL parameters ask for, and an i18n key per value that was ignored.

    A value is never echoed back: the notices only name the parameter. An unknown scene shows the first one; a
    close-up without a known town shows ``remembered_town`` or :data:`settings.PACK_TOWN`.
    """
    ids = scene_ids()
    notices: list[str] = []
    raw_scene = _one(params.get("scene"))
    scene_id = ids[0]
    if raw_scene in ids:
        scene_id = raw_scene
    elif raw_scene is not None:
        notices.append("pres_bad_scene")
    raw_town = _one(params.get("town"))
    if raw_town is not None and raw_town not in town_codes:
        notices.append("pres_bad_town")
    town = None
    if get_scene(scene_id).needs_town:
        fallback = remembered_town if remembered_town in town_codes else settings.PACK_TOWN
        town = raw_town if raw_town in town_codes else fallback
    return SceneChoice(scene_id, town), notices


def step_scene(choice: SceneChoice, step: int, *, town: str | None = None) -> SceneChoice | None:
    """The scene ``step`` places before/after ``choice`` (None past either end); a close-up gets ``town``."""
    ids = scene_ids()
    index = ids.index(choice.scene) + step
    if not 0 <= index < len(ids):
        return None
    target = ids[index]
    needs_town = get_scene(target).needs_town
    return SceneChoice(target, (town or choice.town or settings.PACK_TOWN) if needs_town else None)
