"""Data texts in the page's language: the matching half of a bilingual "中文 / English" field, the curated wording
of a note the sources give in one language only (geodata/curation/translations.csv), plan and article references."""
from __future__ import annotations

import csv
import functools
import re

from layers.core import paths
from layers.core.i18n import t

#: A placeholder of a template row ("OSM ±{osm} m; {d} m from {where}"): a part the build fills in.
_FIELD = re.compile(r"\{(\w+)\}")


@functools.cache
def _data_translations() -> dict[str, dict[str, str]]:
    """Curated wordings of the notes the source data gives in one language (geodata/curation/translations.csv)."""
    path = paths.CURATION_DIR / "translations.csv"
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        return {row["text"]: {"zh": row["zh"], "en": row["en"]} for row in csv.DictReader(fh)}


@functools.cache
def _templates() -> tuple[tuple[re.Pattern[str], dict[str, str]], ...]:
    """Rows whose text has ``{name}`` placeholders, as patterns: texts the build writes from a template with
    figures and file names in it (a stop's uncertainty basis), worded once for every value."""
    out = []
    for text, wordings in _data_translations().items():
        if not _FIELD.search(text):
            continue
        parts = _FIELD.split(text)  # literal, name, literal, name, …, literal
        pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^;]+?)" for i, p in enumerate(parts))
        out.append((re.compile(pattern), wordings))
    return tuple(out)


def _curated(text: str, lang: str) -> str | None:
    known = _data_translations().get(text)
    if known:
        return known.get(lang) or text
    for pattern, wordings in _templates():
        match = pattern.fullmatch(text)
        if match:
            wording = wordings.get(lang)
            return wording.format(**match.groupdict()) if wording else text
    return None


def has_wording(text: str) -> bool:
    """Whether ``text`` has a curated wording in translations.csv (as itself or through a template row)."""
    return _curated(str(text), "zh") is not None


def pick_lang(text: str, lang: str = "zh") -> str:
    """A data text in ``lang``: the matching half of a bilingual "中文 / English" text, or its curated wording
    (geodata/curation/translations.csv, an empty cell meaning "as recorded"); otherwise the text itself."""
    text = str(text)
    curated = _curated(text, lang)
    if curated is not None:
        return curated
    zh, sep, en = text.partition(" / ")
    if not sep or not any("\u4e00" <= ch <= "\u9fff" for ch in zh) or any("\u4e00" <= ch <= "\u9fff" for ch in en):
        return text
    return en.strip() if lang == "en" else zh.strip()


def plan_ref_text(ref: str, lang: str) -> str:
    """A reference to the plan ("FYP 243–256") or an article ("seed 001 line 7") in ``lang``: "规划第 243–256 行",
    "文章 001 第 7 行" in zh; any other text through :func:`pick_lang`."""
    ref = pick_lang(str(ref), lang)
    if lang == "zh" and ref.startswith("FYP ") and "(" not in ref:
        return t("ref_plan", lang, lines=ref.removeprefix("FYP ").replace("FYP ", "").replace(", ", "、"))
    seed, sep, line = ref.removeprefix("seed ").partition(" line ")
    if lang == "zh" and ref.startswith("seed ") and sep:
        return t("ref_seed", lang, seed=seed, line=line)
    return ref
