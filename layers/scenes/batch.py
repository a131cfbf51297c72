"""Every scene's files for a meeting, each page drawn once: taken from the cache or drawn in worker processes."""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from layers.core.worker import children_without_main
from layers.scenes.model import get_scenes
from layers.scenes.output import cache_path, from_cache, inputs_fingerprint, to_cache, write_figure_files
from layers.scenes.web import scene_file_name, write_scene_html

#: The pack's PNG resolution (dpi); the handout takes its scene PDFs from the cache under the same settings.
PACK_DPI = 200
#: A page to draw: (scene id, town or None, lang, paper, dpi, {format: file}).
Job = tuple[str, str | None, str, str, int, dict[str, str]]


def _render_member(job: Job) -> list[str]:
    """Draw one scene's page once and save it in each wanted format (runs in a worker process)."""
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


def _submit_all(pool: ProcessPoolExecutor | None, jobs: list[Job]) -> list[Any]:
    """Submit every job (the pool starts its workers meanwhile, none of them re-running ``__main__``)."""
    if pool is None:
        return []
    with children_without_main():
        return [pool.submit(_render_member, job) for job in jobs]


def _draw(jobs: list[Job], html: list[tuple[str, str | None, Path]], *, lang: str, workers: int,
          tick: Callable[[int], None]) -> None:
    """Draw the pages in worker processes while this one writes the HTML files.

    On an idle 2-core machine two workers nearly halve the drawing; on a busy one they gain little, which is why
    the files are also cached.
    """
    n_workers = max(1, min(workers, os.cpu_count() or 1, len(jobs)))
    pool = ProcessPoolExecutor(n_workers, mp_context=_worker_context()) if n_workers > 1 and jobs else None
    try:
        # The first submit waits until the workers' server has imported the drawing code (about 2 s, once per
        # process): a thread makes that wait while this one writes the HTML files.
        with ThreadPoolExecutor(1) as starter:
            submitted = starter.submit(_submit_all, pool, jobs)
            for scene_id, scene_town, target in html:
                write_scene_html(scene_id, town=scene_town, lang=lang, out=target)
                tick(1)
            pending = submitted.result()
        if pool is None:
            for job in jobs:
                _render_member(job)
                tick(len(job[-1]))
        for future in as_completed(pending):
            tick(len(future.result()))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def meeting_scenes(town: str) -> list[tuple[int, str, str | None]]:
    """(number, scene id, town or None) of every scene, in the order of ``scenes.toml``."""
    return [(number, scene.id, town if scene.needs_town else None)
            for number, scene in enumerate(get_scenes().values(), start=1)]


def scene_files(folder: Path, formats: Sequence[str], *, lang: str, town: str, paper: str, dpi: int, workers: int,
                reuse: bool, tick: Callable[[int], None]) -> list[str]:
    """Write every scene in each of ``formats`` into ``folder`` and return the file names, in scene order.

    A file drawn earlier from the same inputs and settings is copied from the cache (``reuse``); each missing page
    is drawn once for all its formats (PNG and PDF from one figure) in up to ``workers`` processes, and kept in the
    cache, so a meeting pack serves a later handout and the other way round. ``tick(n)`` reports n files done.
    """
    fingerprint = inputs_fingerprint()
    jobs: list[Job] = []
    html: list[tuple[str, str | None, Path]] = []
    names: list[str] = []
    drawn: list[str] = []
    taken = 0
    for number, scene_id, scene_town in meeting_scenes(town):
        outs: dict[str, str] = {}
        for fmt in formats:
            name = scene_file_name(scene_id, scene_town, fmt, number=number)
            names.append(name)
            target = folder / name
            if reuse and from_cache(cache_path(name, lang=lang, paper=paper, dpi=dpi, fingerprint=fingerprint),
                                    target):
                taken += 1
                continue
            drawn.append(name)
            if fmt == "html":
                html.append((scene_id, scene_town, target))
            else:
                outs[fmt] = str(target)
        if outs:
            jobs.append((scene_id, scene_town, lang, paper, dpi, outs))
    tick(taken)
    _draw(jobs, html, lang=lang, workers=workers, tick=tick)
    if reuse:
        for name in drawn:
            to_cache(folder / name, cache_path(name, lang=lang, paper=paper, dpi=dpi, fingerprint=fingerprint))
    return names
