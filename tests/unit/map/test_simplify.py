"""Display copies: simplified towns still tile the district; zones and outline agree with them."""
import shapely

from layers.core import settings
from layers.map.filters import LayerFilter, filter_layers
from layers.map.simplify import display_copies, with_display_geometry


def _metric(frame):
    return frame.geometry.to_crs(settings.MEASURE_CRS)


def test_simplified_towns_have_no_gaps_or_overlaps_and_match_the_drawn_outline(layers):
    shown = display_copies(layers)
    towns = _metric(shown["towns"])
    union = shapely.union_all(towns.values)
    assert abs(towns.area.sum() - union.area) < 1.0  # m²: no overlaps
    district = _metric(shown["district"]).iloc[0]
    assert union.symmetric_difference(district).area < 1.0  # the outline is the dissolve: no gaps
    # Fewer vertices, and never further than the tolerance from the real (schematic) geometry.
    before = shapely.get_num_coordinates(layers["towns"].geometry.values).sum()
    after = shapely.get_num_coordinates(shown["towns"].geometry.values).sum()
    assert after < before
    for a, b in zip(_metric(layers["towns"]), towns):
        assert a.hausdorff_distance(b) <= settings.DISPLAY_SIMPLIFY_M * 1.01


def test_zones_are_dissolves_of_their_simplified_members(layers):
    shown = display_copies(layers)
    towns = shown["towns"].set_index("id")
    for zone, members in zip(shown["zones"].geometry, shown["zones"]["member_codes"]):
        expected = shapely.union_all([towns.loc[c.strip()].geometry for c in members.split(",")])
        assert zone.symmetric_difference(expected).area < 1e-12


def test_files_and_filters_keep_full_geometry_only_the_drawing_changes(layers):
    shown = display_copies(layers)
    assert shown["stations"] is layers["stations"]  # points untouched
    flt = LayerFilter(town=("310117103",))
    filtered = filter_layers(layers, flt)
    drawn = with_display_geometry(filtered, shown)
    assert list(drawn["towns"]["id"]) == ["310117103"]
    assert drawn["towns"].geometry.iloc[0].equals(shown["towns"].set_index("id").geometry["310117103"])
    assert len(drawn["stations"]) == len(filtered["stations"])
    assert any(not a.equals(b) for a, b in zip(layers["towns"].geometry, shown["towns"].geometry))
