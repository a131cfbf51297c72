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


#: Road and place words split off as their own word ("人民北路" → "Renmin Beilu"), longest first.
_WORD_SUFFIXES = ("火车站", "公路", "东路", "南路", "西路", "北路", "中路", "一路", "二路", "三路", "小镇", "路", "街")
_TAIL_WORDS = ("东", "南", "西", "北")


def _pinyin_word(name_zh: str) -> str:
    text = "".join(s for s in lazy_pinyin(name_zh) if s.strip())
    return text[:1].upper() + text[1:]


def _segments(name_zh: str) -> list[str]:
    """Cut a stop name after each road word: "荣乐路西林北路" → ["荣乐路", "西林北路"]."""
    return [s for s in re.split(r"(?<=[路街])", name_zh) if s]


def _words(segment: str) -> list[str]:
    for suffix in _WORD_SUFFIXES:
        if segment.endswith(suffix) and len(segment) - len(suffix) >= (2 if len(suffix) == 2 else 1):
            return [*_words(segment[: -len(suffix)]), _pinyin_word(suffix)]
    for tail in _TAIL_WORDS:
        if segment.endswith(tail) and len(segment) > 2:
            return [*_words(segment[:-1]), _pinyin_word(tail)]
    return [_pinyin_word(segment)]


def romanise(name_zh: str, *, slug: bool = False) -> str:
    """Romanise a Chinese name with pinyin, one word per name part ("人民北路" → "Renmin Beilu",
    "九亭" → "Jiuting"); ``slug`` gives "renminbeilu" for ids (unchanged by the word breaks)."""
    if not slug and name_zh in KNOWN_EN:
        return KNOWN_EN[name_zh]
    syllables = [s for s in lazy_pinyin(name_zh) if s.strip()]
    if slug:
        return re.sub(r"[^a-z0-9]+", "-", "".join(syllables).lower()).strip("-")
    return " ".join(w for seg in _segments(name_zh) for w in _words(seg))


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
