"""Shared fixtures: the catalogue, the built layers, the shared source and reference folders."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import pytest

from layers.app.cache import clear_all_caches
from layers.core import paths, settings
from layers.core.catalog import get_catalog
from layers.core.crs import to_measure
from layers.map.load import read_layer

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# AppTest runs pages without a browser, so no map ever reports "drawn": pages send everything at once. The browser
# tests start the app with the gate on (tests/browser/conftest.py).
os.environ.setdefault(settings.MAP_GATE_ENV, "off")


@pytest.fixture(scope="session")
def catalog():
    return get_catalog()


@pytest.fixture(scope="session")
def layers(catalog) -> dict[str, gpd.GeoDataFrame]:
    return {layer_id: read_layer(layer_id) for layer_id in catalog.layer_ids}


@pytest.fixture(scope="session")
def raw_layers(catalog) -> dict[str, dict]:
    return {s.id: json.loads(s.path.read_text(encoding="utf-8")) for s in catalog.layers}


@pytest.fixture(scope="session")
def outline_m(layers):
    return to_measure(layers["district"].geometry.iloc[0])


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The third-party reference folder: tests only, never copied into the project."""
    if not paths.SHARED_REFERENCE_DIR.is_dir():
        pytest.skip(f"reference data not present at {paths.SHARED_REFERENCE_DIR}")
    return paths.SHARED_REFERENCE_DIR


@pytest.fixture(scope="session")
def shared_sources_dir() -> Path:
    if not paths.SHARED_SOURCES_DIR.is_dir():
        pytest.skip(f"shared source data not present at {paths.SHARED_SOURCES_DIR}")
    return paths.SHARED_SOURCES_DIR


@pytest.fixture
def fresh_caches():
    """Every cache empty before and after the test (pages read the data afresh)."""
    clear_all_caches()
    yield
    clear_all_caches()


@pytest.fixture
def geo(tmp_path) -> Path:
    """A private copy of geodata/ without any import overlay: tests that write geodata write here, never to the
    real one."""
    out = tmp_path / "geodata"
    shutil.copytree(paths.GEODATA_DIR, out, ignore=shutil.ignore_patterns("imports"))
    return out


#: Marker given to every test below a folder of tests/ (the browser fixtures live in tests/browser/conftest.py).
FOLDER_MARKERS = {"browser": "browser", "app": "apptest"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by folder, so ``-m "not browser"`` is the fast loop (``make test-fast``)."""
    tests_dir = Path(__file__).resolve().parent
    for item in items:
        parts = Path(item.path).resolve().relative_to(tests_dir).parts
        if parts and parts[0] in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[parts[0]])
