"""The meeting pack: every scene in every format, with a README, in one zip."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from layers.core import paths, settings
from layers.core.catalog import Catalog, get_catalog
from layers.core.errors import SceneError
from layers.core.files import atomic_output
from layers.core.i18n import LANGS
from layers.scenes.frame import ATTRIBUTIONS, MIN_PNG_WIDTH_PX, prepare_frame, scene_titles
from layers.scenes.model import get_scenes
from layers.scenes.output import cache_path, from_cache, inputs_fingerprint, to_cache, write_figure_files
from layers.scenes.web import PACK_FORMATS, scene_file_name, write_scene_html


@dataclass(frozen=True)
class PackReport:
    """What :func:`build_pack` wrote."""

    path: Path
    files: tuple[str, ...]
    size: int
    seconds: float


#: Progress callback: (files done, files in all).
Progress = Callable[[int, int], None]


def _render_member(job: tuple[str, str | None, str, str, int, dict[str, str]]) -> list[str]:
    """Draw one scene's page once and save it as PNG and PDF (runs in a worker process)."""
    scene_id, town, lang, paper, dpi, outs = job
    write_figure_files(scene_id, town=town, lang=lang, paper=paper, dpi=dpi,
                       outs={fmt: Path(out) for fmt, out in outs.items()})
    return list(outs.values())


def _worker_context() -> Any:
    """Workers forked from a server process that has already imported the drawing code (no start-up import per
    worker, and none per pack after the first); never a fork of this process, which may run Streamlit threads."""
    context = get_context("forkserver")
    context.set_forkserver_preload(["layers.scenes.output", "layers.map.load"])
    return context


def prune_cache(keep: str) -> None:
    """Drop cached scene files drawn from inputs other than ``keep`` (a fingerprint)."""
    if not paths.SCENE_CACHE_DIR.is_dir():
        return
    for folder in paths.SCENE_CACHE_DIR.iterdir():
        if folder.is_dir() and folder.name != keep:
            shutil.rmtree(folder, ignore_errors=True)


def pack_readme(entries: list[tuple[str, str]], *, lang: str, town: str | None, paper: str, dpi: int,
                catalog: Catalog | None = None, today: date | None = None) -> str:
    """README.txt of the pack: what each file is, how to use it, accuracy, attributions and dates.

    ``entries`` are (file stem, scene title) pairs.
    """
    catalog = catalog or get_catalog()
    meta = catalog.meta
    attributions = list(ATTRIBUTIONS)
    for spec in catalog.layers:
        if spec.provenance.attribution not in attributions:
            attributions.append(spec.provenance.attribution)
    lines = [
        f"{meta['title_zh']} · 会议资料包 / {meta['title_en']} · meeting pack",
        "",
        f"Made on {(today or date.today()).isoformat()}; data release {meta.get('release_date', '')}; "
        f"language {lang}.",
        f"Plan: {meta.get('plan_zh', '')} ({meta.get('plan_en', '')}).",
        "",
        "Scenes (each as .png, .pdf and .html):",
        *[f"  {stem}.*  {title}" for stem, title in entries],
        "",
        "Files:",
        f"  .png   slides: at least {MIN_PNG_WIDTH_PX} px wide, {dpi} dpi or more, {paper} landscape.",
        f"  .pdf   print: one {paper} landscape page with title, legend, scale bar, north arrow and notes.",
        "  .html  the interactive map: double-click to open in any current browser. Everything it needs is inside",
        "         the file, so it works with the network off; pan, zoom, hover or click a feature for details.",
        "",
        "Accuracy: dashed lines and outlines are schematic (示意, not for measurement); a dashed circle around a point",
        "is its position uncertainty, drawn to scale. Town boundaries are a schematic partition made by this project.",
        "",
        "Attributions:",
        *[f"  {a}" for a in attributions],
        "  Map code inside the .html files: Leaflet (BSD-2-Clause), folium (MIT), jQuery (MIT), Bootstrap (MIT),",
        "  Leaflet.fullscreen (MIT); their licence notices are kept in the files.",
        "",
    ]
    return "\n".join(lines)


def _draw_members(jobs: list[tuple[str, str | None, str, str, int, dict[str, str]]],
                  html: list[tuple[str, str | None, Path]], *, lang: str, workers: int,
                  tick: Callable[[int], None]) -> None:
    """Draw the pages (PNG+PDF per scene) in worker processes while this one writes the HTML files.

    On an idle 2-core machine two workers nearly halve the drawing; on a busy one they gain little, which is why
    the pack also reuses cached scene files.
    """
    n_workers = max(1, min(workers, os.cpu_count() or 1, len(jobs)))
    pool = ProcessPoolExecutor(n_workers, mp_context=_worker_context()) if n_workers > 1 and jobs else None
    try:
        pending = [pool.submit(_render_member, job) for job in jobs] if pool is not None else []
        for scene_id, scene_town, target in html:
            write_scene_html(scene_id, town=scene_town, lang=lang, out=target)
            tick(1)
        if pool is None:
            for job in jobs:
                _render_member(job)
                tick(len(job[-1]))
        for future in as_completed(pending):
            tick(len(future.result()))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def build_pack(out: Path, *, lang: str = "zh", town: str = settings.PACK_TOWN, paper: str = "A4", dpi: int = 200,
               workers: int = settings.PACK_WORKERS, progress: Progress | None = None,
               reuse: bool = True) -> PackReport:
    """Write the meeting pack: every scene as PNG, PDF and offline HTML, and README.txt, in one zip.

    Parameters
    ----------
    out
        The zip to write (atomically: a temporary file beside it, then a rename).
    lang, paper, dpi
        As for :func:`layers.scenes.output.render_scene`, for every file.
    town
        The town of the close-up scene(s).
    workers
        Processes drawing the PNG/PDF pages at once (at most the CPUs; 1 = in this process).
    progress
        Called with (files done, files in all) as the files are made.
    reuse
        Take scene files drawn earlier from the same inputs (:func:`layers.scenes.output.inputs_fingerprint`)
        from the cache instead of drawing them again.

    Returns
    -------
    PackReport
        The path, the member names, the size in bytes and the time taken.
    """
    started = time.perf_counter()
    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise SceneError(f"The meeting pack is a zip file: give --out with a .zip name (got {out.name!r}).")
    if lang not in LANGS:
        raise SceneError(f"Unknown language {lang!r}; use one of {LANGS}.")
    catalog = get_catalog()
    scenes = list(get_scenes().values())
    town_record = None
    if any(s.needs_town for s in scenes):    # an unknown town fails here, before any drawing
        town_record = prepare_frame(next(s for s in scenes if s.needs_town), town, catalog).town
    fingerprint = inputs_fingerprint()
    if reuse:
        prune_cache(keep=fingerprint)
    done = 0

    def tick(n: int = 1) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, len(names))

    with tempfile.TemporaryDirectory(prefix="songjiang-pack-") as folder:
        jobs, names, entries, html = [], [], [], []
        for number, scene in enumerate(scenes, start=1):
            scene_town = town if scene.needs_town else None
            outs: dict[str, str] = {}
            for fmt in PACK_FORMATS:
                name = scene_file_name(scene.id, scene_town, fmt, number=number)
                names.append(name)
                target = Path(folder) / name
                if reuse and from_cache(cache_path(name, lang=lang, paper=paper, dpi=dpi, fingerprint=fingerprint),
                                        target):
                    continue
                if fmt == "html":
                    html.append((scene.id, scene_town, target))
                else:
                    outs[fmt] = str(target)
            if outs:
                jobs.append((scene.id, scene_town, lang, paper, dpi, outs))
            title, _ = scene_titles(scene, town_record if scene.needs_town else None, lang)
            entries.append((scene_file_name(scene.id, scene_town, None, number=number), title))
        tick(len(names) - len(html) - sum(len(job[-1]) for job in jobs))
        _draw_members(jobs, html, lang=lang, workers=workers, tick=tick)
        if reuse:
            for name in names:
                to_cache(Path(folder) / name, cache_path(name, lang=lang, paper=paper, dpi=dpi,
                                                         fingerprint=fingerprint))
        readme = pack_readme(entries, lang=lang, town=town, paper=paper, dpi=dpi, catalog=catalog)
        with atomic_output(out, suffix=".zip") as tmp, \
                zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            zf.writestr("README.txt", readme)
            for name in names:
                zf.write(Path(folder) / name, arcname=name)
    return PackReport(path=out, files=("README.txt", *names), size=out.stat().st_size,
                      seconds=time.perf_counter() - started)
