"""Name handling: pinyin romanisation and the normalisation used to match unit names."""
from __future__ import annotations

import re
import unicodedata

from pypinyin import lazy_pinyin

# Suffixes a planner may leave off when typing a unit's name.
UNIT_SUFFIXES_ZH = ("街道", "镇")
UNIT_SUFFIXES_EN = ("subdistrict", "town")
# Official English names of Line 9 stations; other stops are romanised.
KNOWN_EN = {
    "上海松江站": "Shanghai Songjiang Station",
    "松江体育中心": "Songjiang Sports Center",
    "松江新城": "Songjiang Xincheng",
    "松江大学城": "Songjiang University Town",
    "醉白池": "Zuibaichi",
}


def romanise(name_zh: str, *, slug: bool = False) -> str:
    """Romanise a Chinese name with pinyin ("九亭" → "Jiuting"); ``slug`` gives "jiuting" for ids."""
    if not slug and name_zh in KNOWN_EN:
        return KNOWN_EN[name_zh]
    syllables = [s for s in lazy_pinyin(name_zh) if s.strip()]
    if slug:
        return re.sub(r"[^a-z0-9]+", "-", "".join(syllables).lower()).strip("-")
    text = "".join(syllables)
    # Split off a trailing road word so "三新北路" reads "Sanxinbei Lu".
    text = re.sub(r"lu$", " Lu", text) if len(syllables) > 2 else text
    return text[:1].upper() + text[1:]


def normalise_name(text: str) -> str:
    """Fold a name for matching: NFKC, lower case, no spaces, no 镇/街道/Town/Subdistrict suffix."""
    t = unicodedata.normalize("NFKC", text or "").strip().lower()
    t = re.sub(r"\s+", " ", t)
    for suffix in UNIT_SUFFIXES_EN:
        if t.endswith(" " + suffix):
            t = t[: -len(suffix) - 1]
    for suffix in UNIT_SUFFIXES_ZH:
        if t.endswith(suffix) and len(t) > len(suffix):
            t = t[: -len(suffix)]
    return t.replace(" ", "")
