"""All tunables of the project in one place."""
from __future__ import annotations

#: Storage and drawing CRS (RFC 7946 GeoJSON).
WGS84 = "EPSG:4326"
#: CGCS2000 / 3-degree Gauss-Kruger CM 120E: areas and lengths are measured here.
MEASURE_CRS = "EPSG:4549"
#: CGCS2000 geographic, offered for exports.
CGCS2000 = "EPSG:4490"

#: Decimal places written for lon/lat (6 decimals is about 0.1 m).
COORD_DECIMALS = 6
GRID_SIZE = 10.0 ** -COORD_DECIMALS

#: Allowed values of the per-feature ``accuracy`` property.
ACCURACY_LEVELS = ("authoritative", "osm", "provider", "approximate", "schematic")
#: Features every layer must carry.
REQUIRED_PROPERTIES = ("id", "name_zh", "name_en", "source", "licence", "accuracy")

#: Schematic town partition: relative area tolerance against the scaled official areas.
PARTITION_TOLERANCE = 0.005
#: Lines running on into neighbouring districts are clipped to the outline buffered by this much (m).
CLIP_BUFFER_M = 50.0
#: Stops farther than this outside the outline are dropped (m).
STOP_OUTSIDE_TOLERANCE_M = 100.0

#: Half-width of the schematic G60 corridor band (m).
CORRIDOR_HALF_WIDTH_M = 3000.0
#: Buffer drawn around the points of the 双城融合 core (m).
TWIN_CORE_BUFFER_M = 900.0
#: Planned construction area of the 松江枢纽 core (km², eastday 2021 via the research notes).
HUB_CORE_AREA_KM2 = 2.47

#: Official area of the district (km²), for comparison with the outline's computed area.
DISTRICT_OFFICIAL_AREA_KM2 = 604.64
