"""Values in the page's language (issue 15): popups and tooltips of every layer, and the Chinese half of an export
README, with coded values through their labels, figures through the one formatter and no copy in the other
language."""
import json
import re
import zipfile

import pytest
from _language import leaks  # tests/_language.py: the scanner of the page tests

from layers.core.numbers import missing_text
from layers.map.render import build_map, display_features, lang_fields

#: Popup fields that are codes, ids, dates or lists of names: shown as recorded. Citations (source, notes,
#: town_evidence, accuracy_basis, …) are not among them: they read in the page's language (test_citations.py).
RECORDED = {"aliases_zh", "lines", "line_id", "opened", "code", "colour", "town_codes", "industries"}


@pytest.mark.parametrize("layer_id", ["district", "towns", "zones", "structure", "rail_lines", "stations", "parks"])
def test_popups_in_zh_carry_no_english_copy_and_label_every_code(catalog, layers, layer_id):
    spec = catalog.layer(layer_id)
    features = display_features(spec, layers[layer_id], lang="zh", catalog=catalog)
    assert features
    for feat in features:
        props = feat["properties"]
        assert not [k for k in props if k.endswith("_en")], "an English copy in a Chinese popup"
        for field, value in props.items():
            if field.startswith("_raw_") or field in RECORDED or field in ("id", "name_zh"):
                continue
            assert value not in ("None", "nan", "True", "False"), (field, value)
            assert not leaks([(field, value)], "zh"), (layer_id, field, value)


def test_popup_figures_use_the_formatter_and_missing_is_said(catalog, layers):
    towns = display_features(catalog.layer("towns"), layers["towns"], lang="en", catalog=catalog)
    values = [f["properties"]["population_2020"] for f in towns]
    assert set(values) == {missing_text("en")}  # no census figure by town: said, never 0
    employed = [f["properties"]["employment_2023"] for f in towns]
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})*", v) for v in employed), employed
    areas = [f["properties"]["area_km2"] for f in towns]
    assert all(re.fullmatch(r"≈ \d+\.\d{1,2}", a) for a in areas), areas  # schematic: ≈, 1–2 decimals


def test_english_tooltips_name_the_feature_in_english_first(catalog):
    spec = catalog.layer("stations")
    assert lang_fields(spec.tooltip, "en")[0] == "name_en"
    assert lang_fields(spec.tooltip, "zh")[0] == "name_zh" and "name_en" not in lang_fields(spec.tooltip, "zh")


def test_the_chinese_half_of_an_export_readme_is_chinese(tmp_path, layers, catalog):
    from layers.export.download import export_layers

    (path,) = export_layers("parks", fmt="shp", crs=4326, out_dir=tmp_path, layers=layers, catalog=catalog)
    with zipfile.ZipFile(path) as zf:
        readme = zf.read(next(n for n in zf.namelist() if n.endswith("README.txt"))).decode("utf-8")
    zh = readme.split("-" * 40)[0]
    assert catalog.layer("parks").provenance.text("source", "zh") in zh
    assert "无（全部要素）" in zh and "WGS 84（经纬度）" in zh and "规划第 " in zh
    assert "Point anchors" not in zh and "none (all features)" not in zh


@pytest.mark.parametrize("lang, titles", [("zh", ("放大", "缩小")), ("en", ("Zoom in", "Zoom out"))])
def test_folium_maps_title_their_zoom_buttons_in_the_page_language(layers, lang, titles):
    """The offline HTML, the meeting scenes and the map downloads are folium's own output: their zoom buttons too."""
    html = build_map(layers, lang=lang).get_root().render()
    calls = re.findall(r"L\.control\.zoom\(\{.*?\}\)", html, re.S)
    assert len(calls) == 1, "one zoom control, ours (folium's own is off)"
    found = [json.loads(v) for v in re.findall(r'zoom(?:In|Out)Title: ("[^"]*")', calls[0])]
    assert tuple(found) == titles
    if lang == "zh":
        assert "Zoom in" not in html and "Zoom out" not in html
