"""Load benchmark in browsers: N concurrent headless-Chromium sessions drive the Map page the way planners do in a
meeting (open the map, switch a layer off and on, filter, focus a town, download a GeoPackage). Prints one JSON object.

Run ``make load`` (or ``.venv/bin/python bench/load_bench.py [--sessions 20] [--timeout 600]``). The app is
started on a free loopback port (file watcher off); one Chromium holds one context per session, and a request for
any host but 127.0.0.1 fails in the browser and counts as an error. A step is "ready" when the page says how many
features it shows and the in-page map has drawn exactly the SVG paths that state needs, so a stale map never counts
as ready. The download must be a GeoPackage (alone or zipped with its QGIS project) holding every layer shown. The
server's memory is read from /proc (VmRSS polled, VmHWM = peak resident set); errors must be 0 (exit status 1
otherwise).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyogrio
from load_procs import cpu_seconds, pin, proc_status_kb
from load_stats import summary
from run_bench import CHROMIUM, CHROMIUM_ARGS

from layers.app.server import start_app, stop_app
from layers.core.catalog import get_catalog
from layers.core.i18n import t
from layers.map.filters import LayerFilter, filter_layers
from layers.map.load import load_layers

#: Concurrent sessions, and the bound on the whole run (s) and on one step (ms).
SESSIONS = 20
TOTAL_TIMEOUT_S = 600.0
STEP_TIMEOUT_MS = 150_000
#: Delay between session starts (s): 0 means all at once, the harshest case.
STAGGER_S = 0.0
#: What the sessions do: the layer switched off and on, the rail status filtered on, the town focused.
TOGGLE_LAYER = "stations"
RAIL_STATUS = "open"
TOWN = "310117103"
LANG = "zh"
MAP_ROUTE = "/" + quote("地图_Map")
#: Requests that stay on this machine; any other is refused by the browser and counted as an error.
LOCAL_PREFIXES = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")
#: Every other host resolves to nothing, so no request can leave the machine. (Playwright request interception
#: would do the same but switches the HTTP cache off, which costs the shared 2 CPUs a third of the time.)
BROWSER_ARGS = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--proxy-server=http://127.0.0.1:9"]  # IP literals: a proxy that is not there (loopback bypasses it)
#: Every vector shape Leaflet draws in the in-page map (one SVG path each; the map is in the page, no frame).
SHAPES = ".sj-map-root .leaflet-overlay-pane svg path"
POLL_RSS_S = 0.5

_READY_JS = """([shapes, want, caption]) => {
    if (!document.body.innerText.includes(caption)) { return false; }
    return document.querySelectorAll(shapes).length === want;
}"""


# ------------------------------------------------------------------------------------------------------------
# What each state of the page should show
# ------------------------------------------------------------------------------------------------------------
def _parts(geom) -> int:
    """SVG paths one feature becomes: one per point of a MultiPoint, one for any other geometry."""
    if geom is None or geom.is_empty:
        return 0
    if geom.geom_type in ("MultiPoint", "GeometryCollection"):
        return sum(_parts(g) for g in geom.geoms)
    return 1


@dataclass(frozen=True)
class Expected:
    """One state of the Map page: the features caption and the number of SVG paths in the map."""

    caption: str
    paths: int


def expected(layers, visible: tuple[str, ...], flt: LayerFilter, *, town: bool = False) -> Expected:
    """What the page shows for ``visible`` layers under ``flt`` (a focused town adds its red outline)."""
    shown = {k: v for k, v in filter_layers(layers, flt).items() if k in visible}
    features = sum(len(v) for v in shown.values())
    paths = sum(_parts(g) for v in shown.values() for g in v.geometry)
    for gdf in shown.values():  # the uncertainty circles of approximate points
        if "accuracy_m" in gdf.columns:
            points = gdf.geometry.geom_type == "Point"
            paths += int(((gdf["accuracy"] == "approximate") & gdf["accuracy_m"].notna() & points).sum())
    return Expected(caption=t("features_shown", LANG, n=features), paths=paths + (1 if town else 0))


@dataclass(frozen=True)
class Plan:
    """The labels the sessions click and the states they wait for."""

    full: Expected
    without_layer: Expected
    filtered: Expected
    town: Expected
    layer_label: str
    status_label: str
    town_label: str


def make_plan() -> Plan:
    """Labels from the catalogue and the towns layer; expected states from the built layers."""
    catalog = get_catalog()
    layers, errors = load_layers()
    if errors:
        raise SystemExit(f"layers failed to load: {errors}")
    all_ids = catalog.layer_ids
    fewer = tuple(i for i in all_ids if i != TOGGLE_LAYER)
    flt = LayerFilter(rail_status=(RAIL_STATUS,))
    towns = layers["towns"]
    return Plan(full=expected(layers, all_ids, LayerFilter()), without_layer=expected(layers, fewer, LayerFilter()),
                filtered=expected(layers, all_ids, flt), town=expected(layers, all_ids, flt, town=True),
                layer_label=catalog.layer(TOGGLE_LAYER).title(LANG),
                status_label=catalog.value_label("status", RAIL_STATUS, LANG),
                town_label=str(towns.loc[towns["code"].astype(str) == TOWN, "name_zh"].iloc[0]))


# ------------------------------------------------------------------------------------------------------------
# One session
# ------------------------------------------------------------------------------------------------------------
@dataclass
class SessionResult:
    """Per session: seconds per step (page-ready after each action, and the download), and what went wrong."""

    index: int
    steps: dict[str, float] = field(default_factory=dict)
    download_s: float | None = None
    download_bytes: int | None = None
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


async def _ready(page, want: Expected) -> None:
    await page.wait_for_function(_READY_JS, arg=[SHAPES, want.paths, want.caption],
                                 timeout=STEP_TIMEOUT_MS, polling=100)


async def _timed(result: SessionResult, name: str, action: Callable[[], Awaitable[Any]], page,
                 want: Expected) -> None:
    start = time.perf_counter()
    await action()
    await _ready(page, want)
    result.steps[name] = time.perf_counter() - start


async def _pick(page, widget, option: str) -> None:
    """Open a select/multiselect and click one option of its list.

    A click on a combobox right after another one closed sometimes only focuses it; ArrowDown then opens it.
    """
    box = widget.get_by_role("combobox")
    await box.click()
    for _ in range(20):
        if await box.get_attribute("aria-expanded") == "true":
            break
        await box.press("ArrowDown")
        await page.wait_for_timeout(250)
    await page.get_by_role("option", name=option, exact=True).click()
    await page.keyboard.press("Escape")


async def run_session(browser, base: str, result: SessionResult, plan: Plan, out_dir: Path,
                      artifacts: Path | None = None) -> SessionResult:
    """Open the map, switch a layer off and on, filter, focus a town and download a GeoPackage.

    ``result`` is filled in as the steps finish, so a session cut off by the time bound keeps what it did.
    """
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True,
                                        locale="zh-CN", service_workers="block")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = await context.new_page()
    page.on("pageerror", lambda exc: result.errors.append(f"page error: {exc}"))
    # The browser cannot resolve any other host (BROWSER_ARGS); a request for one is still an error.
    page.on("request", lambda req: None if req.url.startswith(LOCAL_PREFIXES) else result.blocked.append(req.url))
    step = "open"
    try:
        await _timed(result, "open", lambda: page.goto(f"{base}{MAP_ROUTE}?lang={LANG}", wait_until="commit"),
                     page, plan.full)
        sidebar = page.get_by_test_id("stSidebar")
        layers_box = sidebar.get_by_test_id("stMultiSelect").filter(has_text=t("layers", LANG)).first
        step = "layer_off"
        await _timed(result, step, lambda: layers_box.get_by_role(
            "button", name=f"Remove {plan.layer_label}", exact=True).click(), page, plan.without_layer)
        step = "layer_on"
        await _timed(result, step, lambda: _pick(page, layers_box, plan.layer_label), page, plan.full)
        step = "filter"
        status_box = sidebar.get_by_test_id("stMultiSelect").filter(has_text=t("f_rail_status", LANG)).first
        await _timed(result, step, lambda: _pick(page, status_box, plan.status_label), page, plan.filtered)
        step = "town"
        town_box = sidebar.get_by_test_id("stSelectbox").filter(has_text=t("town_focus", LANG)).first
        await _timed(result, step, lambda: _pick(page, town_box, plan.town_label), page, plan.town)
        step = "download"
        await download_gpkg(page, result, out_dir)
        if await page.get_by_test_id("stException").count():
            result.errors.append("the page shows a Python exception")
    except Exception as exc:  # every failure is recorded, with the step it happened in
        result.errors.append(f"{step}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
        if artifacts is not None:
            artifacts.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):  # the screenshot must not hide the failure
                await page.screenshot(path=str(artifacts / f"load_session{result.index:02d}_{step}.png"),
                                      full_page=True, timeout=30_000)
    finally:
        await context.close()
    result.errors += [f"request left the machine: {u}" for u in result.blocked]
    return result


async def download_gpkg(page, result: SessionResult, out_dir: Path) -> None:
    """Download expander → format GeoPackage → 生成文件 → 保存 …; time from the click to the saved file."""
    panel = page.get_by_test_id("stExpander").filter(has_text=t("dl_title", LANG)).first
    await panel.get_by_text(t("dl_title", LANG), exact=True).click()
    fmt_box = panel.get_by_test_id("stSelectbox").filter(has_text=t("dl_format", LANG)).first
    await _pick(page, fmt_box, "GeoPackage")
    start = time.perf_counter()
    await panel.get_by_role("button", name=t("dl_prepare", LANG), exact=True).click()
    save = panel.get_by_test_id("stDownloadButton").get_by_role("button")
    await save.filter(has_text=t("dl_save", LANG, name="")).first.wait_for(timeout=STEP_TIMEOUT_MS)
    async with page.expect_download(timeout=STEP_TIMEOUT_MS) as info:
        await save.first.click()
    download = await info.value
    target = out_dir / f"session{result.index:02d}_{download.suggested_filename}"
    await download.save_as(target)
    result.download_s = time.perf_counter() - start
    data = target.read_bytes()
    result.download_bytes = len(data)
    if download.suggested_filename.endswith(".zip") and zipfile.is_zipfile(target):  # the GeoPackage and its .qgs
        with zipfile.ZipFile(target) as archive:
            inner = next((n for n in archive.namelist() if n.endswith(".gpkg")), None)
            if inner is not None:
                target = out_dir / f"session{result.index:02d}_{Path(inner).name}"
                target.write_bytes(archive.read(inner))
                data = target.read_bytes()
    if not target.name.endswith(".gpkg") or not data.startswith(b"SQLite format 3\x00"):
        result.errors.append(f"download: {download.suggested_filename} ({len(data)} bytes) is not a GeoPackage")
        return
    held = {str(name) for name, _kind in pyogrio.list_layers(target)}
    # A layer mixing geometry types is split into one table per type (<id>_<type>).
    missing = sorted(i for i in get_catalog().layer_ids if not any(h == i or h.startswith(i + "_") for h in held))
    if missing:
        result.errors.append(f"download: {download.suggested_filename} lacks the layers {missing}")


# ------------------------------------------------------------------------------------------------------------
# Memory and CPU of the server
# ------------------------------------------------------------------------------------------------------------
async def poll_rss(pid: int, samples: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        value = proc_status_kb(pid, "VmRSS")
        if value is not None:
            samples.append(value)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_RSS_S)


# ------------------------------------------------------------------------------------------------------------
# The run
# ------------------------------------------------------------------------------------------------------------
async def drive(base: str, pid: int, sessions: int, timeout_s: float, out_dir: Path,
                artifacts: Path | None = None) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    plan = make_plan()
    samples: list[int] = []
    stop = asyncio.Event()
    poller = asyncio.create_task(poll_rss(pid, samples, stop))
    rss_start = proc_status_kb(pid, "VmRSS")
    cpu_start = cpu_seconds(pid)
    started = time.perf_counter()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)

        results = [SessionResult(i) for i in range(sessions)]

        async def one(result: SessionResult) -> SessionResult:
            await asyncio.sleep(result.index * STAGGER_S)
            return await run_session(browser, base, result, plan, out_dir, artifacts)

        tasks = [asyncio.create_task(one(r)) for r in results]
        done, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for result, task in zip(results, tasks):
            if task in pending:
                result.errors.append(f"did not finish within the time bound ({timeout_s:.0f} s); steps done: "
                                     f"{', '.join(result.steps) or 'none'}")
            elif task.exception() is not None:
                result.errors.append(f"crashed: {task.exception()!r}")
        await browser.close()
    wall = time.perf_counter() - started
    stop.set()
    await poller
    cpu_end = cpu_seconds(pid)
    ready = [v for r in results for v in r.steps.values()]
    first = [r.steps["open"] for r in results if "open" in r.steps]
    rerun = [v for r in results for k, v in r.steps.items() if k != "open"]
    downloads = [r.download_s for r in results if r.download_s is not None]
    errors = [f"session {r.index}: {e}" for r in results for e in r.errors]
    return {
        "sessions": sessions,
        "steps_per_session": ["open", "layer_off", "layer_on", "filter", "town", "download"],
        "page_ready": summary(ready),
        "page_ready_open": summary(first),
        "page_ready_after_action": summary(rerun),
        "download": summary(downloads),
        "download_bytes": sorted({r.download_bytes for r in results if r.download_bytes}),
        "errors": len(errors),
        "error_list": errors,
        "server_rss_start_mb": round(rss_start / 1024, 1) if rss_start else None,
        "server_rss_end_mb": round(samples[-1] / 1024, 1) if samples else None,
        "server_peak_rss_mb": round((proc_status_kb(pid, "VmHWM") or max(samples or [0])) / 1024, 1),
        "server_cpu_s": round(cpu_end - cpu_start, 1) if cpu_start is not None and cpu_end is not None else None,
        "wall_s": round(wall, 1),
        "per_session": [{"index": r.index, **{k: round(v, 2) for k, v in r.steps.items()},
                         "download_s": None if r.download_s is None else round(r.download_s, 2)}
                        for r in results],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=SESSIONS, help="concurrent browser sessions")
    parser.add_argument("--timeout", type=float, default=TOTAL_TIMEOUT_S, help="bound on the whole run (s)")
    parser.add_argument("--warm", action="store_true", help="run one session before the measured ones")
    parser.add_argument("--per-session", action="store_true", help="print every session's step times too")
    parser.add_argument("--artifacts", type=Path, help="save a screenshot of each failed session here")
    parser.add_argument("--pin", action="store_true", help="server on CPU 0, this bench and Chromium on CPU 1")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).is_file():
        print(json.dumps({"error": f"{CHROMIUM} not found (make browser)"}))
        return 2
    with tempfile.TemporaryDirectory(prefix="songjiang-load-") as tmp:
        proc, base = start_app(Path(tmp) / "server.log")
        if args.pin:  # Chromium, started later, inherits this process's CPU
            pin([proc.pid], {0})
            pin([os.getpid()], {1}, descendants=False)
        try:
            if args.warm:
                asyncio.run(drive(base, proc.pid, 1, args.timeout, Path(tmp)))
            figures = asyncio.run(drive(base, proc.pid, args.sessions, args.timeout, Path(tmp), args.artifacts))
        finally:
            stop_app(proc)
    figures = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}",
               "cold_server": not args.warm, **figures}
    if not args.per_session:
        figures.pop("per_session")
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    return 0 if figures["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
