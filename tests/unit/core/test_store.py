"""The workspace store over both backends (SQLite always; PostgreSQL when its server binaries are here, and always
under CI=true): versions and history, a change is all or nothing (an exception or kill -9 inside the transaction
leaves the previous version), two processes at once (one wins, the other is told), a store that cannot be reached
is a clear message; and an end-to-end import, history and revert through the command line on each backend."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from layers.core import paths, settings
from layers.core.errors import ImportBusyError, StoreError
from layers.core.files import CRASH_ENV
from layers.core.store import STORE_TABLES, Change, open_store, served_text

#: The PostgreSQL backend: slow (the session's server, tests/conftest.py ``pg_url``), `make test` only.
POSTGRESQL = pytest.param("postgresql", marks=pytest.mark.slow)


@pytest.fixture(params=["sqlite", POSTGRESQL])
def store_env(request, tmp_path, monkeypatch) -> dict[str, str]:
    """The environment naming an empty store of each backend (also set in this process)."""
    if request.param == "sqlite":
        env = {settings.DATA_DIR_ENV: str(tmp_path / "var")}
    else:
        url = request.getfixturevalue("pg_url")
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS " + ", ".join(STORE_TABLES))
        env = {settings.DATABASE_URL_ENV: url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def _layer(name: str) -> str:
    """A layer file's text (an empty FeatureCollection called ``name``): PostgreSQL reads the towns as GeoJSON."""
    return json.dumps({"type": "FeatureCollection", "name": name, "features": []})


T1, T2, Z1, Z2 = (_layer(n) for n in ("T1", "T2", "Z1", "Z2"))


def _named(text: str | None) -> str | None:
    return json.loads(text)["name"] if text else None


def _change(n: int = 1) -> Change:
    return Change(action="apply", who=f"tester {n}", file_name=f"f{n}.geojson", sha256=f"{n:064x}", units=n,
                  report=json.dumps({"n": n}), overlay=json.dumps({"type": "FeatureCollection", "features": []}))


def test_versions_history_and_layers(store_env):
    store = open_store()
    assert store.version() == 0 and store.history() == [] and store.layer_names() == []
    assert store.commit(_change(1), {"towns.geojson": T1, "build_info.json": "{}"}, expect=0) == 1
    assert store.commit(_change(2), {"towns.geojson": T2}, expect=1) == 2
    assert store.version() == 2 and store.layer_names() == ["towns.geojson"]
    assert served_text("towns.geojson") == T2
    assert served_text("zones.geojson") == (paths.GEODATA_DIR / "zones.geojson").read_text(encoding="utf-8")
    first = store.get(1)
    assert (first.file_name, first.sha256, first.who, first.units) == ("f1.geojson", f"{1:064x}", "tester 1", 1)
    assert first.created_at.endswith("+00:00") and json.loads(store.report(1)) == {"n": 1}
    assert [v.version for v in store.history()] == [2, 1] and store.current().version == 2
    assert store.commit(Change(action="revert", who="me", reverts_to=0), None, expect=2) == 3
    assert store.layer_names() == [] and store.overlay(3) is None  # the baseline is served again
    assert store.get(9) is None


def test_a_change_against_an_old_version_is_refused_and_nothing_is_written(store_env):
    store = open_store()
    store.commit(_change(1), {"towns.geojson": T1}, expect=0)
    with pytest.raises(ImportBusyError) as info:
        store.commit(_change(2), {"towns.geojson": T2}, expect=0)
    assert info.value.changed
    assert store.version() == 1 and store.layer_text("towns.geojson") == T1


def test_an_error_inside_the_transaction_leaves_the_previous_version(store_env, monkeypatch):
    from layers.core import store as core_store

    store = open_store()
    store.commit(_change(1), {"towns.geojson": T1}, expect=0)

    def fail(step: str) -> None:
        if step == "store-written":
            raise OSError(28, "No space left on device")
    monkeypatch.setattr(core_store, "crash_point", fail)
    with pytest.raises(StoreError, match="No space left"):
        store.commit(_change(2), {"towns.geojson": T2, "zones.geojson": Z2}, expect=1)
    assert store.version() == 1 and store.layer_names() == ["towns.geojson"]
    assert store.layer_text("towns.geojson") == T1


CHILD = textwrap.dedent("""
    import json, sys, time
    from layers.core import store as s
    from layers.core.errors import ImportBusyError
    hold = float(sys.argv[2])
    if hold:  # say when the transaction holds the lock, then keep it a while
        real = s.crash_point
        def point(step):
            if step == "store-begun":
                print("locked", flush=True)
                time.sleep(hold)
            real(step)
        s.crash_point = point
    try:
        print(s.open_store().commit(s.Change(action="apply", who=sys.argv[1], units=1, overlay="{}"),
                                    {"towns.geojson": json.dumps({"type": "FeatureCollection", "name": sys.argv[1],
                                                                  "features": []})}, expect=0))
    except ImportBusyError as exc:
        print("told:", exc)
""")


def _child(env: dict[str, str], who: str, hold: float = 0.0, kill_at: str = "") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, who, str(hold)], cwd=paths.PROJECT_DIR,
                            env={**os.environ, **env, CRASH_ENV: kill_at}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("step", ["store-begun", "store-written", "store-committed"])
@pytest.mark.slow  # a fresh Python process per case, killed inside its transaction
def test_kill_9_inside_the_transaction_is_previous_or_new_never_a_mix(store_env, step):
    store = open_store()
    store.commit(_change(1), {"towns.geojson": T1, "zones.geojson": Z1}, expect=0)
    env = {**store_env}
    child = subprocess.run([sys.executable, "-c", CHILD.replace("expect=0", "expect=1"), "killed", "0"],
                           cwd=paths.PROJECT_DIR, env={**os.environ, **env, CRASH_ENV: step},
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == -9, child.stderr
    if step == "store-committed":
        assert store.version() == 2 and store.layer_names() == ["towns.geojson"]
        assert _named(store.layer_text("towns.geojson")) == "killed"
    else:
        assert store.version() == 1 and store.layer_names() == ["towns.geojson", "zones.geojson"]
        assert store.layer_text("towns.geojson") == T1
    assert store.commit(_change(3), None, expect=store.version()) == store.version()  # and it is writable


@pytest.mark.slow  # two fresh Python processes, one holding its transaction 1.5 s
def test_two_processes_at_once_one_wins_and_the_other_is_told(store_env):
    first = _child(store_env, "first", hold=1.5)  # holds its transaction open for 1.5 s
    assert first.stdout.readline().strip() == "locked"
    second = _child(store_env, "second")
    outs = [p.communicate(timeout=60)[0].strip() for p in (first, second)]
    assert outs[0] == "1", outs
    assert outs[1].startswith("told: The data changed"), outs
    store = open_store()
    assert [v.who for v in store.history()] == ["first"] and _named(store.layer_text("towns.geojson")) == "first"


def test_an_unreachable_or_wrong_store_is_a_clear_message_without_secrets(monkeypatch, tmp_path):
    monkeypatch.setenv(settings.DATABASE_URL_ENV, "mysql://root:pw@db/x")
    with pytest.raises(StoreError, match="must be a postgresql:// URL"):
        open_store()
    monkeypatch.setenv(settings.DATABASE_URL_ENV, f"postgresql://u:hunter2@/db?host={tmp_path}&port=1")
    store = open_store()
    with pytest.raises(StoreError) as info:
        store.version()
    assert "hunter2" not in str(info.value) and "hunter2" not in store.label()


@pytest.mark.slow  # an import applied (a re-fit and a rebuild) and a real `python -m layers` process
def test_an_import_history_and_revert_through_the_command_line(store_env, geo, tmp_path, capsys):
    """End to end on each backend: import a file, list the history, go back to the schematic towns.

    The import and the revert run the command line's ``main(argv)`` in this process (its exit code and output are
    the process's: ``python -m layers`` is ``sys.exit(main())``); the history is read by a real ``python -m layers``
    process, which must see what this one committed in the store its environment names."""
    import geopandas as gpd

    from layers.__main__ import main

    towns = gpd.read_file(paths.GEODATA_DIR / "towns.geojson")
    src = tmp_path / "south.geojson"
    src.write_text(towns[towns["name_zh"].isin(("泖港镇", "叶榭镇"))][["code", "name_zh", "geometry"]].to_json())

    def cli(*args: str) -> subprocess.CompletedProcess:
        """``python -m layers import-towns …`` run in this process: exit code, stdout and stderr."""
        code = main(["import-towns", *args, "--geodata-dir", str(geo)])
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    def cli_process(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "layers", "import-towns", *args, "--geodata-dir", str(geo)],
                              cwd=paths.PROJECT_DIR, env={**os.environ, **store_env}, capture_output=True, text=True,
                              timeout=300)

    run = cli(str(src))
    assert run.returncode == 0 and "version 1" in run.stdout, run.stdout + run.stderr
    accuracy = {f["properties"]["name_zh"]: f["properties"]["accuracy"]
                for f in json.loads(served_text("towns.geojson", geodata_dir=geo))["features"]}
    assert accuracy["泖港镇"] == "authoritative" and accuracy["新浜镇"] == "schematic"
    assert cli("--revert").returncode == 0
    history = cli_process("--history")
    assert history.returncode == 0, history.stderr
    history = history.stdout
    assert "version 2" in history and "revert to 0" in history and "south.geojson" in history
    assert open_store().layer_names() == []
    assert "hunter" not in history
