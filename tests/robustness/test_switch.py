"""Data never half-written (issues 17, 18): apply and revert are one transaction of the workspace store; a SIGKILL
at any step leaves either the old or the new state, with a history that says which; two imports at once: one wins,
the other is told; geodata/ (the shipped baseline) is never written, even read-only; the running app notices a
change made by another process."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import pytest
from _processes import run_forked  # tests/_processes.py

from layers.core import paths, settings
from layers.core.errors import ImportBusyError, StoreError
from layers.core.files import CRASH_ENV
from layers.core.store import open_store
from layers.core.upload import read_town_file
from layers.imports.apply import apply_import, revert_import
from layers.imports.plan import plan_import

pytestmark = pytest.mark.slow  # subprocesses, crashes and databases: `make test` only

SOUTH = ("泖港镇", "叶榭镇", "石湖荡镇")
#: Where a change can be killed: built in memory, transaction begun, everything written but not committed,
#: committed.
STEPS = ("built", "store-begun", "store-written", "store-committed")


def state(geo: Path, served) -> tuple[dict[str, bytes], list[tuple[int, str]]]:
    """(what the app serves, the history as (version, action))."""
    return served(geo), [(v.version, v.action) for v in open_store().history()]


@pytest.fixture(scope="module")
def south_file(tmp_path_factory) -> Path:
    towns = gpd.read_file(paths.GEODATA_DIR / "towns.geojson")
    path = tmp_path_factory.mktemp("src") / "south.geojson"
    path.write_text(towns[towns["name_zh"].isin(SOUTH)][["code", "name_zh", "geometry"]].to_json(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def imported_var(tmp_path_factory, south_file) -> Path:
    """A store folder holding one import of ``south_file``, made by a clean run of the command line."""
    var = tmp_path_factory.mktemp("clean-var")
    assert _cli(paths.GEODATA_DIR, str(south_file), data_dir=var).returncode == 0
    return var


@pytest.fixture(scope="module")
def imported_layers(imported_var) -> dict[str, str]:
    """The layers an import of ``south_file`` puts in force."""
    store = open_store({settings.DATA_DIR_ENV: str(imported_var)})
    return {name: store.layer_text(name) for name in store.layer_names()}


def _cli(geo: Path, *args: str, data_dir: Path | None = None,
         user: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, CRASH_ENV: "", "PYTHONDONTWRITEBYTECODE": "1"}
    if data_dir is not None:
        env[settings.DATA_DIR_ENV] = str(data_dir)
    if user is not None:  # another user: a home of its own for matplotlib's cache
        env.update(HOME=str(data_dir), MPLCONFIGDIR=str(data_dir))
    prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] if user is not None else []
    return subprocess.run([*prefix, sys.executable, "-m", "layers", "import-towns", *args, "--geodata-dir", str(geo)],
                          cwd=paths.PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)


def _cli_killed_at(geo: Path, step: str, *args: str) -> subprocess.CompletedProcess:
    """The command line killing itself (SIGKILL) at ``step``: a process forked from this one, which has imported
    it already (``_cli`` starts a fresh interpreter, as a user would; the fixtures and the tests below it keep
    doing so)."""
    return run_forked(["import-towns", *args, "--geodata-dir", str(geo)], env={CRASH_ENV: step})


@pytest.mark.parametrize("step", STEPS)
def test_an_import_killed_at_any_step_is_old_or_new(geo, south_file, imported_layers, served, step):
    before = state(geo, served)
    run = _cli_killed_at(geo, step, str(south_file))
    assert run.returncode == -9, run.stderr
    after_files, history = state(geo, served)
    if step == "store-committed":  # the commit is the moment of the change
        assert history == [(1, "apply")]
        assert {n: after_files[n].decode() for n in imported_layers} == imported_layers
    else:
        assert (after_files, history) == before and history == []
    assert served(geo).keys() == before[0].keys()


@pytest.mark.parametrize("step", STEPS)
def test_a_revert_killed_at_any_step_is_old_or_new(geo, imported_var, served, step):
    shutil.copytree(imported_var, Path(os.environ[settings.DATA_DIR_ENV]))  # the import, without building it again
    imported = state(geo, served)
    assert imported[1] == [(1, "apply")]
    run = _cli_killed_at(geo, step, "--revert")
    assert run.returncode == -9, run.stderr
    files, history = state(geo, served)
    if step == "store-committed":
        assert history == [(2, "revert"), (1, "apply")] and open_store().layer_names() == []
        assert files == {p.relative_to(geo).as_posix(): p.read_bytes() for p in geo.rglob("*") if p.is_file()}
    else:
        assert (files, history) == imported


def test_two_imports_at_once_one_wins_and_the_other_is_told(geo, south_file):
    """Two processes plan against the same version; the first to commit wins, the second is refused, nothing is
    lost or mixed."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "layers", "import-towns", str(south_file), "--geodata-dir", str(geo)]
    procs = [subprocess.Popen(cmd, cwd=paths.PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stdout.read() + p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    told = next(text for code, text in results if code == 2)
    assert "The data changed since this report was made" in told
    assert [v.version for v in open_store().history()] == [1]


def test_an_import_planned_before_another_was_applied_is_refused(geo, south_file):
    first = plan_import(read_town_file(south_file), geodata_dir=geo)
    second = plan_import(read_town_file(south_file), geodata_dir=geo)
    assert first.based_on == second.based_on == "v0"
    apply_import(first, geodata_dir=geo, who="first")
    with pytest.raises(ImportBusyError) as info:
        apply_import(second, geodata_dir=geo, who="second")
    assert info.value.changed
    with pytest.raises(ImportBusyError):
        revert_import(0, geodata_dir=geo, expect=0)  # a revert made from a page that showed version 0
    assert [(v.version, v.who) for v in open_store().history()] == [(1, "first")]


def test_the_store_file_is_readable_by_others(geo, south_file):
    old = os.umask(0o077)  # even under a strict umask
    try:
        apply_import(plan_import(read_town_file(south_file), geodata_dir=geo), geodata_dir=geo)
    finally:
        os.umask(old)
    assert open_store().path.stat().st_mode & 0o777 == 0o644


def test_the_version_changes_with_a_command_line_import_and_the_app_sees_it(geo, south_file, monkeypatch):
    from layers.app import cache

    monkeypatch.setattr(cache, "_DATA_VERSION", {})
    cleared = []
    monkeypatch.setattr(cache, "clear_all_caches", lambda: cleared.append(1))
    assert cache.refresh_if_data_changed() is None and not cleared
    assert _cli(geo, str(south_file)).returncode == 0
    assert open_store().version() == 1
    assert cache.refresh_if_data_changed() is None and cleared == [1]  # the next page run clears the caches
    assert cache.refresh_if_data_changed() is None and cleared == [1]  # once


def _private_readonly_copy() -> tuple[Path, Path]:
    """A copy of geodata/ made read-only, and a data folder, both where another user can reach them."""
    root = Path(tempfile.mkdtemp(prefix="songjiang-ro-"))
    root.chmod(0o755)
    geo = root / "geodata"
    shutil.copytree(paths.GEODATA_DIR, geo, ignore=shutil.ignore_patterns("imports"))
    var = root / "var"
    var.mkdir()
    var.chmod(0o777)
    for p in [geo, *geo.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return geo, var


def test_a_read_only_baseline_still_serves_and_imports_into_the_store(south_file, served, monkeypatch):
    """geodata/ made read-only (chmod a-w; as root, the import runs as nobody, for whom it is): the import goes into
    the store, the baseline is unchanged, and the app serves it."""
    geo, var = _private_readonly_copy()
    try:
        before = {p: p.read_bytes() for p in geo.rglob("*") if p.is_file()}
        user = 65534 if os.geteuid() == 0 and shutil.which("setpriv") else None
        if user is None and os.geteuid() == 0:
            pytest.fail("running as root without setpriv: cannot make geodata/ read-only for the import")
        if user is not None:  # prove it is read-only for the importing user
            denied = subprocess.run(["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "touch",
                                     str(geo / "x")], capture_output=True)
            assert denied.returncode != 0
        mine = shutil.copy(south_file, geo.parent / south_file.name)
        run = _cli(geo, str(mine), data_dir=var, user=user)
        assert run.returncode == 0, run.stdout + run.stderr
        assert {p: p.read_bytes() for p in geo.rglob("*") if p.is_file()} == before
        monkeypatch.setenv(settings.DATA_DIR_ENV, str(var))
        store = open_store()
        assert store.version() == 1 and "towns.geojson" in store.layer_names()
        monkeypatch.setattr(paths, "GEODATA_DIR", geo)
        from layers.map.load import read_layer

        towns = read_layer("towns")
        assert set(towns.loc[towns["name_zh"].isin(SOUTH), "accuracy"]) == {"authoritative"}
        from streamlit.testing.v1 import AppTest

        from layers.app.cache import clear_all_caches

        clear_all_caches()
        at = AppTest.from_file(str(paths.PROJECT_DIR / "pages" / "4_数据_Data.py"), default_timeout=60)
        at.query_params["lang"] = "en"
        at.run()  # the app on the read-only baseline: serves, says which import is in force
        assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
        assert any("3 unit\\(s\\) currently imported" in i.value for i in at.info), [i.value for i in at.info]
        clear_all_caches()
    finally:
        for p in [geo, *geo.rglob("*")]:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)
        shutil.rmtree(geo.parent, ignore_errors=True)


def test_a_store_that_cannot_be_written_is_a_clear_message_without_paths(geo, south_file, monkeypatch, tmp_path):
    from layers.core.i18n import error_text

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv(settings.DATA_DIR_ENV, str(blocker / "var"))  # its parent is a file: cannot be created
    report = plan_import(read_town_file(south_file), geodata_dir=geo)
    with pytest.raises(StoreError) as info:
        apply_import(report, geodata_dir=geo)
    for lang in ("zh", "en"):
        text = error_text(info.value, lang)
        assert str(tmp_path) not in text and info.value.reason in text
    assert open_store().version() == 0


def test_an_import_an_older_version_left_in_geodata_moves_into_the_store_once(geo, south_file):
    """geodata/imports (issue 17's layout) is moved into the store on start, once; reverting it gives back the
    schematic layers although the baseline was built with the import."""
    from layers.build.overlay import overlay_path, report_path
    from layers.build.pipeline import build_all
    from layers.core.files import write_text_atomic
    from layers.core.geojson import feature_collection_text
    from layers.imports.apply import check_workspace

    report = plan_import(read_town_file(south_file), geodata_dir=geo)
    write_text_atomic(overlay_path(geo), feature_collection_text(report.features, name="towns_imported"))
    write_text_atomic(report_path(geo), report.to_json())
    build_all(out_dir=geo, copy=False)  # what an older version's apply left
    before = {p: p.read_bytes() for p in geo.rglob("*") if p.is_file()}
    assert check_workspace(geo) is None and check_workspace(geo) is None  # app start, twice
    store = open_store()
    (version,) = store.history()
    assert (version.action, version.units, version.file_name) == ("migrate", 3, "south.geojson")
    assert json.loads(store.report(1))["file_name"] == "south.geojson"
    assert {p: p.read_bytes() for p in geo.rglob("*") if p.is_file()} == before  # geodata/ only read
    assert revert_import(0, geodata_dir=geo) == 2
    assert store.layer_text("towns.geojson") == (paths.GEODATA_DIR / "towns.geojson").read_text(encoding="utf-8")
