"""Every research citation in the page's language (issue 15): the sources, notes, evidence and uncertainty bases
recorded in English with each feature read as Chinese in zh popups and tables (curated wordings in
geodata/curation/translations.csv). A new citation without a wording fails here, listed with its layer and field."""
from collections.abc import Iterator

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
def test_citations_keep_names_figures_and_files_and_read_as_recorded_in_english(catalog, layers, layer_id):
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
            assert feat_en["properties"][field] == safe_text(pick_lang(row[field], "en"))  # as recorded
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
