"""Closing the page stops the work it started: an upload's worker dies with the visitor's session, not at its 60 s
time limit (issue 17). Runs a one-purpose page under a real ``streamlit run``; the worker is the real one."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from _processes import descendants  # tests/_processes.py

from layers.app.server import start_app, stop_app
from layers.core import paths

pytestmark = pytest.mark.browser

APP = Path(__file__).parent / "apps" / "leave_app.py"



def _wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_closing_the_page_kills_its_worker(browser_context, tmp_path, monkeypatch):
    marker = tmp_path / "outcome.txt"
    monkeypatch.setenv("SONGJIANG_TEST_LEAVE_MARKER", str(marker))
    proc, url = start_app(tmp_path / "server.log", script=str(APP), cwd=paths.PROJECT_DIR)
    try:
        idle = set(descendants(proc.pid))
        tab = browser_context.new_page()
        tab.goto(url, wait_until="domcontentloaded")
        tab.get_by_text("worker started").wait_for()

        def workers() -> set[int]:
            """Grandchildren of the server started by this page: the worker below the fork server."""
            tree = descendants(proc.pid)
            return {pid for pid, parent in tree.items() if parent != proc.pid and pid not in idle}

        assert _wait_for(workers, 30), "no worker started"
        running = workers()
        time.sleep(1.0)
        assert running <= workers() and not marker.exists(), "the work ended before the page closed"
        closed_at = time.time()
        tab.close()
        assert _wait_for(marker.exists, 15), "the page's script never heard that the visitor left"
        outcome = marker.read_text()
        assert outcome.startswith("cancelled"), outcome
        assert float(outcome.split()[1]) - closed_at < 10
        # the worker is gone (the fork server stays: it is shared and holds no upload)
        assert _wait_for(lambda: not running & set(descendants(proc.pid)), 10), "the worker outlived the page"
    finally:
        stop_app(proc)
