"""Shared fixtures: the catalogue, the built layers, the shared source and reference folders."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import geopandas as gpd
import pytest

from layers.app.cache import clear_all_caches
from layers.core import paths, settings
from layers.core.catalog import get_catalog
from layers.core.crs import to_measure
from layers.map.load import read_layer
from layers.scenes.batch import PACK_DPI
from layers.scenes.output import cache_path, inputs_fingerprint
from layers.scenes.pack import PackReport, build_pack

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# AppTest runs pages without a browser, so no map ever reports "drawn": pages send everything at once. The browser
# tests start the app with the gate on (tests/browser/conftest.py).
os.environ.setdefault(settings.MAP_GATE_ENV, "off")


def pytest_configure(config: pytest.Config) -> None:
    """Every test (and every app it starts) uses a private, empty workspace store, never the checkout's var/ nor a
    PostgreSQL named in the caller's environment; the tests' drawn scenes are cached beside it."""
    os.environ[settings.DATA_DIR_ENV] = config._songjiang_var = tempfile.mkdtemp(prefix="songjiang-test-var-")
    os.environ.pop(settings.DATABASE_URL_ENV, None)
    # Drawn scene files are cached per session too, not in the checkout's .cache/: xdist workers have different
    # stores (so fingerprints), and one worker's pack would prune the other's cache half-way through its test.
    paths.SCENE_CACHE_DIR = Path(config._songjiang_var) / "scene-cache"


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the session's private store."""
    folder = getattr(config, "_songjiang_var", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


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


@pytest.fixture(scope="session")
def drawn_pack(tmp_path_factory) -> PackReport:
    """The default meeting pack, drawn once per session (worker): later packs and zh A4 handouts in the session take
    its pages from the session's scene cache instead of drawing them again."""
    return build_pack(tmp_path_factory.mktemp("pack") / "meeting.zip")


@pytest.fixture
def pack_cache(drawn_pack, tmp_path, monkeypatch) -> Path:
    """A private scene cache (``tmp_path/cache``) holding the pages of the default pack and nothing else: the cache
    as ``build_pack`` leaves it, without drawing them again."""
    cache = tmp_path / "cache"
    for name in drawn_pack.files:  # a page missing here (the inputs changed since) is drawn by the test's pack
        drawn = cache_path(name, lang="zh", paper="A4", dpi=PACK_DPI, fingerprint=inputs_fingerprint())
        if drawn.is_file():
            copy = cache / drawn.relative_to(paths.SCENE_CACHE_DIR)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(drawn, copy)
    monkeypatch.setattr(paths, "SCENE_CACHE_DIR", cache)
    return cache


@pytest.fixture
def fresh_caches():
    """Every cache empty before and after the test (pages read the data afresh)."""
    clear_all_caches()
    yield
    clear_all_caches()


@pytest.fixture(scope="module")
def fresh_partitions():
    """The partition memo off for a whole module: its tests time or compare fits made afresh."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "PARTITION_MEMO_SIZE", 0)
        yield


@pytest.fixture
def geo(tmp_path, monkeypatch) -> Path:
    """A private copy of geodata/ without any import overlay, and a private empty workspace store
    (``tmp_path/var``): tests that import write there, never to the real ones."""
    out = tmp_path / "geodata"
    shutil.copytree(paths.GEODATA_DIR, out, ignore=shutil.ignore_patterns("imports"))
    monkeypatch.setenv(settings.DATA_DIR_ENV, str(tmp_path / "var"))
    return out


def served_files(geo: Path) -> dict[str, bytes]:
    """What the app serves over the baseline ``geo``: every file of it, the workspace store's in place of its own."""
    from layers.core.store import open_store

    store = open_store()
    out = {p.relative_to(geo).as_posix(): p.read_bytes() for p in sorted(geo.rglob("*")) if p.is_file()}
    out.update({name: store.layer_text(name).encode("utf-8") for name in store.layer_names()})
    return out


@pytest.fixture
def served():
    """``served(geo)``: file name → bytes as the app serves them over the baseline ``geo`` (see served_files)."""
    return served_files


#: Marker given to every test below a folder of tests/ (the browser fixtures live in tests/browser/conftest.py).
FOLDER_MARKERS = {"browser": "browser", "app": "apptest"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by folder, so ``-m "not browser"`` is the fast loop (``make test-fast``)."""
    tests_dir = Path(__file__).resolve().parent
    for item in items:
        parts = Path(item.path).resolve().relative_to(tests_dir).parts
        if parts and parts[0] in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[parts[0]])


#: Debian's PostgreSQL server binaries (package postgresql-15; scripts/ensure_system.sh installs it).
PG_BIN = Path("/usr/lib/postgresql/15/bin")
#: The PostGIS extension for that server (package postgresql-15-postgis-3): the store needs it on PostgreSQL.
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")


def _as_postgres(*cmd: str) -> list[str]:
    """Run as the ``postgres`` user when we are root (the server refuses to run as root)."""
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *cmd] if os.geteuid() == 0 else [*cmd]


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory) -> str:
    """A private PostgreSQL server with PostGIS for this session (unix socket in a temporary folder, no TCP): its
    URL.

    Skipped when the server binaries or PostGIS are missing, except under CI=true, where that is a failure."""
    missing = None
    if not (PG_BIN / "initdb").exists() or (os.geteuid() == 0 and not shutil.which("setpriv")):
        missing = f"PostgreSQL server binaries not found in {PG_BIN} (apt-get install postgresql-15)"
    elif not POSTGIS_CONTROL.exists():
        missing = f"PostGIS not found ({POSTGIS_CONTROL}; apt-get install postgresql-15-postgis-3)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    root = Path(tempfile.mkdtemp(prefix="songjiang-pg-"))
    root.chmod(0o755)
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(_as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E",
                                "UTF8"), check=True, capture_output=True, timeout=120)
    subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o",
                                f"-k {root} -p {port} -c listen_addresses=''", "start"),
                   check=True, capture_output=True, timeout=120)
    try:
        subprocess.run(_as_postgres(str(PG_BIN.parent / "bin" / "createdb"), "-h", str(root), "-p", str(port),
                                    "-U", "postgres", "songjiang"), check=True, capture_output=True, timeout=60)
        yield f"postgresql://postgres@/songjiang?host={root}&port={port}"
    finally:
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"),
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
