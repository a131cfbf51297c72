"""Every file path the project uses, built from this file's location (never the working directory)."""
from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
LAYERS_DIR = PROJECT_DIR / "layers"
CATALOG_FILE = LAYERS_DIR / "catalog.toml"
SCENES_FILE = LAYERS_DIR / "scenes" / "scenes.toml"
GEODATA_DIR = PROJECT_DIR / "geodata"
SOURCES_DIR = GEODATA_DIR / "sources"
CURATION_DIR = GEODATA_DIR / "curation"
BUILD_INFO_FILE = GEODATA_DIR / "build_info.json"
STATIC_DIR = PROJECT_DIR / "static"
#: Scene files (PNG/PDF/HTML) already drawn, reused while their inputs are unchanged (layers/scenes/output.py).
SCENE_CACHE_DIR = PROJECT_DIR / ".cache" / "scenes"
#: The embedded workspace store's folder when ``SONGJIANG_DATA_DIR`` is not set (git-ignored).
DATA_DIR = PROJECT_DIR / "var"
#: The shared folder beside the project (source data, seeds). Only the build and tests read it.
SHARED_DIR = PROJECT_DIR.parent / "shared"
SHARED_SOURCES_DIR = SHARED_DIR / "data" / "sources"
SHARED_REFERENCE_DIR = SHARED_DIR / "data" / "reference"
SEEDS_DIR = SHARED_DIR / "seeds"


def layer_file(file_name: str) -> Path:
    """Return the path of a built layer file inside ``geodata/``."""
    return GEODATA_DIR / file_name
