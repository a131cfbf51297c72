"""Browser fixtures for tests/browser/: the real app under `streamlit run`, Debian's headless Chromium (Playwright).

Fixtures (import them into a test module): ``streamlit_url`` (session: the running app), ``browser_context``
(session: Chromium with a fresh profile, every non-local request aborted and recorded) and ``page`` (one tab per
test, with its console errors, page errors and request URLs; a screenshot lands in tests/artifacts/ on failure).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from _browser import is_local

from layers.app.server import start_app, stop_app
from layers.core import paths, settings
from layers.core.errors import AppStartError

ARTIFACTS_DIR = paths.PROJECT_DIR / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Default Playwright timeout for one action or assertion (ms).
ACTION_TIMEOUT_MS = 20_000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (``item.rep_call``) so fixtures can see a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report




@pytest.fixture(scope="session")
def streamlit_url(tmp_path_factory) -> str:
    """Start ``streamlit run app.py`` on a free loopback port; yield its base URL; stop it afterwards."""
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    try:
        proc, url = start_app(log, env={settings.MAP_GATE_ENV: "on"})  # map first, as `make run` serves it
    except AppStartError as exc:
        pytest.fail(str(exc))
    try:
        yield url
    finally:
        stop_app(proc)


def _require_chromium() -> None:
    if Path(CHROMIUM).is_file():
        return
    message = f"{CHROMIUM} not found (apt-get install -y chromium, or `make browser`)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class NetworkLog:
    """Every URL the browser asked for, and the ones that were refused for leaving the machine."""

    requested: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser_context(request):
    """A Chromium context with a fresh profile in which no request can leave 127.0.0.1."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    network = NetworkLog()

    def gate(route):
        url = route.request.url
        network.requested.append(url)
        if is_local(url):
            route.continue_()
        else:
            network.blocked.append(url)
            route.abort("internetdisconnected")

    profile = tempfile.mkdtemp(prefix="songjiang-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 1000}, locale="zh-CN", service_workers="block")
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            from playwright.sync_api import expect

            expect.set_options(timeout=ACTION_TIMEOUT_MS)  # assertions wait as long as actions (loaded CI box)
            context.route("**/*", gate)
            context.network_log = network
            context.fresh = lambda: _fresh_context(pw, gate)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _fresh_context(pw, gate):
    """A second Chromium with its own new profile (nothing shared with the first: storage, cache, session), the
    same local-only network; the caller closes it (``context.browser.close()``)."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.route("**/*", gate)
    return context


@dataclass
class PageRecord:
    """What one page reported: console errors, uncaught exceptions, every request URL."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser_context, request):
    """A new tab; ``page.record`` holds what it logged. Screenshot to tests/artifacts/<test>.png on failure."""
    tab = browser_context.new_page()
    record = PageRecord()
    tab.on("console", lambda msg: record.console_errors.append(f"{msg.text} @ {msg.location}")
           if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: record.page_errors.append(str(exc)))
    tab.on("request", lambda req: record.requests.append(req.url))
    tab.record = record
    try:
        yield tab
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)
            try:
                tab.screenshot(path=str(ARTIFACTS_DIR / f"{safe}.png"), full_page=True, timeout=10_000)
            except Exception as exc:  # the screenshot must not hide the test's own failure
                print(f"screenshot failed: {exc}", file=sys.stderr)
        tab.close()
