"""Layer filters: URL round trip, hostile parameters, and filter_layers on the real layers against
expectations computed another way (pandas explode/merge and geopandas sjoin instead of the module's loops)."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from layers.map.filters import FILTER_KEYS, LayerFilter, filter_layers, filter_options, known_options

# ----------------------------------------------------------------------------- helpers computed independently

def _station_tokens(stations: gpd.GeoDataFrame) -> pd.DataFrame:
    tokens = stations[["id", "lines", "mode", "status"]].copy()
    tokens["token"] = tokens["lines"].fillna("").str.split(",")
    tokens = tokens.explode("token")
    tokens["token"] = tokens["token"].str.strip()
    return tokens[tokens["token"] != ""]


def expected_station_ids(layers, *, status=(), mode=(), line=()) -> set[str]:
    rail = layers["rail_lines"]
    sel = rail
    if status:
        sel = sel[sel["status"].isin(status)]
    if mode:
        sel = sel[sel["mode"].isin(mode)]
    if line:
        sel = sel[sel["line_id"].isin(line)]
    tokens = _station_tokens(layers["stations"])
    known = tokens[tokens["token"].isin(rail["line_id"])]
    via_lines = set(known.merge(sel[["line_id"]], left_on="token", right_on="line_id")["id"])
    national = tokens[~tokens["token"].isin(rail["line_id"])]
    if status:
        national = national[national["status"].isin(status)]
    if mode:
        national = national[national["mode"].isin(mode)]
    if line:
        national = national[national["token"].isin(line)]
    return via_lines | set(national["id"])


def ids_within(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> set[str]:
    if polygons.empty:
        return set()
    joined = gpd.sjoin(points[["id", "geometry"]], polygons[["geometry"]], predicate="intersects")
    return set(joined["id"])


def attributed_to(points: gpd.GeoDataFrame, codes: set[str]) -> set[str]:
    """Ids of the points whose town attribution (any of ``town_codes``) is one of ``codes``."""
    pairs = zip(points["id"], points["town_codes"], strict=True)
    return {i for i, tc in pairs if set(str(tc or "").split(",")) & codes}


def test_zone_filter_follows_the_stated_town_not_the_schematic_cell(layers):
    # 佘山 station: stated in 泗泾镇 (产城融合); 上海松江站: a boundary stop of 永丰/车墩, never 中山.
    city = filter_layers(layers, LayerFilter(zone=("industry_city",)))
    assert "stn-sheshan-metro" in set(city["stations"]["id"])
    zhongshan = filter_layers(layers, LayerFilter(town=("310117004",)))
    assert not {"stn-shanghai-songjiang-rail", "stn-shanghaisongjiangzhan-metro"} & set(zhongshan["stations"]["id"])


# ----------------------------------------------------------------------------- LayerFilter and URL params

def test_empty_filter_has_no_params():
    flt = LayerFilter()
    assert flt.is_empty()
    assert flt.to_params() == {}


def test_params_round_trip_through_the_url(layers):
    flt = LayerFilter(rail_status=("open", "planned"), zone=("industry_city",), town=("310117105",),
                      park_industry=("it",))
    params = flt.to_params()
    assert params == {"rail_status": "open,planned", "park_industry": "it", "zone": "industry_city",
                      "town": "310117105"}
    back, notices = LayerFilter.from_params(params, options=filter_options(layers))
    assert back == flt and notices == []


def test_lists_and_strings_are_normalised_to_tuples():
    flt = LayerFilter(rail_line=["L9", "L9", " T2 "], town="310117105,310117106")
    assert flt.rail_line == ("L9", "T2") and flt.town == ("310117105", "310117106")
    assert hash(flt) == hash(LayerFilter(rail_line=("L9", "T2"), town=("310117105", "310117106")))


def test_from_params_reads_options_from_geodata_by_default():
    flt, notices = LayerFilter.from_params({"rail_mode": "metro", "zone": "new_town"})
    assert flt == LayerFilter(rail_mode=("metro",), zone=("new_town",)) and notices == []
    assert "310117105" in known_options()["town"]


@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>",
    "open,<img src=x onerror=alert(1)>",
    "\x00\x1b[31m\n<b>",
    "`rm -rf /`; DROP TABLE towns;--",
])
def test_hostile_values_are_dropped_with_an_inert_notice(layers, hostile):
    flt, notices = LayerFilter.from_params({"rail_status": hostile}, options=filter_options(layers))
    assert flt.rail_status in ((), ("open",))
    assert len(notices) == 1 and "轨道状态" in notices[0]  # the filter's label in the page's language
    for bad in ("<", ">", "`", "\x00", "\x1b", "\n"):
        assert bad not in notices[0]


def test_ten_kilobyte_value_is_dropped_whole_with_a_short_notice(layers):
    flt, notices = LayerFilter.from_params({"zone": "industry_city," + "x" * 10_000, "town": "9" * 10_000},
                                           options=filter_options(layers))
    assert flt.is_empty()
    assert len(notices) == 2 and all(len(n) < 200 for n in notices)


def test_many_unknown_values_give_one_notice_per_key(layers):
    flt, notices = LayerFilter.from_params({"rail_line": ",".join(f"X{i}" for i in range(100)) + ",L9"},
                                           options=filter_options(layers))
    assert flt.rail_line == ("L9",)
    assert len(notices) == 1 and "等另 97 个" in notices[0]
    _, notices_en = LayerFilter.from_params({"rail_line": ",".join(f"X{i}" for i in range(100))},
                                            options=filter_options(layers), lang="en")
    assert notices_en[0].startswith("Ignored unknown value(s) of filter “Line”") and "97 more" in notices_en[0]


def test_unknown_keys_are_reported_and_ignored(layers):
    flt, notices = LayerFilter.from_params({"lang": "zh", "<script>": "1", "x" * 5000: "open", "zone": "new_town"},
                                           options=filter_options(layers))
    assert flt == LayerFilter(zone=("new_town",))
    assert len(notices) == 3
    assert all("<" not in n and len(n) < 200 for n in notices)


@pytest.mark.parametrize("params", [None, 42, {"rail_status": None}, {"rail_status": ["open", "planned"]},
                                    {1: "open"}, {"town": 310117105}])
def test_from_params_never_raises(layers, params):
    flt, notices = LayerFilter.from_params(params, options=filter_options(layers))
    assert isinstance(flt, LayerFilter) and isinstance(notices, list)


def test_list_values_from_streamlit_are_accepted(layers):
    flt, _ = LayerFilter.from_params({"rail_status": ["open", "planned"], "town": 310117105},
                                     options=filter_options(layers))
    assert flt.rail_status == ("open", "planned") and flt.town == ("310117105",)


# ----------------------------------------------------------------------------- options from the data

def test_filter_options_come_from_the_data(layers, catalog):
    opts = filter_options(layers)
    assert set(opts) == set(FILTER_KEYS)
    assert set(opts["rail_status"]) == set(layers["rail_lines"]["status"]) | set(layers["stations"]["status"])
    assert set(opts["rail_mode"]) <= set(catalog.values["mode"])
    assert set(layers["rail_lines"]["line_id"]) <= set(opts["rail_line"])
    assert "沪昆高铁" in opts["rail_line"]  # national line named by a station
    assert set(opts["park_industry"]) <= set(catalog.values["industries"])
    assert opts["zone"] == sorted(layers["zones"]["id"])
    assert opts["town"] == sorted(layers["towns"]["id"]) and len(opts["town"]) == 17


def test_filter_options_of_missing_layers_are_empty():
    assert all(v == [] for v in filter_options({}).values())


# ----------------------------------------------------------------------------- filter_layers on the real data

def test_empty_filter_returns_copies(layers):
    out = filter_layers(layers, LayerFilter())
    assert set(out) == set(layers)
    for k in layers:
        assert out[k] is not layers[k] and out[k].equals(layers[k])


def test_filter_never_mutates_the_input(layers):
    before = {k: v.copy() for k, v in layers.items()}
    filter_layers(layers, LayerFilter(rail_status=("open",), zone=("industry_city",), park_kind=("civic",)))
    for k in layers:
        assert layers[k].equals(before[k])


def test_open_rail_keeps_open_lines_and_their_stations(layers):
    out = filter_layers(layers, LayerFilter(rail_status=("open",)))
    assert set(out["rail_lines"]["line_id"]) == set(layers["rail_lines"].query("status == 'open'")["line_id"])
    assert set(out["rail_lines"]["status"]) == {"open"}
    assert set(out["stations"]["id"]) == expected_station_ids(layers, status=("open",))
    # The open HSR station stays (judged by its own status), the closed 沪昆铁路 one goes.
    assert "stn-shanghai-songjiang-rail" in set(out["stations"]["id"])
    assert "stn-songjiang-north-rail" not in set(out["stations"]["id"])
    for k in ("district", "structure", "towns", "zones", "parks"):
        assert len(out[k]) == len(layers[k])


@pytest.mark.parametrize("kwargs", [
    {"mode": ("hsr",)}, {"mode": ("tram",)}, {"mode": ("metro", "rail")}, {"line": ("L9",)},
    {"line": ("T1", "T2")}, {"line": ("沪昆高铁",)}, {"status": ("planned", "under_construction")},
    {"status": ("closed",)}, {"status": ("open",), "mode": ("metro",)}, {"status": ("planned",), "line": ("L9",)},
])
def test_rail_filters_match_an_independent_join(layers, kwargs):
    flt = LayerFilter(rail_status=kwargs.get("status", ()), rail_mode=kwargs.get("mode", ()),
                      rail_line=kwargs.get("line", ()))
    out = filter_layers(layers, flt)
    assert set(out["stations"]["id"]) == expected_station_ids(layers, **kwargs)
    rail = layers["rail_lines"]
    want = rail[(rail["status"].isin(flt.rail_status) if flt.rail_status else True)
                & (rail["mode"].isin(flt.rail_mode) if flt.rail_mode else True)
                & (rail["line_id"].isin(flt.rail_line) if flt.rail_line else True)]
    assert list(out["rail_lines"]["id"]) == list(want["id"])


def test_hsr_mode_keeps_only_the_hsr_station(layers):
    out = filter_layers(layers, LayerFilter(rail_mode=("hsr",)))
    assert out["rail_lines"].empty
    assert list(out["stations"]["id"]) == ["stn-shanghai-songjiang-rail"]


def test_an_interchange_stays_when_any_of_its_lines_is_selected(layers):
    out = filter_layers(layers, LayerFilter(rail_line=("T1",)))
    # 松江体育中心 is a metro station that the trams serve too.
    assert "stn-songjiangtiyuzhongxin-metro" in set(out["stations"]["id"])
    assert set(out["stations"]["mode"]) >= {"tram", "metro"}


@pytest.mark.parametrize("industry", ["it", "consumer", "culture", "health"])
def test_park_industry_matches_any_listed_industry(layers, industry):
    out = filter_layers(layers, LayerFilter(park_industry=(industry,)))
    want = {pid for pid, ind in zip(layers["parks"]["id"], layers["parks"]["industries"].fillna(""), strict=False)
            if industry in [s.strip() for s in ind.split(",")]}
    assert set(out["parks"]["id"]) == want


def test_park_kind_and_industry_combine_with_and(layers):
    out = filter_layers(layers, LayerFilter(park_kind=("industrial_park",), park_industry=("consumer",)))
    parks = layers["parks"]
    want = parks[(parks["kind"] == "industrial_park") & parks["industries"].fillna("").str.contains("consumer")]
    assert set(out["parks"]["id"]) == set(want["id"]) and len(want) >= 1


@pytest.mark.parametrize("zone", ["industry_city", "culture_tourism", "urban_rural_green", "new_town"])
def test_zone_keeps_its_row_towns_and_the_points_inside(layers, zone):
    out = filter_layers(layers, LayerFilter(zone=(zone,)))
    assert list(out["zones"]["id"]) == [zone]
    assert set(out["towns"]["id"]) == set(layers["towns"].loc[layers["towns"]["zone_id"] == zone, "id"])
    # Points follow their town attribution (stated first), not the schematic geometry (issue 13).
    members = set(layers["zones"].loc[layers["zones"]["id"] == zone, "member_codes"].iloc[0].split(","))
    for k in ("parks", "stations"):
        assert set(out[k]["id"]) == attributed_to(layers[k], members)
    assert len(out["district"]) == 1 and len(out["structure"]) == len(layers["structure"])


def test_zone_points_add_up_with_the_unassigned_town(layers):
    # The zones plus the town the plan leaves unassigned (车墩) cover the district: every station is counted.
    counted = set()
    for zone in layers["zones"]["id"]:
        counted |= set(filter_layers(layers, LayerFilter(zone=(zone,)))["stations"]["id"])
    unassigned = set(layers["towns"].loc[layers["towns"]["zone_id"].isna(), "id"])
    counted |= attributed_to(layers["stations"], unassigned)
    assert counted == set(layers["stations"]["id"])


def test_town_keeps_that_town_and_the_points_inside(layers):
    for code in ("310117105", "310117001", "310117104"):
        out = filter_layers(layers, LayerFilter(town=(code,)))
        assert list(out["towns"]["id"]) == [code]
        for k in ("parks", "stations"):
            assert set(out[k]["id"]) == attributed_to(layers[k], {code})
        assert len(out["zones"]) == len(layers["zones"])  # a town filter leaves the zones alone


def test_zone_and_town_combine_with_and(layers):
    inside = filter_layers(layers, LayerFilter(zone=("industry_city",), town=("310117105",)))
    assert list(inside["towns"]["id"]) == ["310117105"]
    assert set(inside["stations"]["id"]) == attributed_to(layers["stations"], {"310117105"})
    # A town outside the zone: nothing passes both.
    apart = filter_layers(layers, LayerFilter(zone=("new_town",), town=("310117105",)))
    assert apart["towns"].empty and apart["stations"].empty and apart["parks"].empty


def test_rail_and_zone_combine_with_and(layers):
    out = filter_layers(layers, LayerFilter(rail_line=("L9",), zone=("industry_city",)))
    members = set(layers["zones"].loc[layers["zones"]["id"] == "industry_city", "member_codes"].iloc[0].split(","))
    want = expected_station_ids(layers, line=("L9",)) & attributed_to(layers["stations"], members)
    assert set(out["stations"]["id"]) == want and want


def test_absent_layers_stay_absent_and_zone_geometry_is_read_when_needed(layers):
    out = filter_layers({"stations": layers["stations"]}, LayerFilter(zone=("new_town",)))
    assert set(out) == {"stations"}
    members = set(layers["zones"].loc[layers["zones"]["id"] == "new_town", "member_codes"].iloc[0].split(","))
    assert set(out["stations"]["id"]) == attributed_to(layers["stations"], members)


# ----------------------------------------------------------------------------- synthetic edge cases

@pytest.fixture
def two_town_grid():
    """Two square towns sharing an edge at x=1, one zone over the left one, points on and off the edge."""
    towns = gpd.GeoDataFrame({"id": ["310117901", "310117902"], "zone_id": ["new_town", None]},
                             geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    zones = gpd.GeoDataFrame({"id": ["new_town"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    parks = gpd.GeoDataFrame({"id": ["left", "edge", "right", "nowhere"], "kind": ["civic"] * 4,
                              "industries": ["it", "", None, "it, health"]},
                             geometry=[Point(0.5, 0.5), Point(1, 0.5), Point(1.5, 0.5), Point(5, 5)], crs=4326)
    return {"towns": towns, "zones": zones, "parks": parks}


def test_point_on_a_shared_edge_counts_in_both_towns(two_town_grid):
    left = filter_layers(two_town_grid, LayerFilter(town=("310117901",)))
    right = filter_layers(two_town_grid, LayerFilter(town=("310117902",)))
    assert set(left["parks"]["id"]) == {"left", "edge"}
    assert set(right["parks"]["id"]) == {"edge", "right"}


def test_unassigned_town_never_matches_a_zone(two_town_grid):
    out = filter_layers(two_town_grid, LayerFilter(zone=("new_town",)))
    assert list(out["towns"]["id"]) == ["310117901"]
    assert set(out["parks"]["id"]) == {"left", "edge"}


def test_industries_with_spaces_and_missing_values(two_town_grid):
    out = filter_layers(two_town_grid, LayerFilter(park_industry=("health",)))
    assert list(out["parks"]["id"]) == ["nowhere"]


def test_zone_filter_without_zones_layer_uses_the_towns(two_town_grid):
    data = {"towns": two_town_grid["towns"], "parks": two_town_grid["parks"]}
    out = filter_layers(data, LayerFilter(zone=("new_town",)))
    assert set(out) == {"towns", "parks"} and set(out["parks"]["id"]) == {"left", "edge"}


def test_station_with_a_known_and_a_national_line():
    rail = gpd.GeoDataFrame({"id": ["L9"], "line_id": ["L9"], "mode": ["metro"], "status": ["planned"]},
                            geometry=[box(0, 0, 1, 1).boundary], crs=4326)
    stations = gpd.GeoDataFrame({"id": ["s"], "lines": ["L9, 沪昆高铁"], "mode": ["hsr"], "status": ["open"]},
                                geometry=[Point(0, 0)], crs=4326)
    data = {"rail_lines": rail, "stations": stations}
    assert len(filter_layers(data, LayerFilter(rail_status=("planned",)))["stations"]) == 1  # via L9
    assert len(filter_layers(data, LayerFilter(rail_status=("open",)))["stations"]) == 1  # via 沪昆高铁 itself
    assert len(filter_layers(data, LayerFilter(rail_status=("closed",)))["stations"]) == 0
    assert filter_layers(data, LayerFilter(rail_status=("open",)))["rail_lines"].empty
