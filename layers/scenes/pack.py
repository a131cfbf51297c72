"""The meeting pack: every scene in every format, with a README, in one zip."""
from __future__ import annotations

import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from layers.core import paths, settings
from layers.core.catalog import Catalog, get_catalog
from layers.core.errors import SceneError
from layers.core.files import atomic_output
from layers.core.i18n import LANGS
from layers.scenes.batch import PACK_DPI, meeting_scenes, scene_files
from layers.scenes.frame import ATTRIBUTIONS, MIN_PNG_WIDTH_PX, prepare_frame, scene_titles
from layers.scenes.model import get_scenes
from layers.scenes.output import inputs_fingerprint
from layers.scenes.web import PACK_FORMATS, scene_file_name


@dataclass(frozen=True)
class PackReport:
    """What :func:`build_pack` wrote."""

    path: Path
    files: tuple[str, ...]
    size: int
    seconds: float


#: Progress callback: (files done, files in all).
Progress = Callable[[int, int], None]


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


def build_pack(out: Path, *, lang: str = "zh", town: str = settings.PACK_TOWN, paper: str = "A4",
               dpi: int = PACK_DPI,
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
    if reuse:
        prune_cache(keep=inputs_fingerprint())
    total = len(scenes) * len(PACK_FORMATS)
    done = 0

    def tick(n: int = 1) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    with tempfile.TemporaryDirectory(prefix="songjiang-pack-") as folder:
        names = scene_files(Path(folder), PACK_FORMATS, lang=lang, town=town, paper=paper, dpi=dpi,
                            workers=workers, reuse=reuse, tick=tick)
        entries = [(scene_file_name(scene_id, scene_town, None, number=number),
                    scene_titles(scene, town_record if scene.needs_town else None, lang)[0])
                   for (number, scene_id, scene_town), scene in zip(meeting_scenes(town), scenes, strict=True)]
        readme = pack_readme(entries, lang=lang, town=town, paper=paper, dpi=dpi, catalog=catalog)
        with atomic_output(out, suffix=".zip") as tmp, \
                zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            zf.writestr("README.txt", readme)
            for name in names:
                # PNG and PDF are compressed already: stored as they are, only the HTML is deflated.
                zf.write(Path(folder) / name, arcname=name,
                         compress_type=zipfile.ZIP_DEFLATED if name.endswith(".html") else zipfile.ZIP_STORED)
    return PackReport(path=out, files=("README.txt", *names), size=out.stat().st_size,
                      seconds=time.perf_counter() - started)
