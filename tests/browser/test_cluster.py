"""Several processes, one dataset (issue 18): PostgreSQL, two app processes and nginx on localhost. An import is
applied through the proxy (with the admin token), every process then serves it, the command line lists it in the
history; a revert from the command line is served by both processes on their next run."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import geopandas as gpd
import pytest

from layers.core import paths, settings
from layers.core.store import STORE_TABLES

TOKEN = "cluster-test-token"
SOUTH = ("泖港镇", "叶榭镇", "石湖荡镇")
LONG_MS = 180_000


@pytest.fixture
def cluster(pg_url, tmp_path, monkeypatch):
    """(proxy URL, [process URLs]) of two app processes behind nginx, sharing a fresh PostgreSQL store."""
    from layers.app.cluster import NGINX, running_cluster

    if not os.path.exists(NGINX):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{NGINX} not found (apt-get install nginx-light)")
        pytest.skip(f"{NGINX} not found (apt-get install nginx-light)")
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS " + ", ".join(STORE_TABLES))
    monkeypatch.setenv(settings.DATABASE_URL_ENV, pg_url)
    monkeypatch.setenv(settings.ADMIN_TOKEN_ENV, TOKEN)
    with running_cluster(2, log_dir=tmp_path) as urls:
        yield urls


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "layers", "import-towns", *args], cwd=paths.PROJECT_DIR,
                          env=dict(os.environ), capture_output=True, text=True, timeout=300)


def _imported_units(page, url: str) -> str:
    """The Data page's line on the import in force, as served by ``url``."""
    page.goto(f"{url}/数据_Data?lang=en")
    line = page.get_by_text("currently imported").or_(page.get_by_text("No boundaries imported"))
    line.first.wait_for(timeout=LONG_MS)
    return line.first.inner_text()


def test_an_import_through_the_proxy_is_served_by_every_process_and_reverted(cluster, page, tmp_path):
    proxy, backends = cluster
    towns = gpd.read_file(paths.GEODATA_DIR / "towns.geojson")
    src = tmp_path / "south.geojson"
    src.write_text(towns[towns["name_zh"].isin(SOUTH)][["code", "name_zh", "geometry"]].to_json(), encoding="utf-8")

    assert "No boundaries imported" in _imported_units(page, proxy)
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_role("button", name="Confirm the token").click()
    page.get_by_label("Your name (kept in the import history; optional)").fill("Chen")
    page.locator('input[type="file"]').set_input_files(str(src))
    page.get_by_text("Checks passed: ready to import.").wait_for(timeout=LONG_MS)
    page.get_by_role("button", name="Apply the import").click()
    page.get_by_text("Imported 3 unit(s); the layers were rebuilt.").wait_for(timeout=LONG_MS)

    for url in backends:  # each process on its own port: the one that applied and the one that did not
        assert "3 unit(s) currently imported (south.geojson" in _imported_units(page, url), url
    history = _cli("--history")
    assert history.returncode == 0 and "version 1" in history.stdout, history.stdout + history.stderr
    assert "south.geojson" in history.stdout and "by Chen (admin token)" in history.stdout
    assert "postgresql://…@" in history.stdout and TOKEN not in history.stdout

    assert _cli("--revert").returncode == 0
    started = time.monotonic()
    for url in backends:
        assert "No boundaries imported" in _imported_units(page, url), url
    assert time.monotonic() - started < 60  # seen on the next run (page loads on a loaded 2-core box)
