"""Explorer benchmark: map size, server build time, first drawn map in Chromium, filter change — against a
naive folium map of the same (unsimplified) layers built in the same run. Prints one JSON object.

Run ``make bench`` (or ``.venv/bin/python bench/run_bench.py [--runs N] [--no-browser]``). Everything is local:
the app is started on a free loopback port and Chromium may not reach any other host.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

import folium  # noqa: E402

from layers.app.server import running_app  # noqa: E402
from layers.core.catalog import get_catalog  # noqa: E402
from layers.map.assets import localize_assets  # noqa: E402
from layers.map.filters import LayerFilter  # noqa: E402
from layers.map.load import load_layers  # noqa: E402
from layers.map.state import MapState  # noqa: E402
from layers.scenes.deck import build_deck  # noqa: E402
from layers.scenes.pack import build_pack  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
#: Every host name but 127.0.0.1 resolves to nothing: the browser cannot leave the machine, and no request waits
#: on a Playwright route handler (which would add its own latency to each of the page's ~100 requests).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
SHAPE = ".leaflet-overlay-pane svg path"
TARGETS = {"map_html_kb": 400, "warm_build_s": 0.3, "first_draw_s": 1.5, "filter_change_s": 0.3,
           "speedup_vs_naive": 3.0, "pack_s": 10.0}


def _median_time(fn: Callable[[], Any], runs: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ------------------------------------------------------------------------------------------------------------
# What the server does per rerun: ours (ui.map_view) and a naive folium map
# ------------------------------------------------------------------------------------------------------------
def ours_html(layers, state: MapState, display) -> str:
    """Our pipeline as the Map page reruns it: layers and display copies come from the process cache; filter,
    build, localise and render the HTML st_folium ships."""
    from layers.app.map_page import map_view  # importing ui imports streamlit, as the page does

    fmap, _ = map_view(layers, state, display=display)
    return localize_assets(fmap).get_root().render()


def read_files() -> dict:
    """What an app without a cache does on every rerun: read each layer file with geopandas."""
    import geopandas as gpd

    return {spec.id: gpd.read_file(spec.path) for spec in get_catalog().layers}


def naive_map(layers=None, flt: LayerFilter | None = None) -> folium.Map:
    """A first folium map: layers read from disk (no cache), every layer as ``folium.GeoJson`` with all
    attributes in tooltip and popup, full unsimplified geometry, default CDN assets."""
    from layers.map.filters import filter_layers

    layers = read_files() if layers is None else layers
    shown = filter_layers(layers, flt) if flt else layers
    fmap = folium.Map(location=[31.03, 121.22], zoom_start=11, tiles=None)
    for layer_id, gdf in shown.items():
        fields = [c for c in gdf.columns if c != "geometry"]
        folium.GeoJson(gdf.to_json(default=str), name=layer_id,
                       tooltip=folium.GeoJsonTooltip(fields=fields),
                       popup=folium.GeoJsonPopup(fields=fields)).add_to(fmap)
    folium.LayerControl().add_to(fmap)
    return fmap


def naive_html(flt: LayerFilter | None = None) -> str:
    return naive_map(None, flt).get_root().render()


def server_figures(layers, runs: int) -> dict[str, Any]:
    catalog = get_catalog()
    state = MapState(layers=catalog.layer_ids)
    filtered = MapState(layers=catalog.layer_ids, filters=LayerFilter(rail_status=("open",), park_industry=()))
    from layers.map.simplify import display_copies

    display = display_copies(layers)
    html = ours_html(layers, state, display)
    naive = naive_html()
    out = {
        "map_html_bytes": len(html.encode("utf-8")),
        "naive_html_bytes": len(naive.encode("utf-8")),
        "warm_build_s": _median_time(lambda: ours_html(layers, state, display), runs),
        "naive_build_s": _median_time(naive_html, runs),
        "filter_change_s": _median_time(lambda: ours_html(layers, filtered, display), runs),
        "naive_filter_change_s": _median_time(lambda: naive_html(filtered.filters), runs),
    }
    return out


# ------------------------------------------------------------------------------------------------------------
# Browser: first drawn map
# ------------------------------------------------------------------------------------------------------------
#: The naive map's CDN files that have a copy under static/vendor (jQuery and Bootstrap are kept there for it).
_NAIVE_FILES = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": "bootstrap/bootstrap.bundle.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": "bootstrap/bootstrap.min.css",
}


def _with_local_files(html: str) -> str:
    """The naive page with its CDN links pointed at local copies (other CDN links are blocked by the browser)."""
    from layers.map.assets import VENDOR_DIR

    for url, rel in _NAIVE_FILES.items():
        html = html.replace(url, (VENDOR_DIR / rel).as_uri())
    return html


#: Installed in every page before it loads: the top page watches its same-origin frames on each animation frame
#: and notes (page clock) when any of them first holds a drawn vector shape, and when Streamlit shows its first
#: element. The page's own clock starts at navigation (``performance.timeOrigin``), so the figure has no
#: automation latency in it (Playwright notices a shape in a child frame 0.1-0.3 s after it is there).
FIRST_DRAW_WATCH = """
(() => {
  if (window.top !== window) { return; }
  const tick = () => {
    if (!window.__firstElement && document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]')) {
      window.__firstElement = Date.now();
    }
    for (const frame of document.querySelectorAll('iframe')) {
      let doc = null;
      try { doc = frame.contentDocument; } catch (err) { doc = null; }
      if (doc && doc.querySelector('.leaflet-overlay-pane svg path')) { window.__mapDrawn = Date.now(); return; }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""
FIRST_DRAW_READ = ("() => ({drawn: (window.__mapDrawn - performance.timeOrigin) / 1000, "
                   "element: (window.__firstElement - performance.timeOrigin) / 1000})")


def _map_only_folder(tmp: Path) -> Path:
    """A folder from which ``bench/map_only_app.py`` runs as the app does: static files and config linked in."""
    folder = tmp / "map-only"
    folder.mkdir()
    for name in ("static", ".streamlit"):
        (folder / name).symlink_to(PROJECT_DIR / name, target_is_directory=True)
    (folder / "map_only_app.py").symlink_to(PROJECT_DIR / "bench" / "map_only_app.py")
    return folder


def browser_figures(layers, runs: int) -> dict[str, Any]:
    """Time from navigation to the first drawn vector shape.

    - the app's Map page, with a cold browser cache (fresh context each run) and a warm one (a returning user),
      as Playwright sees it and by the page's own clock; and when Streamlit shows its first element;
    - a page holding nothing but the same map, drawn by st_folium as the app does and as a plain srcdoc frame:
      what is left when nothing else on the page competes for the browser;
    - our map and the naive one as standalone files (assets inlined so both can draw offline).
    """
    from playwright.sync_api import sync_playwright

    catalog = get_catalog()
    tmp = Path(tempfile.mkdtemp(prefix="songjiang-bench-"))
    ours_file = tmp / "ours.html"
    from layers.app.map_page import map_view
    from layers.map.simplify import display_copies

    fmap, _ = map_view(layers, MapState(layers=catalog.layer_ids), display=display_copies(layers))
    ours_file.write_text(localize_assets(fmap, mode="inline").get_root().render(), encoding="utf-8")
    naive_file = tmp / "naive.html"
    naive_file.write_text(_with_local_files(naive_map(layers).get_root().render()), encoding="utf-8")
    figures: dict[str, Any] = {}

    with running_app(tmp / "server.log") as base, \
            running_app(tmp / "map-only.log", script="map_only_app.py", cwd=_map_only_folder(tmp)) as floor, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

        def first_draw(url: str, frame: str | None, context=None) -> dict[str, float]:
            """Seconds from navigation to the first vector shape (in the iframe ``frame`` selects, if given); a
            fresh context (cold browser cache) unless one is given (warm: the app's JavaScript already cached,
            as for a returning user)."""
            own = context is None
            context = context or browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.add_init_script(FIRST_DRAW_WATCH)
            start = time.perf_counter()
            page.goto(url, wait_until="commit")
            target = page.frame_locator(frame).first.locator(SHAPE) if frame else page.locator(SHAPE)
            target.first.wait_for(state="attached", timeout=60_000)
            seen = {"observed": time.perf_counter() - start}
            if frame:
                page.wait_for_function("() => window.__mapDrawn", timeout=10_000)
                seen.update(page.evaluate(FIRST_DRAW_READ))
            page.close()
            if own:
                context.close()
            return seen

        def series(url: str, frame: str | None = MAP_IFRAME, warm: bool = False) -> dict[str, float]:
            """Median of each timing over ``runs`` loads (after one untimed load that warms the server)."""
            context = browser.new_context(viewport={"width": 1400, "height": 1000}) if warm else None
            first_draw(url, frame, context)
            runs_seen = [first_draw(url, frame, context) for _ in range(runs)]
            if context is not None:
                context.close()
            return {key: statistics.median(seen[key] for seen in runs_seen) for key in runs_seen[0]}

        map_url = f"{base}/{quote('地图_Map')}"
        for warm, suffix in ((False, ""), (True, "_warm_cache")):
            app = series(map_url, warm=warm)
            figures[f"first_draw_app{suffix}_s"] = app["observed"]
            figures[f"first_draw_app_in_page{suffix}_s"] = app["drawn"]
            figures[f"first_element_app{suffix}_s"] = app["element"]
            only = series(floor, warm=warm)
            figures[f"first_draw_map_only_page{suffix}_s"] = only["drawn"]
            srcdoc = series(f"{floor}/?frame=srcdoc", frame="iframe", warm=warm)
            figures[f"first_draw_map_only_srcdoc{suffix}_s"] = srcdoc["drawn"]
        figures["first_draw_file_s"] = series(ours_file.as_uri(), frame=None)["observed"]
        figures["naive_first_draw_file_s"] = series(naive_file.as_uri(), frame=None)["observed"]
        browser.close()
    return figures


def pack_figures() -> dict[str, Any]:
    """The meeting pack (every scene as PNG, PDF and HTML, zh): every page drawn (no reuse, in a fresh process's
    first pack and in a second one with the drawing workers' server warm), then reusing the cached scene files;
    and the handout PDF drawn in full."""
    with tempfile.TemporaryDirectory(prefix="bench-pack-") as folder:
        out = Path(folder) / "pack.zip"
        first = build_pack(out, reuse=False).seconds
        cold = build_pack(out, reuse=False).seconds
        build_pack(out)                                   # fills the cache
        warm = build_pack(out).seconds
        deck = build_deck(Path(folder) / "deck.pdf", reuse=False).seconds
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"pack_first_s": first, "pack_cold_s": cold, "pack_s": warm, "deck_s": deck, "load_average_1min": load}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed repetitions per figure (median reported)")
    parser.add_argument("--browser-runs", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true", help="server figures only")
    parser.add_argument("--no-pack", action="store_true", help="skip the meeting pack timing")
    args = parser.parse_args(argv)
    layers, errors = load_layers()
    if errors:
        print(json.dumps({"error": errors}, ensure_ascii=False))
        return 2
    figures: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU, Python "
                                          f"{platform.python_version()}"}
    figures.update(server_figures(layers, args.runs))
    if not args.no_browser and Path(CHROMIUM).is_file():
        figures.update(browser_figures(layers, args.browser_runs))
    if not args.no_pack:
        figures.update(pack_figures())
    figures["map_html_kb"] = round(figures["map_html_bytes"] / 1024, 1)
    figures["speedup_build_vs_naive"] = round(figures["naive_build_s"] / figures["warm_build_s"], 2)
    figures["speedup_filter_vs_naive"] = round(figures["naive_filter_change_s"] / figures["filter_change_s"], 2)
    figures["size_ratio_naive_over_ours"] = round(figures["naive_html_bytes"] / figures["map_html_bytes"], 2)
    if "first_draw_file_s" in figures:
        figures["speedup_first_draw_vs_naive"] = round(figures["naive_first_draw_file_s"]
                                                       / figures["first_draw_file_s"], 2)
    checks = {
        "map_html_kb <= 400": figures["map_html_kb"] <= TARGETS["map_html_kb"],
        "warm_build_s <= 0.3": figures["warm_build_s"] <= TARGETS["warm_build_s"],
        "filter_change_s <= 0.3": figures["filter_change_s"] <= TARGETS["filter_change_s"],
        "build >= 3x faster than naive": figures["speedup_build_vs_naive"] >= TARGETS["speedup_vs_naive"],
    }
    if "pack_cold_s" in figures:
        checks["pack_s <= 10 (scene files reused)"] = figures["pack_s"] <= TARGETS["pack_s"]
        checks["pack_cold_s <= 10 (every page drawn)"] = figures["pack_cold_s"] <= TARGETS["pack_s"]
    if "first_draw_app_s" in figures:
        for key in ("first_draw_app_s", "first_draw_app_warm_cache_s", "first_draw_app_in_page_s",
                    "first_draw_app_in_page_warm_cache_s"):
            checks[f"{key} <= 1.5"] = figures[key] <= TARGETS["first_draw_s"]
    figures["targets_met"] = checks
    for key, value in figures.items():
        if isinstance(value, float):
            figures[key] = round(value, 3)
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
