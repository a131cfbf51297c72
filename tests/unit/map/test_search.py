"""The gazetteer: every kind of place is found by zh, en and pinyin names, and hostile queries never raise."""
from __future__ import annotations

import pytest

from layers.map.search import GazetteerEntry, build_gazetteer, fold, search_places


@pytest.fixture(scope="module")
def gazetteer(layers) -> list[GazetteerEntry]:
    return build_gazetteer(layers)


def test_every_named_feature_is_indexed_with_wgs84_bounds(gazetteer, layers):
    expected = sum(len(layers[k]) for k in ("towns", "zones", "structure", "parks", "rail_lines", "stations"))
    assert len(gazetteer) == expected
    for e in gazetteer:
        minx, miny, maxx, maxy = e.bounds
        assert 120.8 <= minx <= maxx <= 121.6 and 30.7 <= miny <= maxy <= 31.3, e.feature_id
        lat, lon = e.centre
        assert miny <= lat <= maxy and minx <= lon <= maxx, e.feature_id


def test_pinyin_has_no_tones_and_no_suffix(gazetteer):
    jiuting = next(e for e in gazetteer if e.feature_id == "310117107")
    assert jiuting.pinyin == "jiuting"
    assert all(e.pinyin.isascii() for e in gazetteer if e.name_zh.isalpha() and "/" not in e.name_zh)


@pytest.mark.parametrize("query, kind, feature_id", [
    ("九亭", "town", "310117107"),
    ("jiuting", "town", "310117107"),
    ("Jiuting Town", "town", "310117107"),
    ("九亭镇", "town", "310117107"),
    ("ＪＩＵＴＩＮＧ　ＴＯＷＮ", "town", "310117107"),      # full width, ideographic space
    ("  JiuTing  ", "town", "310117107"),
    ("sheshan", "town", "310117103"),
    ("佘山镇", "town", "310117103"),
    ("Yueyang Subdistrict", "town", "310117001"),
    ("岳阳", "town", "310117001"),
    ("yueyangjiedao", "town", "310117001"),
    ("L9", "rail_line", "L9"),
    ("l9", "rail_line", "L9"),
    ("9号线", "rail_line", "L9"),
    ("Line 9", "rail_line", "L9"),
    ("金山铁路", "rail_line", "JSR"),
    ("松江大学城", "park", "park-university-town"),
    ("辰山植物园", "park", "park-chenshan-botanical"),
    ("G60科创云廊", "park", "park-lingang-sci-tech-city"),
    ("醉白池", "station", "stn-zuibaichi-metro"),
    ("zuibaichi", "station", "stn-zuibaichi-metro"),
    ("产城融合", "zone", "industry_city"),
    ("一廊", "structure", "corridor_g60"),
    ("松江枢纽", "structure", "core_hub"),
])
def test_query_finds_the_right_entry_first(gazetteer, query, kind, feature_id):
    results = search_places(gazetteer, query)
    assert results, query
    assert (results[0].kind, results[0].feature_id) == (kind, feature_id)


def test_university_town_finds_both_the_area_and_the_station(gazetteer):
    ids = [e.feature_id for e in search_places(gazetteer, "松江大学城")]
    assert {"park-university-town", "stn-songjiangdaxuecheng-metro"} <= set(ids)


def test_town_wins_a_tie_with_its_station(gazetteer):
    results = search_places(gazetteer, "sijing")
    assert [e.kind for e in results[:2]] == ["town", "station"]


def test_exact_before_prefix_before_substring(gazetteer):
    results = search_places(gazetteer, "松江新城", limit=20)
    kinds_ids = [(e.kind, e.feature_id) for e in results]
    # Exact matches (the zone's short name, the station) come before names that only start or contain it.
    assert kinds_ids[:2] == [("zone", "new_town"), ("station", "stn-songjiangxincheng-metro")]
    assert len(results) > 2


def test_limit_is_respected(gazetteer):
    assert len(search_places(gazetteer, "路", limit=3)) == 3
    assert search_places(gazetteer, "路", limit=0) == []


@pytest.mark.parametrize("query", [
    "<script>alert(1)</script>", "x" * 5000, "九" * 5000, ".*(", "[", "\\", "(?P<x>", "%s%n", "'; DROP TABLE towns;--",
    "", "   ", "\u200b\u202e", "\x00", "nonexistent place",
])
def test_hostile_or_unmatched_query_returns_empty(gazetteer, query):
    assert search_places(gazetteer, query) == []


@pytest.mark.parametrize("query", [None, 42, b"jiuting", ["九亭"]])
def test_non_string_query_returns_empty(gazetteer, query):
    assert search_places(gazetteer, query) == []


def test_zero_width_characters_are_ignored(gazetteer):
    assert search_places(gazetteer, "九\u200b亭")[0].feature_id == "310117107"


def test_fold_strips_suffixes_width_and_quotes():
    assert fold("Ｊｉｕｔｉｎｇ Town") == "jiuting"
    assert fold("九亭镇") == "九亭" and fold("岳阳街道") == "岳阳"
    assert fold("“松江枢纽”") == "松江枢纽"
    assert fold(None) == ""


def test_empty_layers_give_an_empty_gazetteer():
    assert build_gazetteer({}) == []


def test_stations_are_found_by_their_aliases_and_with_zhan(layers):
    from layers.map.search import build_gazetteer, search_places

    gaz = build_gazetteer(layers)
    first = search_places(gaz, "松江南站")[0]
    assert first.kind == "station" and first.name_zh.startswith("上海松江站")
    hit = search_places(gaz, "泗泾站")[0]
    assert (hit.kind, hit.name_zh) == ("station", "泗泾")
    assert search_places(gaz, "九亭地铁站")[0].name_zh == "九亭"
