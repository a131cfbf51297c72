"""Checks against third-party reference boundaries (read from ../shared, never copied; skipped when absent)."""
import csv

import geopandas as gpd
from shapely.geometry import Point

from layers.core import paths
from layers.core.crs import to_measure


def test_reference_points_fall_inside_their_real_osm_town(reference_dir, layers):
    real = gpd.read_file(reference_dir / "osm_towns_10_wgs84.geojson")
    with (paths.SOURCES_DIR / "town_facts.csv").open(encoding="utf-8") as fh:
        facts = {r["code"]: r for r in csv.DictReader(fh)}
    matched = 0
    towns = layers["towns"].set_index("name_zh")
    print("\nschematic cell vs real OSM boundary (IoU):")
    for _, r in real.iterrows():
        row = facts.get(str(r["code"]))
        if row is None:
            continue
        matched += 1
        pt = Point(float(row["ref_lon_wgs84"]), float(row["ref_lat_wgs84"]))
        assert r.geometry.buffer(0.0005).contains(pt), row["name_zh"]
        cell = to_measure(towns.loc[row["name_zh"]].geometry)
        osm = to_measure(r.geometry)
        iou = cell.intersection(osm).area / cell.union(osm).area
        print(f"  {row['name_zh']:6s} IoU {iou:.2f}  schematic {cell.area / 1e6:6.1f} km²  "
              f"real {osm.area / 1e6:6.1f} km²")
    assert matched == 10
