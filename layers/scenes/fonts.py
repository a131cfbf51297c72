"""The CJK font the print figures need, and a check for glyphs it lacks."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text

from layers.core.caches import cached
from layers.core.errors import FontMissingError

#: Debian's fonts-noto-cjk: the Simplified Chinese face inside the collection.
CJK_FONT_FILE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_FONT_BOLD_FILE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
CJK_FAMILY = "Noto Sans CJK SC"


@dataclass(frozen=True)
class CjkFont:
    """The CJK face used for every text element, with its character map."""

    path: Path
    family: str
    face_index: int
    cmap: frozenset[int]


@cached(maxsize=1)
def find_cjk_font() -> CjkFont:
    """Find Noto Sans CJK SC (Debian's fonts-noto-cjk) by path through matplotlib's font manager.

    Raises
    ------
    FontMissingError
        When the font file is absent, with the package to install.
    """
    if not CJK_FONT_FILE.is_file():
        raise FontMissingError(f"The CJK font {CJK_FONT_FILE} is missing, so Chinese text cannot be printed: "
                               f"install it with `apt-get install fonts-noto-cjk`.")
    for font_file in (CJK_FONT_FILE, CJK_FONT_BOLD_FILE):
        known = {Path(f.fname) for f in font_manager.fontManager.ttflist}
        if font_file.is_file() and font_file not in known:
            font_manager.fontManager.addfont(str(font_file))
    entry = next((f for f in font_manager.fontManager.ttflist
                  if Path(f.fname) == CJK_FONT_FILE and f.name == CJK_FAMILY), None)
    if entry is None:
        raise FontMissingError(f"{CJK_FONT_FILE} holds no {CJK_FAMILY!r} face; reinstall it with "
                               f"`apt-get install --reinstall fonts-noto-cjk`.")
    from fontTools.ttLib import TTCollection

    with TTCollection(str(CJK_FONT_FILE), lazy=True) as collection:
        cmap = frozenset(collection.fonts[entry.index].getBestCmap())
    return CjkFont(path=CJK_FONT_FILE, family=entry.name, face_index=entry.index, cmap=cmap)


def missing_glyphs(fig: Figure, font: CjkFont | None = None) -> dict[str, str]:
    """Characters of the figure's visible texts that the CJK font cannot draw (character → a text showing it)."""
    font = font or find_cjk_font()
    missing: dict[str, str] = {}
    for artist in fig.findobj(Text):
        if not artist.get_visible():
            continue
        text = artist.get_text()
        for char in text:
            if char not in "\n\t" and ord(char) not in font.cmap:
                missing.setdefault(char, text)
    return missing
