"""Issue 13: every station and park carries its town, stated by a source first, otherwise computed and labelled."""
from __future__ import annotations

import csv

import pytest

from layers.build.attribution import TOWN_BASES
from layers.core import paths
from layers.map.stats import town_contents

SOURCES = paths.SOURCES_DIR


def _rows(name: str) -> list[dict[str, str]]:
    with (SOURCES / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


STATED_STATIONS = [r for r in _rows("station_towns.csv") if r["town_code"]]
STATED_PARKS = [r for r in _rows("park_towns.csv") if r["town_code"]]


def _bare(name: str) -> str:
    return name.split("（")[0].split(" (")[0]


def test_every_point_carries_a_town_basis_and_its_codes(layers):
    for layer_id in ("stations", "parks"):
        frame = layers[layer_id]
        assert set(frame["town_basis"]) <= set(TOWN_BASES), layer_id
        for code, codes in zip(frame["town_code"], frame["town_codes"], strict=False):
            assert code and code in codes.split(","), layer_id


@pytest.mark.parametrize("row", STATED_STATIONS, ids=[r["name_zh"] for r in STATED_STATIONS])
def test_a_stated_station_is_counted_and_listed_in_its_stated_unit(layers, row):
    stations = layers["stations"][[_bare(n) == row["name_zh"] for n in layers["stations"]["name_zh"]]]
    assert len(stations) >= 1, row["name_zh"]
    want = "inferred" if row["evidence"].startswith("INFERRED") else "stated"
    for _, st in stations.iterrows():
        assert st["town_code"] == row["town_code"] and st["town_basis"] == want and not st["town_approx"]
        listed = town_contents(layers, row["town_code"])["stations"]
        assert any(s["id"] == st["id"] and s["counted_here"] and s["town_basis"] == want for s in listed)


@pytest.mark.parametrize("row", STATED_PARKS, ids=[r["name_zh"][:20] for r in STATED_PARKS])
def test_a_stated_park_is_listed_in_every_stated_unit(layers, row):
    parks = layers["parks"][layers["parks"]["anchor"] == row["name_zh"]]  # park_towns.csv names the anchor row
    if parks.empty:
        pytest.skip(f"{row['name_zh']} is not a located park of the map (unlocated or an added row)")
    park = parks.iloc[0]
    codes = row["town_code"].split("|")
    assert park["town_code"] in codes and set(park["town_codes"].split(",")) == set(codes)
    assert park["town_basis"] in ("stated", "inferred") and not park["town_approx"]
    for code in codes:
        assert park["id"] in {p["id"] for p in town_contents(layers, code)["parks"]}, code


def test_unstated_points_are_computed_on_the_schematic_cells_and_marked_approximate(layers):
    stated = {r["name_zh"] for r in STATED_STATIONS}
    for _, st in layers["stations"].iterrows():
        if _bare(st["name_zh"]) in stated:
            continue
        assert st["town_basis"] in ("computed_schematic", "boundary"), st["name_zh"]
        assert st["town_approx"], st["name_zh"]
    assert (layers["parks"]["town_basis"] == "computed_schematic").any()


def test_boundary_stops_keep_every_candidate_unit(layers):
    by_name = layers["stations"].set_index("name_zh")
    # 上海松江站: on the 永丰/车墩 boundary river; the schematic cells used to put it in 中山.
    assert set(by_name.loc["上海松江站", "town_codes"].split(",")) == {"310117002", "310117104"}
    assert by_name.loc["上海松江站", "town_basis"] == "boundary"
    assert set(by_name.loc["荣乐路通波塘", "town_codes"].split(",")) == {"310117001", "310117004"}
    # 佘山 station: stated in 泗泾镇 although it is named after 佘山.
    assert by_name.loc["佘山", "town_code"] == "310117102"
    assert not any(s["name_zh"] == "佘山" for s in town_contents(layers, "310117103")["stations"])


def test_sheshan_town_and_sijing_answer_from_the_stated_table(layers):
    sijing = {s["name_zh"]: s for s in town_contents(layers, "310117102")["stations"]}
    assert set(sijing) == {"佘山", "泗泾"} and all(s["town_basis"] == "stated" for s in sijing.values())
    parks = {p["name_zh"] for p in town_contents(layers, "310117103")["parks"]}
    assert {"佘山国家旅游度假区", "上海辰山植物园"} <= parks


# --------------------------------------------------------------------------------------- accuracy and names
def test_station_accuracy_comes_from_each_source(layers):
    st = layers["stations"].set_index("name_zh")
    for name in ("春申", "新桥", "车墩", "叶榭"):  # places.csv: ±50 m for the Jinshan Railway stations
        assert st.loc[name, "accuracy_m"] >= 50, name
    for name in ("醉白池", "松江体育中心", "上海松江站"):  # ~100 m from the notes' Line 9 positions
        assert st.loc[name, "accuracy_m"] >= 90, name
    assert st.loc["泗泾", "accuracy_m"] == 30  # OSM ±30 m and the notes agree within 21 m
    assert st.loc["上海松江站（国铁）", "accuracy_m"] == 200  # places.csv row
    assert len(set(st["accuracy_m"])) > 2


def test_english_names_use_the_operators_and_readable_pinyin(layers):
    en = dict(zip(layers["stations"]["name_zh"], layers["stations"]["name_en"], strict=False))
    official = {r["name_zh"]: r["official_name_en"] for r in _rows("station_towns.csv") if r["official_name_en"]}
    for name_zh, name_en in official.items():
        if name_zh in en:
            assert en[name_zh] == name_en, name_zh
    assert en["人民北路"] == "Renmin Beilu" and en["新桥火车站"] == "Xinqiao Huochezhan"
    assert en["松东路"] == "Songdong Lu" and en["荣乐路通波塘"] == "Rongle Lu Tongbotang"


def test_town_areas_say_they_are_rescaled_official_areas(layers):
    assert layers["towns"]["area_km2_basis"].str.contains("rescaled").all()


def test_rail_lines_layer_accuracy_says_mixed_with_counts(catalog, layers):
    from layers.core.catalog import get_catalog

    acc = get_catalog().layer("rail_lines").provenance
    counts = layers["rail_lines"]["accuracy"].value_counts().to_dict()
    assert acc.accuracy == "mixed"
    assert acc.accuracy_counts == counts


def test_every_stated_anchor_lies_in_its_units_schematic_cell(layers):
    from layers.build.builders import stated_anchors
    from layers.build.sources import read_inputs

    inputs = read_inputs()
    towns = layers["towns"].set_index("code")
    anchors = stated_anchors(inputs)
    assert len(anchors) >= 20
    for i, point in anchors:
        code = inputs.towns[i]["code"]
        assert towns.loc[code].geometry.covers(point), (inputs.towns[i]["name_zh"], point.wkt)


def test_park_names_are_names_and_the_curation_remark_is_the_anchor(layers):
    parks = layers["parks"].set_index("id")
    assert parks.loc["park-university-town", "name_zh"] == "松江大学城"
    assert parks.loc["park-university-town", "anchor"] == "松江大学城 (centroid)"
    assert parks.loc["park-sheshan-resort", "anchor"].startswith("西佘山")
    for column in ("name_zh", "name_en"):
        assert not parks[column].str.contains(r"centroid|anchor|\(|（", regex=True).any(), column
    assert parks[["source", "licence", "accuracy"]].notna().all().all()
