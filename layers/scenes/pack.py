"""The meeting pack: every scene in every format, with a README, in one zip."""
from __future__ import annotations

import os
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from multiprocessing import get_context
from pathlib import Path

from layers.core import settings
from layers.core.catalog import Catalog, get_catalog
from layers.core.errors import SceneError
from layers.core.files import atomic_output
from layers.core.i18n import LANGS
from layers.scenes.frame import ATTRIBUTIONS, MIN_PNG_WIDTH_PX, prepare_frame, scene_titles
from layers.scenes.model import get_scenes
from layers.scenes.output import render_scene
from layers.scenes.web import PACK_FORMATS, scene_file_name, write_scene_html


@dataclass(frozen=True)
class PackReport:
    """What :func:`build_pack` wrote."""

    path: Path
    files: tuple[str, ...]
    size: int
    seconds: float


def _render_member(job: tuple[str, str | None, str, str, str, int, str]) -> str:
    """Draw one PNG/PDF of the pack (runs in a worker process)."""
    scene_id, town, fmt, lang, paper, dpi, out = job
    render_scene(scene_id, town=town, fmt=fmt, out=Path(out), lang=lang, paper=paper, dpi=dpi)
    return out


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


def build_pack(out: Path, *, lang: str = "zh", town: str = settings.PACK_TOWN, paper: str = "A4", dpi: int = 200,
               workers: int = settings.PACK_WORKERS) -> PackReport:
    """Write the meeting pack: every scene as PNG, PDF and offline HTML, and README.txt, in one zip.

    Parameters
    ----------
    out
        The zip to write (atomically: a temporary file beside it, then a rename).
    lang, paper, dpi
        As for :func:`layers.present.render_scene`, for every file.
    town
        The town of the close-up scene(s).
    workers
        Processes drawing the PNG/PDF pages at once (at most one fewer than the CPUs; 1 = in this process).

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
    with tempfile.TemporaryDirectory(prefix="songjiang-pack-") as folder:
        jobs, names, entries = [], [], []
        for number, scene in enumerate(scenes, start=1):
            scene_town = town if scene.needs_town else None
            for fmt in PACK_FORMATS:
                name = scene_file_name(scene.id, scene_town, fmt, number=number)
                names.append(name)
                if fmt != "html":
                    jobs.append((scene.id, scene_town, fmt, lang, paper, dpi, str(Path(folder) / name)))
            title, _ = scene_titles(scene, town_record if scene.needs_town else None, lang)
            entries.append((scene_file_name(scene.id, scene_town, None, number=number), title))
        # One core stays with this process (it writes the HTML files meanwhile); a 2-core machine draws in-process,
        # which measured faster there than paying for the workers' start-up.
        n_workers = max(1, min(workers, (os.cpu_count() or 1) - 1, len(jobs)))
        pending = []
        pool = ProcessPoolExecutor(n_workers, mp_context=get_context("spawn")) if n_workers > 1 else None
        try:
            if pool is not None:
                pending = [pool.submit(_render_member, job) for job in jobs]
            for number, scene in enumerate(scenes, start=1):
                scene_town = town if scene.needs_town else None
                write_scene_html(scene.id, town=scene_town, lang=lang,
                                 out=Path(folder) / scene_file_name(scene.id, scene_town, "html", number=number))
            if pool is None:
                for job in jobs:
                    _render_member(job)
            for future in pending:
                future.result()
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        readme = pack_readme(entries, lang=lang, town=town, paper=paper, dpi=dpi, catalog=catalog)
        with atomic_output(out, suffix=".zip") as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                zf.writestr("README.txt", readme)
                for name in names:
                    zf.write(Path(folder) / name, arcname=name)
    return PackReport(path=out, files=("README.txt", *names), size=out.stat().st_size,
                      seconds=time.perf_counter() - started)
