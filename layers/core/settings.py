"""All tunables of the project in one place."""
from __future__ import annotations

#: Storage and drawing CRS (RFC 7946 GeoJSON).
WGS84 = "EPSG:4326"


#: CGCS2000 / 3-degree Gauss-Kruger CM 120E: areas and lengths are measured here.
MEASURE_CRS = "EPSG:4549"


#: CGCS2000 geographic, offered for exports.
CGCS2000 = "EPSG:4490"


#: The one box around Songjiang (lon_min, lat_min, lon_max, lat_max; WGS84): the district with ~20 km to spare.
#: Built layers must lie inside it.
DISTRICT_BOUNDS = (120.8, 30.7, 121.6, 31.3)
#: Margin (degrees) around DISTRICT_BOUNDS within which a map centre or an uploaded file still counts as near.
NEAR_DISTRICT_MARGIN_DEG = 0.2
NEAR_DISTRICT_BOUNDS = (DISTRICT_BOUNDS[0] - NEAR_DISTRICT_MARGIN_DEG, DISTRICT_BOUNDS[1] - NEAR_DISTRICT_MARGIN_DEG,
                        DISTRICT_BOUNDS[2] + NEAR_DISTRICT_MARGIN_DEG, DISTRICT_BOUNDS[3] + NEAR_DISTRICT_MARGIN_DEG)

#: Decimal places written for lon/lat (6 decimals is about 0.1 m).
COORD_DECIMALS = 6


GRID_SIZE = 10.0 ** -COORD_DECIMALS


#: Allowed values of the per-feature ``accuracy`` property.
ACCURACY_LEVELS = ("authoritative", "osm", "provider", "approximate", "schematic")
#: Layer-level accuracy: one of the levels, or "mixed" (with counts per level) when the features differ.
LAYER_ACCURACY_LEVELS = (*ACCURACY_LEVELS, "mixed")


#: Features every layer must carry.
REQUIRED_PROPERTIES = ("id", "name_zh", "name_en", "source", "licence", "accuracy")


#: Schematic town partition: relative area tolerance against the scaled official areas.
PARTITION_TOLERANCE = 0.005
#: Fitted partitions kept in memory, keyed by their exact inputs (layers/build/partition.py): a build and an
#: import's refit ask for the same few fits again and again. 0 turns the memo off.
PARTITION_MEMO_SIZE = 32


#: Lines running on into neighbouring districts are clipped to the outline buffered by this much (m).
CLIP_BUFFER_M = 50.0


#: Stops farther than this outside the outline are dropped (m).
STOP_OUTSIDE_TOLERANCE_M = 100.0
#: Stated stations/parks outside their unit's schematic cell are joined to it by a corridor of this half-width (m)
#: with a disc of this radius (m) around the point (layers/build/partition.py claim_points): about the 1 km
#: walking catchment of a stop. Of 150/250, 300/600, 500/1000 and 800/1500 m this gave the best fit to the
#: reference OSM towns (test-only measurement, tests/unit/build/test_reference.py).
CLAIM_CORRIDOR_M = 500.0
CLAIM_REACH_M = 1000.0
#: Partition-and-claim rounds that bring the areas back to their targets after the claims moved land.
CLAIM_ROUNDS = 4
#: Position uncertainty of an OSM stop node (m) when no other source widens it.
OSM_STOP_ACCURACY_M = 30


#: Half-width of the schematic G60 corridor band (m).
CORRIDOR_HALF_WIDTH_M = 3000.0


#: Buffer drawn around the points of the 双城融合 core (m).
TWIN_CORE_BUFFER_M = 900.0


#: Planned construction area of the 松江枢纽 core (km², eastday 2021 via the research notes).
HUB_CORE_AREA_KM2 = 2.47


#: Official area of the district (km²), for comparison with the outline's computed area.
DISTRICT_OFFICIAL_AREA_KM2 = 604.64


# ---- Importing town boundaries (layers/import_towns.py, layers/refresh_osm.py) -------------------------------
#: Largest upload (MB of 2**20 bytes). Streamlit refuses bigger uploads itself: ``server.maxUploadSize`` in
#: .streamlit/config.toml must say the same number (a test checks that they agree).
UPLOAD_MAX_MB = 50


#: Largest boundary file accepted, checked before any parsing (bytes); a zip may not unpack to more either.
IMPORT_MAX_BYTES = UPLOAD_MAX_MB * 1024 * 1024


#: Most vertices (coordinate pairs) a boundary file may hold, checked right after reading it.
IMPORT_MAX_VERTICES = 1_000_000


#: Text attribute values of an upload (import or own layer) are cut to this many characters: one file must not
#: make every visitor's map heavy (names and sources are far shorter).
UPLOAD_MAX_TEXT_CHARS = 500


#: Limits of the worker process that reads an upload and plans an import (layers/core/worker.py): wall-clock
#: seconds, CPU seconds, and memory (MB of address space on top of what the worker starts with).
WORKER_WALL_S = 60.0


WORKER_CPU_S = 45


WORKER_MEMORY_MB = 1536

#: How often (s) a waiting worker call asks whether anyone still waits for it (the visitor may have left).
WORKER_POLL_S = 0.25


#: Most vertices an import is planned (re-fitted) from: what the re-fit does in a few seconds (measured on this
#: project's 2-core machine: ~20k vertices 4-6 s, ~50k 8-18 s, ~100k 11-34 s with many slivers). Files up to
#: IMPORT_MAX_VERTICES are still read (and refused with this figure); simplify them by a metre first.
IMPORT_PLAN_MAX_VERTICES = 30_000


#: A feature with less than this share of its area inside the outline (buffered by IMPORT_NEAR_M) is rejected.
IMPORT_MIN_INSIDE_SHARE = 0.5


IMPORT_NEAR_M = 1000.0


#: A file none of whose features comes this close to the district (m) is refused as a whole (wrong CRS?).
IMPORT_FAR_M = 20000.0


#: Strips of the remainder narrower than twice this (m) are slivers, handed to a neighbouring unit.
IMPORT_SLIVER_WIDTH_M = 25.0


#: Detached parts of an imported unit smaller than this (km²) are handed to a neighbour like slivers.
IMPORT_CRUMB_KM2 = 0.05


#: Overlaps between imported units and gaps (pieces claimed by no unit) are listed from this size on (m²).
IMPORT_REPORT_MIN_M2 = 100.0


#: GCJ-02 check: the file is suspected to be GCJ-02 declared as WGS84 when shifting it back (GCJ-02 → WGS84)
#: leaves less than this share of the imported area outside the outline and gains at least IMPORT_GCJ02_MIN_GAIN_KM2.
IMPORT_GCJ02_RATIO = 0.5


IMPORT_GCJ02_MIN_GAIN_KM2 = 0.2


#: Overpass API endpoint and timeout (s) for ``python -m layers refresh-osm``.
OVERPASS_URL = "https://overpass-api.de/api/interpreter"


OVERPASS_TIMEOUT_S = 90


#: OSM relation of 松江区 (the district) whose township-level units the refresh fetches.
OSM_DISTRICT_NAME = "松江区"


# ---- Meeting mode (layers/py, layers/meeting.py) ------------------------------------------------------
#: The town of the close-up in the meeting pack and on the Present page when none is given: 九亭镇 (Line 9,
#: several parks, in the 产城融合示范片区).
PACK_TOWN = "310117107"


#: Worker processes drawing the pack's PNG/PDF pages (at most CPUs - 1; 1 = in this process).
PACK_WORKERS = 4


#: Web scene maps: zoom step when fitting the scene (finer than Leaflet's 1, so the scene fills the screen).
SCENE_ZOOM_SNAP = 0.25


#: A scene window shorter than this (px) folds its note on sources into a small "来源" button.
SCENE_NOTE_FOLD_BELOW_PX = 780
#: The Present page's scene is never shorter than this (px), so a phone still shows a map to scroll to.
SCENE_MIN_HEIGHT_PX = 360
#: Room (px) left below the scene on the Present page.
SCENE_BOTTOM_GAP_PX = 8


# ---- The in-page map sent first (layers/app/gate.py) -----------------------------------------------------------
#: Environment variable that turns the "map first" gate off ("0", "off", "false", "no"); on when unset. With the
#: gate on, a page's first run in a session stops after its map and the rest follows once the map says it is drawn.
MAP_GATE_ENV = "SONGJIANG_MAP_GATE"
#: Seconds after which the rest of a gated page is sent even if the map never reported (a failed map never hides
#: the page).
MAP_GATE_TIMEOUT_S = 10.0


# ---- Town boundary import (layers/import_towns.py) ----------------------------------------------------------------
#: Environment variable that lets the Data page apply or revert an import ("1", "on", "true", "yes", or unset).
#: Any other value ("0", "off", …) takes the import panel off the page for a server shared beyond the planning
#: team; ``python -m layers import-towns`` on the server still works.
IMPORT_IN_APP_ENV = "SONGJIANG_IMPORT_IN_APP"
#: Environment variable holding the admin token that applying or reverting an import in the app asks for (once per
#: session). Unset: only a browser on the server itself (a loopback address) may apply or revert.
ADMIN_TOKEN_ENV = "SONGJIANG_ADMIN_TOKEN"


# ---- The workspace store (layers/core/store.py) -----------------------------------------------------------------
#: Environment variable naming the folder of the embedded store (default ``var/`` in the checkout, git-ignored).
DATA_DIR_ENV = "SONGJIANG_DATA_DIR"
#: Environment variable with a PostgreSQL URL (``postgresql://user@host/db``): the store lives there instead.
DATABASE_URL_ENV = "SONGJIANG_DATABASE_URL"
#: Seconds a change of the store waits for another one to finish before it is told the store is busy.
STORE_LOCK_TIMEOUT_S = 30.0


# ---- Serving (README, "Serving to a team") --------------------------------------------------------------------
#: Environment variable listing the host names the pages answer to (comma-separated, e.g.
#: "planning.example.org"); a request for any other Host (DNS rebinding) gets a refusal instead of the page.
ALLOWED_HOSTS_ENV = "SONGJIANG_ALLOWED_HOSTS"


#: Host names always allowed: the machine itself (``make run`` listens on 127.0.0.1 only).
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


# ---- Basemaps (layers/render.py) --------------------------------------------------------------------------------
#: Environment variable holding a 天地图 key (32 hex digits); the 天地图 basemap is offered only when it is set.
TIANDITU_KEY_ENV = "TIANDITU_KEY"


# ---- Display (layers/simplify.py) -------------------------------------------------------------------------------
#: Tolerance (m, EPSG:4549) of the drawn copies of towns, zones and the district: under a pixel at zoom 13
#: (~19 m/px at 31° N); files, filters, statistics and exports keep the full geometry.
DISPLAY_SIMPLIFY_M = 15.0


# ---- Downloads in the app (layers/ui.py) -------------------------------------------------------------------------
#: Downloads kept ready in the process-wide cache (each at most a few MB); older ones are made again on demand.
DOWNLOAD_CACHE_ENTRIES = 32


# ---- Your own layer on the map (layers/userlayer.py) -----------------------------------------------------------
#: Upload limit for an overlay file (the same as Streamlit's server.maxUploadSize in .streamlit/config.toml).
USER_LAYER_MAX_BYTES = UPLOAD_MAX_MB * 1024 * 1024


#: Most features / vertices an overlay may have (a browser map of more becomes unusable).
USER_LAYER_MAX_FEATURES = 20_000


USER_LAYER_MAX_VERTICES = 500_000


#: Most attribute columns shown in an overlay's tooltip and popup.
USER_LAYER_MAX_FIELDS = 12
