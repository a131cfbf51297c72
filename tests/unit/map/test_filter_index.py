"""The filter index: the one statement of what each filter key keeps, evaluated by the server (filter_layers) and by
the in-page map (mapview.js ``passes``) from the whole index the spec carries."""
from __future__ import annotations

import random

import geopandas as gpd
import pytest
from test_filters import ids_within

from layers.map.elements import legend_html
from layers.map.filters import (
    FILTER_KEYS,
    LayerFilter,
    filter_index,
    filter_layers,
    filter_masks,
    filter_options,
    passes,
)
from layers.map.render import legend_records
from layers.map.style import LegendEntry, legend_entries


def _kept_ids(layers, flt: LayerFilter) -> dict[str, set[str]]:
    return {k: set(v["id"].astype(str)) for k, v in filter_layers(layers, flt).items()}


def _index_ids(layers, index, flt: LayerFilter) -> dict[str, set[str]]:
    masks = filter_masks(index, flt)
    return {k: set(v["id"].astype(str)[masks[k]]) if k in masks else set(v["id"].astype(str))
            for k, v in layers.items()}


def _filters(layers) -> list[LayerFilter]:
    """Every single value of every key, and 150 seeded combinations of two to four keys."""
    options = filter_options(layers)
    singles = [LayerFilter(**{key: (value,)}) for key in FILTER_KEYS for value in options[key]]
    rng = random.Random(20261128)
    combos = []
    for _ in range(150):
        keys = rng.sample([k for k in FILTER_KEYS if options[k]], rng.randint(2, 4))
        combos.append(LayerFilter(**{k: tuple(rng.sample(options[k], rng.randint(1, min(3, len(options[k])))))
                                     for k in keys}))
    return singles + combos


def test_the_whole_index_the_map_gets_keeps_what_the_server_keeps(layers):
    """The browser evaluates the index built for every key; the server builds only the keys a filter sets. Both
    keep the same features, for every single value and for combinations of keys."""
    whole = filter_index(layers)
    filters = _filters(layers)
    assert len(filters) > 60
    emptied = 0
    for flt in filters:
        kept = _kept_ids(layers, flt)
        assert _index_ids(layers, whole, flt) == kept, flt
        emptied += sum(len(kept[k]) < len(layers[k]) for k in ("stations", "parks", "towns", "rail_lines"))
    assert emptied > len(filters)  # the filters really leave features out


def test_a_station_passes_by_any_line_it_serves():
    """A station on a metro line and a national line: kept when either passes, judged as that line is."""
    clause = {"k": ["rail_status", "rail_mode", "rail_line"],
              "a": [{"rail_status": ["open"], "rail_mode": ["metro"], "rail_line": ["L9"]},
                    {"rail_status": ["planned"], "rail_mode": ["rail"], "rail_line": ["沪昆高铁"]}]}
    assert passes([clause], {})
    assert passes([clause], {"rail_line": {"L9"}})
    assert passes([clause], {"rail_line": {"沪昆高铁"}, "rail_status": {"planned"}})
    assert not passes([clause], {"rail_line": {"L9"}, "rail_status": {"planned"}})  # the line is open, not planned
    assert not passes([clause], {"rail_mode": {"tram"}})
    assert not passes([{"k": ["rail_line"], "a": []}], {"rail_line": {"L9"}})  # no line: never kept by a line filter


@pytest.mark.parametrize("key", ["zone", "town"])
def test_points_without_attribution_are_placed_by_the_polygons(layers, key):
    """A point layer without ``town_codes`` is filtered by position: the points inside the chosen polygons."""
    parks = layers["parks"].drop(columns="town_codes")
    polygons = layers["zones"] if key == "zone" else layers["towns"]
    chosen = [str(v) for v in polygons["id"]][:2]
    work = {"parks": parks, "zones": layers["zones"], "towns": layers["towns"]}
    kept = _kept_ids(work, LayerFilter(**{key: tuple(chosen)}))["parks"]
    expected = ids_within(parks, polygons[polygons["id"].astype(str).isin(chosen)])
    assert kept == expected
    assert 0 < len(kept) < len(parks)
    assert _index_ids(work, filter_index(work), LayerFilter(**{key: tuple(chosen)}))["parks"] == expected


def test_zone_and_town_together_keep_points_in_both(layers):
    parks = layers["parks"].drop(columns="town_codes")
    work = {"parks": parks, "zones": layers["zones"], "towns": layers["towns"]}
    zone = max(layers["zones"]["id"], key=lambda z: len(ids_within(parks, layers["zones"][layers["zones"]["id"] == z])))
    towns = layers["towns"].iloc[::2]  # every other town, in and out of the zone
    kept = _kept_ids(work, LayerFilter(zone=(zone,), town=tuple(towns["id"].astype(str))))["parks"]
    both = ids_within(parks, layers["zones"][layers["zones"]["id"] == zone]) & ids_within(parks, towns)
    assert kept == both
    assert 0 < len(both) < len(ids_within(parks, towns))  # the zone and the towns each leave parks out


def test_the_index_has_a_clause_list_per_feature_and_none_for_the_frame_layers(layers):
    index = filter_index(layers)
    assert "district" not in index and "structure" not in index
    for layer_id, clauses in index.items():
        assert len(clauses) == len(layers[layer_id]), layer_id
    assert all(clauses for clauses in index["stations"])  # every station is tested by the rail keys
    assert isinstance(layers["parks"], gpd.GeoDataFrame)


def test_each_legend_row_names_the_features_it_stands_for(layers, catalog):
    """The in-page map hides a legend row when its filter leaves none of the row's features; the row names them
    (layer and ids), escaped like every other text of the legend."""
    spec = catalog.layer("rail_lines")
    entries = legend_entries(spec, legend_records(spec, layers["rail_lines"]), catalog, "zh")
    assert sorted(i for e in entries for i in e.ids) == sorted(layers["rail_lines"]["id"].astype(str))
    html = legend_html([("t", entries)])
    assert html.count('data-layer="rail_lines"') == len(entries)
    hostile = LegendEntry('x"><script>', "#000", "line", layer='a"b', ids=("<img>", "ok"))
    row = legend_html([("t", [hostile])])
    assert "<script>" not in row and "<img>" not in row and 'data-layer="a&quot;b"' in row
