"""A scene written to a file (PNG, PDF or HTML) atomically, with metadata."""
from __future__ import annotations

import hashlib
import math
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from layers.core import paths
from layers.core.catalog import Catalog, get_catalog
from layers.core.errors import FontMissingError, SceneError, StoreError
from layers.core.files import atomic_output
from layers.core.i18n import LANGS
from layers.core.store import open_store
from layers.scenes.figure import build_figure
from layers.scenes.fonts import missing_glyphs
from layers.scenes.frame import ATTRIBUTIONS, MIN_PNG_WIDTH_PX, PAPER_MM
from layers.scenes.web import scene_html, write_scene_html

#: zlib level of the scene PNGs (1 = fastest; the map's flat colours compress almost as well as at 6).
PNG_COMPRESS_LEVEL = 1


def _metadata(scene_id: str, fmt: str, catalog: Catalog) -> dict[str, Any]:
    title = f"{catalog.meta.get('title_en', '')}: {scene_id}"
    source = "; ".join(ATTRIBUTIONS)
    if fmt == "pdf":
        return {"Title": title, "Subject": source, "Creator": "layers.present", "CreationDate": None}
    return {"Title": title, "Copyright": source, "Software": "layers.present"}


def _save(fig: Figure, out: Path, *, fmt: str, dpi: int, metadata: dict[str, Any]) -> None:
    """Save through a temporary file in the target folder and a rename; fail on any missing glyph."""
    missing = missing_glyphs(fig)
    if missing:
        shown = ", ".join(f"{c!r} (U+{ord(c):04X}) in {t[:30]!r}" for c, t in missing.items())
        raise FontMissingError(f"The CJK font cannot draw {shown}; change the text or the font.")
    with atomic_output(out, suffix=f".{fmt}") as tmp:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # zlib level 1: a PNG about 2 % larger than the default level 6, written in half the time.
            extra = {"pil_kwargs": {"compress_level": PNG_COMPRESS_LEVEL}} if fmt == "png" else {}
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata, **extra)
        glyph = [str(w.message) for w in caught if "missing from font" in str(w.message)]
        if glyph:
            raise FontMissingError(f"Text fell back to missing-glyph boxes: {glyph[0]}")


def _png_dpi(paper: str, dpi: int) -> int:
    width_in = PAPER_MM[paper][0] / 25.4
    return max(dpi, math.ceil(MIN_PNG_WIDTH_PX / width_in))


def _write_figure(fmt: str, scene_id: str, *, town: str | None, lang: str, paper: str, dpi: int, out: Path) -> None:
    """PNG (widened to at least 2400 px) or PDF of the printed page."""
    catalog = get_catalog()
    fig = build_figure(scene_id, town=town, lang=lang, paper=paper, catalog=catalog)
    try:
        _save(fig, out, fmt=fmt, dpi=_png_dpi(paper, dpi) if fmt == "png" else dpi,
              metadata=_metadata(scene_id, fmt, catalog))
    finally:
        plt.close(fig)


def write_figure_files(scene_id: str, *, town: str | None, lang: str, paper: str, dpi: int,
                       outs: Mapping[str, Path]) -> None:
    """Draw a scene's page once and save it in each format of ``outs`` ({"png": path, "pdf": path})."""
    catalog = get_catalog()
    fig = build_figure(scene_id, town=town, lang=lang, paper=paper, catalog=catalog)
    try:
        for fmt, out in outs.items():
            _save(fig, Path(out), fmt=fmt, dpi=_png_dpi(paper, dpi) if fmt == "png" else dpi,
                  metadata=_metadata(scene_id, fmt, catalog))
    finally:
        plt.close(fig)


def inputs_fingerprint() -> str:
    """A hash of everything a scene file is drawn from: the layer files, the catalogue and scenes, the code that
    draws (sizes and modification times, so it costs a few stat calls)."""
    digest = hashlib.sha256()
    roots = [paths.GEODATA_DIR, paths.LAYERS_DIR]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                stat = path.stat()
                digest.update(f"{path.relative_to(root)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    try:  # an import in the workspace store changes the layers without touching geodata/
        store = open_store()
        digest.update(f"store|{store.url}|{store.version()}\n".encode())
    except StoreError:
        digest.update(b"store|unreadable\n")
    return digest.hexdigest()[:16]


def cache_path(name: str, *, lang: str, paper: str, dpi: int, fingerprint: str) -> Path:
    """Where a drawn scene file is kept for reuse: one folder per inputs fingerprint and settings."""
    return paths.SCENE_CACHE_DIR / fingerprint / f"{lang}_{paper}_{dpi}" / name


def from_cache(cached: Path, out: Path) -> bool:
    """Copy a cached scene file to ``out``; False when there is none."""
    if not cached.is_file():
        return False
    shutil.copyfile(cached, out)
    return True


def to_cache(out: Path, cached: Path) -> None:
    """Keep a copy of a freshly drawn scene file (atomically; a cache that cannot be written is skipped)."""
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(cached, suffix=cached.suffix) as tmp:
            shutil.copyfile(out, tmp)
    except OSError:
        pass        # a read-only project folder: the pack is still written, only not reused


def _write_html(scene_id: str, *, town: str | None, lang: str, paper: str, dpi: int, out: Path) -> None:
    """The self-contained web map (paper and dpi do not apply)."""

    write_scene_html(scene_id, town=town, lang=lang, out=out)


#: Output formats: name → writer(scene_id, town=, lang=, paper=, dpi=, out=).
FORMATS: dict[str, Callable[..., None]] = {
    "png": partial(_write_figure, "png"),
    "pdf": partial(_write_figure, "pdf"),
    "html": _write_html,
}


def render_scene(scene_id: str, *, town: str | None = None, fmt: str = "png", out: Path, lang: str = "zh",
                 paper: str = "A4", dpi: int = 200) -> Path:
    """Render a meeting scene to a PNG, PDF or self-contained HTML file, offline (no tiles, no network).

    Parameters
    ----------
    scene_id
        A scene id of ``layers/scenes.toml``.
    town
        The town's 9-digit code, for the "town" scene.
    fmt
        "png", "pdf" or "html".
    out
        The file to write (atomically: a temporary file, then a rename).
    lang, paper, dpi
        "zh"/"en"; "A4"/"A3" landscape; PNG resolution (raised so the image is at least 2400 px wide).

    Returns
    -------
    Path
        ``out``.
    """
    if fmt not in FORMATS:
        raise SceneError(f"Unknown format {fmt!r}; use one of {tuple(FORMATS)}.")
    if lang not in LANGS:
        raise SceneError(f"Unknown language {lang!r}; use one of {LANGS}.")
    if not isinstance(dpi, int) or not 72 <= dpi <= 1200:
        raise SceneError(f"dpi must be an integer between 72 and 1200, got {dpi!r}.")
    FORMATS[fmt](scene_id, town=town, lang=lang, paper=paper, dpi=dpi, out=Path(out))
    return Path(out)


def scene_bytes(scene_id: str, *, town: str | None = None, lang: str = "zh", fmt: str = "png") -> bytes:
    """One scene file (png, pdf or html) as bytes, for a download button."""
    if fmt == "html":
        return scene_html(scene_id, town=town, lang=lang).encode("utf-8")
    with tempfile.TemporaryDirectory(prefix="songjiang-scene-") as folder:
        out = render_scene(scene_id, town=town, fmt=fmt, out=Path(folder) / f"scene.{fmt}", lang=lang)
        return out.read_bytes()
