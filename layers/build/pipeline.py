"""Build every layer of ``geodata/`` from the copied sources, deterministically (``python -m layers build``)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from layers.build.builders import (
    build_district,
    build_parks,
    build_rail_lines,
    build_stations,
    build_structure,
    build_towns,
    build_zones,
    town_cells,
)
from layers.build.overlay import overlay_path, overlay_towns, read_overlay
from layers.build.sources import SOURCE_FILES, Inputs, copy_sources, read_inputs
from layers.core import paths
from layers.core.catalog import Catalog, get_catalog
from layers.core.errors import BuildError
from layers.core.files import write_texts_together
from layers.core.geojson import feature_collection_text

#: The build's record (layers, sources, unlocated parks, the overlay built from) beside the layer files.
BUILD_INFO = "build_info.json"


def build_layers(inputs: Inputs, *, overlay: list[dict[str, Any]] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Build every catalogue layer in memory; returns layer id → features.

    ``overlay``: imported town boundaries (``geodata/imports``); they replace their schematic cells per feature
    and the other cells are re-fitted around them (see ``layers/build/overlay.py``).
    """
    towns = overlay_towns(inputs, overlay) if overlay else build_towns(inputs, town_cells(inputs))
    parks, _ = build_parks(inputs, towns)
    return {
        "district": build_district(inputs),
        "towns": towns,
        "zones": build_zones(inputs, towns),
        "structure": build_structure(inputs),
        "rail_lines": build_rail_lines(inputs),
        "stations": build_stations(inputs, towns),
        "parks": parks,
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_texts(*, overlay: list[dict[str, Any]] | None = None, overlay_info: dict[str, Any] | None = None,
                catalog: Catalog | None = None) -> dict[str, str]:
    """Build every layer in memory; returns file name → text of every layer file and ``build_info.json``.

    ``overlay``: imported town boundaries; ``overlay_info`` (file, features, sha256) is recorded in
    ``build_info.json`` under ``towns_overlay`` when given. Nothing is written.
    """
    catalog = catalog or get_catalog()
    inputs = read_inputs()
    layers = build_layers(inputs, overlay=overlay)
    _, unlocated = build_parks(inputs, layers["towns"])
    missing = [s.id for s in catalog.layers if s.id not in layers]
    if missing:
        raise BuildError(f"The build has no builder for catalogue layers {missing}.")
    texts = {spec.file: feature_collection_text(layers[spec.id], name=spec.id) for spec in catalog.layers}
    info = {
        "release_date": catalog.meta.get("release_date"),
        "layers": {spec.id: {"file": spec.file, "features": len(layers[spec.id]),
                             "sha256": hashlib.sha256(texts[spec.file].encode()).hexdigest()}
                   for spec in catalog.layers},
        "sources": {name: _sha256(paths.SOURCES_DIR / name) for name in SOURCE_FILES},
        "parks_unlocated": unlocated,
    }
    if overlay and overlay_info:  # only with an import, so the schematic build stays byte-identical
        info["towns_overlay"] = dict(overlay_info)
    texts[BUILD_INFO] = json.dumps(info, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    return texts


def build_all(*, out_dir: Path = paths.GEODATA_DIR, catalog: Catalog | None = None,
              copy: bool = True) -> dict[str, Path]:
    """Copy sources, build every layer and write them; returns layer id → written path.

    Everything is built in memory first, then every file (and ``build_info.json``) is replaced as one change
    (:func:`write_texts_together`), so a build interrupted at any point leaves the previous layers intact.
    Imported town boundaries in ``out_dir/imports`` (an older version's import; imports now live in the workspace
    store) are applied when present; without them the output is the schematic build.
    """
    catalog = catalog or get_catalog()
    if copy:
        copy_sources()
    overlay = read_overlay(out_dir)
    info = None
    if overlay:
        info = {"file": overlay_path(out_dir).relative_to(out_dir).as_posix(), "features": len(overlay),
                "sha256": _sha256(overlay_path(out_dir))}
    texts = build_texts(overlay=overlay, overlay_info=info, catalog=catalog)
    write_texts_together({out_dir / name: text for name, text in texts.items()})
    return {spec.id: out_dir / spec.file for spec in catalog.layers}
