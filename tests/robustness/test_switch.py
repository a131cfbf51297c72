"""Data never half-written (issue 17): apply and revert are one switch; a SIGKILL at any step leaves either the
old or the new state once the app (or the next command) has started; two imports at once: one wins, the other is
told; written files are readable by others (0644); the running app notices a change made by the command line."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest

from layers.build.overlay import overlay_path, report_path
from layers.core import paths
from layers.core.errors import ImportBusyError
from layers.core.files import CRASH_ENV, JOURNAL, version_stamp
from layers.core.upload import read_town_file
from layers.imports import apply as imports_apply
from layers.imports.apply import apply_import, check_geodata, revert_import
from layers.imports.plan import plan_import

SOUTH = ("泖港镇", "叶榭镇", "石湖荡镇")
STEPS = ("staged", "journal", "rename-0", "rename-3", "rename-8", "done")


def snapshot(folder: Path) -> dict[str, str]:
    """Every file but the stored report (it records the planning time) → its hash."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "import_report.json"}


@pytest.fixture(scope="module")
def south_file(tmp_path_factory) -> Path:
    towns = gpd.read_file(paths.GEODATA_DIR / "towns.geojson")
    path = tmp_path_factory.mktemp("src") / "south.geojson"
    path.write_text(towns[towns["name_zh"].isin(SOUTH)][["code", "name_zh", "geometry"]].to_json(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def states(tmp_path_factory, south_file) -> tuple[dict[str, str], dict[str, str]]:
    """(schematic, imported) snapshots, made by clean runs."""
    folder = tmp_path_factory.mktemp("clean") / "geodata"
    shutil.copytree(paths.GEODATA_DIR, folder, ignore=shutil.ignore_patterns("imports"))
    schematic = snapshot(folder)
    assert _cli(folder, str(south_file)) == 0
    return schematic, snapshot(folder)


def _cli(geo: Path, *args: str, kill_at: str | None = None) -> int:
    env = {**os.environ, CRASH_ENV: kill_at or ""}
    return subprocess.run([sys.executable, "-m", "layers", "import-towns", *args, "--geodata-dir", str(geo)],
                          cwd=paths.PROJECT_DIR, env=env, capture_output=True, timeout=300).returncode


@pytest.mark.parametrize("step", STEPS)
def test_an_import_killed_at_any_step_is_old_or_new_after_restart(geo, south_file, states, step):
    schematic, imported = states
    code = _cli(geo, str(south_file), kill_at=step)
    assert code in (0, -9)
    assert check_geodata(geo) is None  # what the app does on start: repair, then check
    after = snapshot(geo)
    assert after in (schematic, imported), step
    assert after == (schematic if step == "staged" else imported)  # the journal is the moment of the switch
    assert report_path(geo).exists() == overlay_path(geo).exists()
    assert not (geo / JOURNAL).exists() and not list(geo.glob(".staging-*"))


@pytest.mark.parametrize("step", STEPS)
def test_a_revert_killed_at_any_step_is_old_or_new_after_restart(geo, south_file, states, step):
    schematic, imported = states
    assert _cli(geo, str(south_file)) == 0
    code = _cli(geo, "--revert", kill_at=step)
    assert code in (0, -9)
    assert check_geodata(geo) is None
    assert snapshot(geo) == (imported if step == "staged" else schematic)
    assert not (geo / "imports").exists() or step == "staged"


def test_a_second_import_while_one_is_applied_is_told_and_not_applied(geo, south_file):
    report = plan_import(read_town_file(south_file), geodata_dir=geo)
    before = snapshot(geo)
    with imports_apply._exclusive(geo), pytest.raises(ImportBusyError):
        apply_import(report, geodata_dir=geo)
    with imports_apply._exclusive(geo), pytest.raises(ImportBusyError):
        revert_import(geodata_dir=geo)
    assert snapshot(geo) == before


def test_an_import_planned_before_another_was_applied_is_refused(geo, south_file):
    first = plan_import(read_town_file(south_file), geodata_dir=geo)
    second = plan_import(read_town_file(south_file), geodata_dir=geo)
    apply_import(first, geodata_dir=geo)
    after_first = snapshot(geo)
    with pytest.raises(ImportBusyError) as info:
        apply_import(second, geodata_dir=geo)
    assert info.value.changed and snapshot(geo) == after_first


def test_written_files_are_readable_by_others(geo, south_file):
    old = os.umask(0o077)  # even under a strict umask
    try:
        apply_import(plan_import(read_town_file(south_file), geodata_dir=geo), geodata_dir=geo)
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in geo.rglob("*.json*") if p.is_file()}
    assert modes and set(modes.values()) == {0o644}, modes


def test_an_overlay_the_layers_were_not_built_from_is_reported(geo, south_file):
    apply_import(plan_import(read_town_file(south_file), geodata_dir=geo), geodata_dir=geo)
    (geo / "build_info.json").write_text((paths.GEODATA_DIR / "build_info.json").read_text())
    assert "disagree" in check_geodata(geo)


def test_the_version_stamp_changes_with_a_command_line_import(geo, south_file):
    before = version_stamp(geo / "build_info.json")
    assert _cli(geo, str(south_file)) == 0
    assert version_stamp(geo / "build_info.json") != before


def test_a_full_or_read_only_disk_is_a_clear_message_without_paths(geo, south_file, monkeypatch):
    from layers.core import files
    from layers.core.errors import DiskError
    from layers.core.i18n import error_text

    report = plan_import(read_town_file(south_file), geodata_dir=geo)
    before = snapshot(geo)

    def full(*_a, **_k):
        raise OSError(28, "No space left on device", str(geo / "towns.geojson"))

    monkeypatch.setattr(files, "_stage_text", full)
    with pytest.raises(DiskError) as info:
        apply_import(report, geodata_dir=geo)
    for lang in ("zh", "en"):
        assert "No space left" in error_text(info.value, lang) and str(geo) not in error_text(info.value, lang)
    assert snapshot(geo) == before and not list(geo.glob(".staging-*"))
