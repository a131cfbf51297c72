"""Every research citation in the page's language (issue 15): the sources, notes, evidence and uncertainty bases
recorded with each feature read as Chinese in zh popups and tables, and as English on en pages (curated wordings in
geodata/curation/translations.csv, columns zh and en). A new citation without a wording fails here, listed with its
layer and field; a wording that drops a date, figure, URL or file name of the recorded text fails too."""
import csv
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from _language import leaks  # tests/_language.py: the scanner of the page tests

from layers.core.datatext import has_wording, pick_lang, plan_ref_text
from layers.map.elements import safe_text
from layers.map.load import unlocated_parks
from layers.map.render import CODED_FIELDS, PLAN_REF_FIELDS, display_features
from layers.map.tables import unlocated_parks_table

#: Popup fields whose values are codes, ids, dates or lists of names, never sentences.
CODES = frozenset({"id", "name_zh", "aliases_zh", "lines", "line_id", "opened", "code", "colour", "town_codes",
                   "town_computed", *CODED_FIELDS})
#: Fields of the unlocated-parks list that are citations.
UNLOCATED_TEXTS = ("reason", "source")
#: Chinese an en page may show in a popup's free text: the plan's own name of a park, quoted in its English
#: description to say which name the plan uses (a subset of tests/_language.py's EN_CJK_OK). 1 entry.
EN_CITATION_CJK_OK = frozenset({"临港卫星产业基地"})
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def citations(catalog, layers) -> Iterator[tuple[str, str]]:
    """(layer.field, text) for every free text a popup or the unlocated-parks table shows, as recorded."""
    for spec in catalog.layers:
        gdf = layers[spec.id]
        for field in dict.fromkeys([*spec.tooltip, *spec.popup]):
            if field in CODES or field.endswith("_en") or field not in gdf.columns:
                continue
            for value in gdf[field].tolist():
                if isinstance(value, str) and value.strip():
                    yield f"{spec.id}.{field}", value
    parks = unlocated_parks()
    for field in UNLOCATED_TEXTS:
        for value in parks.get(field, []):
            if isinstance(value, str) and value.strip():
                yield f"unlocated_parks.{field}", value


def _zh(where: str, text: str) -> str:
    return plan_ref_text(text, "zh") if where.rsplit(".", 1)[1] in PLAN_REF_FIELDS else pick_lang(text, "zh")


def test_every_citation_reads_in_chinese(catalog, layers):
    texts = dict((text, where) for where, text in citations(catalog, layers))
    assert len(texts) > 100, "the inventory saw almost nothing: have the popup fields changed?"
    untranslated = sorted((where, text) for text, where in texts.items() if leaks([(where, _zh(where, text))], "zh"))
    assert not untranslated, (f"{len(untranslated)} of {len(texts)} citation texts have no Chinese wording in "
                              "geodata/curation/translations.csv:\n"
                              + "\n".join(f"{where}: {text!r}" for where, text in untranslated))


def test_every_curated_wording_is_still_used(catalog, layers):
    """A wording whose text no layer carries any more is dead weight (a renamed source, a rebuilt note)."""
    from layers.core.datatext import _data_translations

    shown = {text for _, text in citations(catalog, layers)}
    used = {k for k in _data_translations() if "{" in k or k in shown}
    texts = {str(v) for spec in catalog.layers for f in ("area_note", "fyp_zone_ref", "ref_source", "facts_source",
                                                          "source", "licence", "area_year", "accuracy_note")
             if f in layers[spec.id].columns for v in layers[spec.id][f].tolist()}
    texts |= {str(u.get("plan_ref", "")) for spec in catalog.layers for u in spec.undrawn}
    unused = set(_data_translations()) - used - texts
    assert not unused, sorted(unused)


@pytest.mark.parametrize("layer_id", ["rail_lines", "stations", "parks"])
def test_citations_keep_names_figures_and_files_and_read_in_both_languages(catalog, layers, layer_id):
    spec = catalog.layer(layer_id)
    zh = display_features(spec, layers[layer_id], lang="zh", catalog=catalog)
    en = display_features(spec, layers[layer_id], lang="en", catalog=catalog)
    for feat_zh, feat_en, (_, row) in zip(zh, en, layers[layer_id].iterrows(), strict=True):
        for field in ("source", "notes", "town_evidence", "accuracy_basis"):
            if field not in feat_zh["properties"] or not isinstance(row.get(field), str):
                continue
            assert has_wording(row[field]) or not leaks([(field, row[field])], "zh"), (layer_id, field)
            for kept in ("places.csv", "songjiang_facts.md", "3100.json", "2026-06-14", "GCJ-02"):
                if kept in row[field]:
                    assert kept in pick_lang(row[field], "zh"), (kept, row[field])
            assert feat_en["properties"][field] == safe_text(pick_lang(row[field], "en"))  # the en wording
            assert feat_zh["properties"][field] == safe_text(pick_lang(row[field], "zh"))


def test_a_templated_uncertainty_basis_is_worded_with_its_figures():
    new = "OSM ±30 m; 412 m from places.csv (±50 m)"  # a figure no station has today
    assert pick_lang(new, "zh") == "OSM ±30 米；与 places.csv 的点位（±50 米）相距 412 米"
    assert pick_lang(new, "en") == new
    notes = "OSM ±30 m; 9 m from research notes x.md §1"
    assert pick_lang(notes, "zh") == "OSM ±30 米；与研究笔记 x.md §1 的点位相距 9 米"
    assert pick_lang("OSM ±30 m; a; b", "zh") == "OSM ±30 m; a; b"  # a placeholder never spans parts


def test_the_unlocated_parks_table_reads_in_chinese(catalog):
    table = unlocated_parks_table(unlocated_parks(), catalog, "zh")
    cells = [("table cell", str(v)) for row in table.itertuples(index=False) for v in row]
    assert not leaks(cells, "zh"), leaks(cells, "zh")[:5]


def test_a_kml_download_shows_the_chinese_wording_above_the_recorded_citation(tmp_path, layers, catalog):
    """Google Earth shows a KML's Description on click: the citation in Chinese, then as recorded; the attribute
    itself (ExtendedData) keeps the recorded text."""
    import html
    import zipfile

    from layers.export.download import export_layers

    (path,) = export_layers("stations", fmt="kml", crs=4326, out_dir=tmp_path, layers=layers, catalog=catalog)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            text = zf.read(next(n for n in zf.namelist() if n.endswith(".kml"))).decode("utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    recorded = "English name romanised (pinyin, one word per name part) by the build"
    zh = pick_lang(recorded, "zh")
    assert zh != recorded and html.escape(f"{zh}<br>{recorded}") in text
    assert f'<SimpleData name="notes">{recorded}</SimpleData>' in text


def en_page_texts(catalog, layers) -> Iterator[tuple[str, str]]:
    """(layer.field, text) for every free text an en popup or the en unlocated-parks table shows, as shown.
    Left out: coded values (worded through the catalogue's labels) and a place's official Chinese name (``name_zh``,
    shown beside its English name); every other field an en popup shows (the unit a point lies in, its zone) is in
    English."""
    from layers.map.render import display_features

    for spec in catalog.layers:
        for feat in display_features(spec, layers[spec.id], lang="en", catalog=catalog):
            for field, value in feat["properties"].items():
                if field.startswith("_raw_") or field in CODES or field == "name_zh":
                    continue
                yield f"{spec.id}.{field}", str(value)
    table = unlocated_parks_table(unlocated_parks(), catalog, "en")
    for column in table.columns:
        for value in table[column].tolist():
            yield f"unlocated_parks.{column}", str(value)


def test_no_citation_on_an_en_page_shows_chinese_outside_the_allowlist(catalog, layers):
    """Before the en wordings, 99 of these texts showed Chinese on en pages (98 citations and the allowed name)."""
    from _language import EN_CJK_OK

    assert EN_CITATION_CJK_OK <= EN_CJK_OK
    shown = dict((text, where) for where, text in en_page_texts(catalog, layers))
    assert len(shown) > 100, "the inventory saw almost nothing: have the popup fields changed?"
    chinese = sorted((where, text) for text, where in shown.items()
                     if set(CJK.findall(text)) - EN_CITATION_CJK_OK)
    assert not chinese, (f"{len(chinese)} texts on en pages show Chinese; give each an English wording (column en "
                         "of geodata/curation/translations.csv):\n"
                         + "\n".join(f"{where}: {text!r}" for where, text in chinese))
    assert sum(bool(CJK.search(text)) for text in shown) <= len(EN_CITATION_CJK_OK)


#: What a wording must keep of the recorded text, verbatim: dates, URLs and web sites, file names.
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
URL_OR_FILE = re.compile(r"https?://[^\s)]+|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*"
                         r"\.(?:md|csv|txt|json|geojson|gpkg|zip|com|cn|org|net|blog|so)\b", re.ASCII)
#: Numbers: "1,500" is 1500, "40万" (ten thousands) is 400000; the coordinates "121.1856,31.0532" are two numbers.
NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?", re.ASCII)
WAN = re.compile(r"(\d+(?:\.\d+)?)\s*万")
#: Units written with a plain 2 ("km2"): the 2 is no figure.
SQUARE = re.compile(r"\b(k?m)2\b", re.ASCII)


def figures(text: str) -> set[Decimal]:
    text = WAN.sub(lambda m: str(Decimal(m.group(1)) * 10000), SQUARE.sub(r"\1²", text))
    return {Decimal(n.replace(",", "")) for n in NUMBER.findall(text)}


def en_wordings() -> list[tuple[str, str]]:
    from layers.core import paths

    with open(paths.CURATION_DIR / "translations.csv", encoding="utf-8", newline="") as fh:
        return [(row["text"], row["en"]) for row in csv.DictReader(fh) if row["en"]]


@pytest.mark.parametrize(("recorded", "en"), en_wordings(), ids=lambda v: v[:40])
def test_an_english_wording_keeps_the_dates_figures_urls_and_files_of_the_recorded_text(recorded, en):
    assert set(DATE.findall(recorded)) <= set(DATE.findall(en)), (recorded, en)
    assert set(URL_OR_FILE.findall(recorded)) <= set(URL_OR_FILE.findall(en)), (recorded, en)
    assert figures(recorded) <= figures(en), sorted(figures(recorded) - figures(en))
    if "{" not in recorded:
        assert not CJK.search(en), en


def test_the_figure_reader_counts_ten_thousands_and_separators():
    assert figures("the 40万 m2 park; ~1500亩") == figures("the 400,000 m² park; ~1,500 mu") == {400000, 1500}
    assert figures("(121.1856,31.0532)") == {Decimal("121.1856"), Decimal("31.0532")}


def test_exports_keep_each_citation_as_recorded(tmp_path, layers, catalog):
    """The English wording is for the page: a downloaded file's attributes keep the research text as recorded."""
    import json

    from layers.export.download import export_layers

    (path,) = export_layers("stations", fmt="geojson", crs=4326, out_dir=tmp_path, layers=layers, catalog=catalog,
                            lang="en")
    if path.suffix == ".zip":
        import zipfile

        with zipfile.ZipFile(path) as zf:
            text = zf.read(next(n for n in zf.namelist() if n.endswith("json"))).decode("utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    exported = {f["properties"]["id"]: f["properties"] for f in json.loads(text)["features"]}
    recorded = layers["stations"].set_index("id")["town_evidence"]
    worded = [i for i, v in recorded.items() if isinstance(v, str) and CJK.search(v) and pick_lang(v, "en") != v]
    assert worded, "no station citation has an English wording"
    for station in worded:
        assert exported[station]["town_evidence"] == recorded[station]
