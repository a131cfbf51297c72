"""The meeting handout: one multi-page PDF, a title page (scenes, sources, date) and one scene per page."""
from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from layers.core import settings
from layers.core.catalog import Catalog, get_catalog
from layers.core.errors import FontMissingError, SceneError
from layers.core.files import write_bytes_atomic
from layers.core.i18n import LANGS
from layers.scenes.batch import PACK_DPI, scene_files
from layers.scenes.fonts import find_cjk_font, missing_glyphs
from layers.scenes.frame import ATTRIBUTIONS, ATTRIBUTIONS_ZH, PAPER_MM, prepare_frame, scene_titles, wrap_text
from layers.scenes.model import get_scenes
from layers.scenes.output import cache_path, from_cache, inputs_fingerprint, to_cache
from layers.scenes.pdfjoin import join_pdfs

#: The handout's file name per language (ASCII, like the pack's files).
DECK_NAME = {"zh": "meeting_handout_zh.pdf", "en": "meeting_handout_en.pdf"}
DECK_TEXT = {
    "zh": {"handout": "会议讲稿", "scenes": "场景", "sources": "来源", "plan": "规划", "made": "制作日期",
           "release": "数据版本",
           "accuracy": "精度：虚线为示意图形（不可量测）；点周围的虚线圆为位置误差半径（按比例）。",
           "page": "第 {n} 页"},
    "en": {"handout": "Meeting handout", "scenes": "Scenes", "sources": "Sources", "plan": "Plan", "made": "Made on",
           "release": "Data release", "page": "page {n}",
           "accuracy": "Accuracy: dashed shapes are schematic (not for measurement); a dashed circle around a point is "
                       "its position uncertainty, to scale."},
}


@dataclass(frozen=True)
class DeckReport:
    """What :func:`build_deck` wrote."""

    path: Path
    pages: int
    seconds: float


def _title_page(entries: list[tuple[str, str]], *, lang: str, paper: str, catalog: Catalog, today: date) -> Figure:
    """Page 1: the product and handout title, the scenes with their page numbers, plan, sources and dates."""
    text = DECK_TEXT[lang]
    width_mm, height_mm = PAPER_MM[paper]
    scale = width_mm / PAPER_MM["A4"][0]
    fig = plt.figure(figsize=(width_mm / 25.4, height_mm / 25.4))
    meta = catalog.meta
    fig.text(0.06, 0.90, f"{meta['title_' + lang]} · {text['handout']}", fontsize=26 * scale, fontweight="bold",
             va="top", color="#111111")
    colon = ": " if lang == "en" else "："
    fig.text(0.06, 0.82, f"{text['plan']}{colon}{meta.get('plan_' + lang, '')}", fontsize=11 * scale, va="top",
             color="#333333")
    fig.text(0.06, 0.74, text["scenes"], fontsize=14 * scale, fontweight="bold", va="top")
    for i, (title, subtitle) in enumerate(entries):
        y = 0.68 - i * 0.085
        fig.text(0.08, y, f"{i + 1}.  {title}", fontsize=12.5 * scale, va="top", color="#111111")
        fig.text(0.75, y, text["page"].format(n=i + 2), fontsize=10 * scale, va="top", color="#555555")
        fig.text(0.10, y - 0.032, "\n".join(wrap_text(subtitle, 135).split("\n")[:2]), fontsize=8.5 * scale,
                 va="top", color="#444444", linespacing=1.3)
    attributions = list(ATTRIBUTIONS)
    for spec in catalog.layers:
        if spec.provenance.attribution not in attributions:
            attributions.append(spec.provenance.attribution)
    if lang != "en":
        attributions = [ATTRIBUTIONS_ZH.get(a, a) for a in attributions]
    sources = (("; " if lang == "en" else "；").join(attributions))
    footer = [text["accuracy"], f"{text['sources']}{colon}{sources}",
              f"{text['release']}{colon}{meta.get('release_date', '')}    {text['made']}{colon}{today.isoformat()}"]
    fig.text(0.06, 0.05, "\n".join(wrap_text(line, 150) for line in footer), fontsize=8 * scale, va="bottom",
             color="#333333", linespacing=1.4)
    return fig


def _title_pdf(entries: list[tuple[str, str]], *, lang: str, paper: str, catalog: Catalog, today: date) -> bytes:
    """The title page as a one-page PDF (CJK glyphs embedded as Type 3, like the scene PDFs)."""
    font = find_cjk_font()
    rc = {"font.family": font.family, "pdf.fonttype": 3, "text.parse_math": False, "axes.unicode_minus": False}
    with plt.rc_context(rc):
        fig = _title_page(entries, lang=lang, paper=paper, catalog=catalog, today=today)
        try:
            missing = missing_glyphs(fig)
            if missing:
                shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in missing)
                raise FontMissingError(f"The CJK font cannot draw {shown}; change the text or the font.")
            buffer = io.BytesIO()
            fig.savefig(buffer, format="pdf")
        finally:
            plt.close(fig)
    return buffer.getvalue()


def build_deck(out: Path, *, lang: str = "zh", town: str = settings.PACK_TOWN, paper: str = "A4",
               progress: Callable[[int, int], None] | None = None, reuse: bool = True,
               workers: int = settings.PACK_WORKERS, today: date | None = None) -> DeckReport:
    """Write the handout: a title page and every scene on its own landscape page, the CJK font embedded (as Type 3
    glyphs: subsetting the 20 MB CJK font as TrueType took 5 s a page).

    The scene pages are the scene PDFs of the meeting pack, joined after the title page without drawing them
    again: a handout made after a pack (or a pack after a handout) reuses the cached pages.

    Parameters
    ----------
    out
        The PDF to write (atomically).
    lang, paper
        "zh"/"en"; "A4"/"A3" landscape.
    town
        The town of the close-up scene.
    progress
        Called with (pages done, pages in all).
    reuse
        Take the handout, or the scene pages, made earlier from the same inputs and settings from the cache.
    workers
        Processes drawing the scene pages that are not cached (at most the CPUs; 1 = in this process).
    """
    started = time.perf_counter()
    if lang not in LANGS:
        raise SceneError(f"Unknown language {lang!r}; use one of {LANGS}.")
    if paper not in PAPER_MM:
        raise SceneError(f"Unknown paper {paper!r}; use one of {tuple(PAPER_MM)}.")
    out = Path(out)
    today = today or date.today()
    catalog = get_catalog()
    scenes = list(get_scenes().values())
    entries = []
    for scene in scenes:          # an unknown town fails here, before any drawing
        frame_town = prepare_frame(scene, town, catalog).town if scene.needs_town else None
        entries.append(scene_titles(scene, frame_town, lang))
    total = len(scenes) + 1
    cached = cache_path(f"deck_{town}_{today.isoformat()}.pdf", lang=lang, paper=paper, dpi=0,
                        fingerprint=inputs_fingerprint())
    if reuse and from_cache(cached, out):
        if progress is not None:
            progress(total, total)
        return DeckReport(path=out, pages=total, seconds=time.perf_counter() - started)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    title = _title_pdf(entries, lang=lang, paper=paper, catalog=catalog, today=today)
    tick(1)
    with tempfile.TemporaryDirectory(prefix="songjiang-deck-") as folder:
        names = scene_files(Path(folder), ("pdf",), lang=lang, town=town, paper=paper, dpi=PACK_DPI,
                            workers=workers, reuse=reuse, tick=tick)
        pages = [title, *((Path(folder) / name).read_bytes() for name in names)]
    info = {"Title": f"{catalog.meta['title_en']}: meeting handout", "Subject": "; ".join(ATTRIBUTIONS),
            "Creator": "layers.scenes.deck"}
    write_bytes_atomic(out, join_pdfs(pages, info=info))
    if reuse:
        to_cache(out, cached)
    return DeckReport(path=out, pages=total, seconds=time.perf_counter() - started)
