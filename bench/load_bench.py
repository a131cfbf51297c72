"""Server capacity (``make load``): how many Map-page sessions per minute one app process, and two behind nginx,
sustain at a p95 step latency of at most 1 s, with the load generator on its own CPU. Prints one JSON object.

Each session is the standard path over Streamlit's websocket (``bench/load_ws.py``, no browser): open the Map page
(its map first, then the rest once the map reports "drawn"), switch 车站 off and on, filter 轨道状态 = 已开通, focus
佘山镇, choose GeoPackage and download it (the file must be one). The ramp runs ``c`` sessions at once, each a
closed loop (a new session as soon as one ends, no think time), for ``--level-s`` seconds per level, c = 1, 2, 3,
…, until the p95 of the steps passes 1 s or an error occurs; capacity is the best level that held. Before the ramp
one session per app process warms its caches (not counted).

Cores (2 CPUs): ``1proc`` the app on CPU 0, the generator on CPU 1; ``2proc`` two app processes and nginx on CPU 0,
the generator on CPU 1 (the same CPU as one process: what the proxy and a second process cost or gain);
``2proc-2cpu`` one app process per CPU, nginx and the generator on CPU 1 (the generator's own CPU is reported: it
is what it takes from that process). CPU seconds and memory are those of the app processes (and nginx).

``.venv/bin/python bench/load_bench.py [--configs 1proc,2proc,2proc-2cpu] [--level-s 15] [--budget-s 270]``;
exit status 1 when a session failed (a slow step is not a failure). The Chromium bench is ``bench/load_browser.py``.
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_browser import LANG, Plan, make_plan
from load_procs import pin, total_cpu_s, total_rss_mb, tree
from load_stats import P95_LIMIT_S, Level, capacity, next_level, summary
from load_ws import SessionError, WsSession, is_geopackage

from layers.app.cluster import running_cluster
from layers.app.server import start_app, stop_app
from layers.core.i18n import t

ROUTE = "地图_Map"
CONFIGS = ("1proc", "2proc", "2proc-2cpu")
LEVEL_S = 15.0
#: The ramp time for all configurations (s), shared equally; start-up and warm-up come on top (about 6 minutes in
#: all on a quiet machine).
BUDGET_S = 270.0
#: After a level's window, how long its sessions in flight may take to finish.
DRAIN_S = 60.0
STEPS = ("open", "layer_off", "layer_on", "filter", "town", "format", "download")


# ------------------------------------------------------------------------------------------------------------
# One session through the standard path
# ------------------------------------------------------------------------------------------------------------
async def session(base: str, plan: Plan, record: Callable[[str, float], None]) -> None:
    """The standard path once; ``record(step, seconds)`` after each step.

    Raises
    ------
    SessionError
        A run showed the wrong page, an exception, or the download is not a GeoPackage.
    """
    clock = time.perf_counter
    async with WsSession(base, ROUTE, f"lang={LANG}") as s:
        start = clock()
        await asyncio.to_thread(s.fetch, "/" + quote(ROUTE) + f"?lang={LANG}")  # the page's HTML, as a browser
        first = await s.run()
        s.set_component(first.widget("bidi_component", ""), {"drawn": "drawn"})  # the map reports its paint
        run = await s.run()
        _expect(run, plan.full.caption, "open")
        record("open", clock() - start)

        layers = run.widget("multiselect", t("layers", LANG), container=1)
        shown = list(layers.value)
        steps: list[tuple[str, Callable[[], None], str]] = [
            ("layer_off", lambda: s.set_multiselect(layers, [o for o in shown if o != plan.layer_label]),
             plan.without_layer.caption),
            ("layer_on", lambda: s.set_multiselect(layers, shown), plan.full.caption),
            ("filter", lambda: s.set_multiselect(run.widget("multiselect", t("f_rail_status", LANG), container=1),
                                                 [plan.status_label]), plan.filtered.caption),
            ("town", lambda: s.set_selectbox(run.widget("selectbox", t("town_focus", LANG), container=1),
                                             plan.town_label), plan.town.caption),
            ("format", lambda: s.set_selectbox(run.widget("selectbox", t("dl_format", LANG), container=0),
                                               "GeoPackage"), plan.town.caption),
        ]
        for name, action, caption in steps:
            start = clock()
            action()
            run = await s.run()
            _expect(run, caption, name)
            record(name, clock() - start)

        start = clock()
        run = await s.run(triggers=s.trigger(run.widget("button", t("dl_prepare", LANG), container=0)))
        save = t("dl_save", LANG, name="")
        button = next((w for w in run.widgets if w.kind == "download_button" and w.label.startswith(save)), None)
        if button is None or not button.url:
            raise SessionError("download: no save button after 生成文件")
        data = await asyncio.to_thread(s.fetch, button.url)
        if not is_geopackage(data):
            raise SessionError(f"download: {len(data)} bytes, not a GeoPackage")
        record("download", clock() - start)


def _expect(run: Any, caption: str, step: str) -> None:
    if not run.has_text(caption):
        raise SessionError(f"{step}: the page does not say {caption!r}")


# ------------------------------------------------------------------------------------------------------------
# The ramp
# ------------------------------------------------------------------------------------------------------------
async def run_level(base: str, plan: Plan, concurrency: int, window_s: float, server_pids: list[int]) -> Level:
    """``concurrency`` closed-loop sessions for ``window_s`` seconds (sessions in flight then finish)."""
    level = Level(concurrency)
    cpu0, gen0 = total_cpu_s(server_pids), total_cpu_s([os.getpid()])
    level.rss_mb = round(total_rss_mb(server_pids), 1)
    started = time.perf_counter()
    stop_at = started + window_s
    peak = [level.rss_mb]

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            try:
                await session(base, plan, level.record)
                level.sessions += 1
            except Exception as exc:  # every failure is counted, with its kind
                level.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                await asyncio.sleep(1.0)
            peak[0] = max(peak[0], total_rss_mb(server_pids))

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    _, pending = await asyncio.wait(tasks, timeout=window_s + DRAIN_S)
    for task in pending:
        task.cancel()
        level.errors.append("a session did not finish in time")
    await asyncio.gather(*pending, return_exceptions=True)
    level.wall_s = time.perf_counter() - started
    level.server_cpu_s = total_cpu_s(server_pids) - cpu0
    level.generator_cpu_s = total_cpu_s([os.getpid()]) - gen0
    level.peak_rss_mb = round(peak[0], 1)
    return level


def level_json(level: Level, limit_s: float = P95_LIMIT_S) -> dict[str, Any]:
    """One level's figures."""
    per = level.sessions or 1
    return {"concurrency": level.concurrency, "sessions": level.sessions,
            "sessions_per_min": round(level.sessions_per_min, 1), "steps": summary(level.steps),
            "p95_by_step_s": {k: summary(v)["p95_s"] for k, v in level.by_step.items()},
            "passes": level.passes(limit_s), "errors": level.errors[:5], "wall_s": round(level.wall_s, 1),
            "server_cpu_s": round(level.server_cpu_s, 1),
            "server_cpu_s_per_session": round(level.server_cpu_s / per, 2),
            "server_cpu_share": round(level.server_cpu_s / level.wall_s, 2) if level.wall_s else None,
            "generator_cpu_s": round(level.generator_cpu_s, 1),
            "server_rss_mb_start": level.rss_mb, "server_rss_mb_peak": level.peak_rss_mb}


async def ramp(base: str, plan: Plan, server_pids: list[int], *, level_s: float, deadline: float,
               limit_s: float = P95_LIMIT_S) -> list[Level]:
    """Levels of rising concurrency until one fails its limit or the time is up."""
    done: list[Level] = []
    while (c := next_level(done, limit_s=limit_s, time_left_s=deadline - time.monotonic(),
                                   level_s=level_s)) is not None:
        done.append(await run_level(base, plan, c, level_s, server_pids))
        print(json.dumps(level_json(done[-1], limit_s), ensure_ascii=False), file=sys.stderr, flush=True)
    return done


# ------------------------------------------------------------------------------------------------------------
# The configurations: which processes, on which CPUs
# ------------------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def serving(config: str, logs: Path) -> Iterator[tuple[str, list[str], list[int], str]]:
    """Start ``config``'s processes and pin them; yields (URL to load, each app's URL, server pids, core split)."""
    me = os.getpid()
    if config == "1proc":
        proc, url = start_app(logs / "app.log")
        try:
            pin([proc.pid], {0})
            pin([me], {1}, descendants=False)  # this process only: its servers keep their CPUs
            yield url, [url], tree(proc.pid), "app on CPU 0; load generator on CPU 1"
        finally:
            stop_app(proc)
        return
    with running_cluster(2, log_dir=logs) as (url, backends):
        servers = [p for p in tree(me) if p != me]
        apps = [p for p in servers if _listens(p, backends)]
        if config == "2proc":
            pin(servers, {0})
            split = "2 app processes and nginx on CPU 0; load generator on CPU 1"
        else:
            pin(servers, {1})
            pin(apps[:1], {0})
            split = "app process 1 on CPU 0; app process 2, nginx and the load generator on CPU 1"
        pin([me], {1}, descendants=False)  # this process only: its servers keep their CPUs
        yield url, backends, servers, split


def _name(pid: int) -> str:
    """``pid`` and what it runs (app port, nginx, the generator), for the record of which CPU each used."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    except OSError:
        return str(pid)
    if pid == os.getpid():
        return f"{pid} load generator"
    if b"--server.port" in args:
        return f"{pid} app :{args[args.index(b'--server.port') + 1].decode()}"
    return f"{pid} {args[0].decode(errors='replace')[:40]}"


def _listens(pid: int, backends: list[str]) -> bool:
    """Whether ``pid`` is a Streamlit app process serving one of ``backends`` (by its command line)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"streamlit" in b" ".join(args) and any(u.rsplit(":", 1)[1].encode() in args for u in backends)


async def measure(config: str, plan: Plan, *, level_s: float, ramp_s: float, limit_s: float = P95_LIMIT_S
                  ) -> dict[str, Any]:
    """One configuration: start, warm every app process with one session, ramp for up to ``ramp_s``, stop."""
    with tempfile.TemporaryDirectory(prefix="songjiang-load-") as tmp, \
            serving(config, Path(tmp)) as (url, backends, pids, split):
        for backend in backends:  # each process's caches (layers, map) before the measured sessions
            await session(backend, plan, lambda *_: None)
        levels = await ramp(url, plan, pids, level_s=level_s, deadline=time.monotonic() + ramp_s, limit_s=limit_s)
        cpus = {_name(pid): sorted(os.sched_getaffinity(pid)) for pid in [*pids, os.getpid()]}
    best = capacity(levels, limit_s=limit_s)
    return {"config": config, "cores": split, "cpus_of": cpus, "capacity": _capacity_json(best, levels, limit_s),
            "levels": [level_json(level, limit_s) for level in levels]}


def _capacity_json(best: Level | None, levels: list[Level], limit_s: float) -> dict[str, Any]:
    if best is None:
        return {"sessions_per_min": 0, "note": f"no level held p95 ≤ {limit_s:g} s"}
    stopped = levels[-1]
    return {"sessions_per_min": round(best.sessions_per_min, 1), "concurrency": best.concurrency,
            "step_p95_s": round(best.step_p95_s or 0, 3),
            "server_cpu_s_per_session": round(best.server_cpu_s / max(1, best.sessions), 2),
            "server_rss_mb_peak": best.peak_rss_mb,
            # memory held per live session: the ramp's highest peak over its first level's start, per session
            "server_rss_mb_per_concurrent_session": round(
                (max(level.peak_rss_mb for level in levels) - levels[0].rss_mb) / stopped.concurrency, 1),
            "stopped_at": {"concurrency": stopped.concurrency, "step_p95_s": stopped.step_p95_s,
                           "sessions_per_min": round(stopped.sessions_per_min, 1), "errors": len(stopped.errors)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, of {', '.join(CONFIGS)}")
    parser.add_argument("--level-s", type=float, default=LEVEL_S, help="seconds per concurrency level")
    parser.add_argument("--budget-s", type=float, default=BUDGET_S, help="ramp time for all configurations (s)")
    parser.add_argument("--limit-s", type=float, default=P95_LIMIT_S,
                        help="p95 step latency the capacity is measured at (s); only a trial on a busy machine "
                             "raises it")
    args = parser.parse_args(argv)
    configs = [c for c in args.configs.split(",") if c]
    if unknown := set(configs) - set(CONFIGS):
        parser.error(f"unknown configuration(s) {sorted(unknown)}")
    if len(os.sched_getaffinity(0)) < 2:
        parser.error("needs 2 CPUs: the app on one, the load generator on the other")
    plan = make_plan()
    load_start = os.getloadavg()
    started = time.monotonic()
    results = []
    for config in configs:
        results.append(asyncio.run(measure(config, plan, level_s=args.level_s, ramp_s=args.budget_s / len(configs),
                                           limit_s=args.limit_s)))
    load = os.getloadavg()
    figures = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}",
               "load_average_at_start": [round(x, 2) for x in load_start],
               "load_average_at_end": [round(x, 2) for x in load], "p95_limit_s": args.limit_s,
               "level_s": args.level_s, "steps": list(STEPS), "wall_s": round(time.monotonic() - started, 1),
               "results": results}
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    return 1 if any(level["errors"] for r in results for level in r["levels"]) else 0


if __name__ == "__main__":
    sys.exit(main())
