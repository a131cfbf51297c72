"""Load built layers (the workspace store's when an import is in force, else geodata/'s), checking CRS, extent and
required fields against the catalogue."""
from __future__ import annotations

import json
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.core import settings
from layers.core.caches import cached
from layers.core.catalog import Catalog, LayerSpec, get_catalog
from layers.core.errors import LayerLoadError, StoreError
from layers.core.store import served_text

#: A generous WGS84 box around Songjiang: coordinates outside it mean a wrong CRS or axis order.
SONGJIANG_BOUNDS = settings.DISTRICT_BOUNDS


#: Geometry types a layer of each catalogue kind may hold ("mixed" takes any).
GEOMETRY_TYPES = {"polygon": ("Polygon", "MultiPolygon"), "line": ("LineString", "MultiLineString"),
                  "point": ("Point", "MultiPoint")}


def _check_geometry(spec: LayerSpec, gdf: gpd.GeoDataFrame, where: str) -> None:
    geoms = gdf.geometry[gdf.geometry.notna()]
    allowed = GEOMETRY_TYPES.get(spec.geometry)
    if allowed is not None:
        wrong = sorted(set(geoms.geom_type) - set(allowed))
        if wrong:
            raise LayerLoadError(f"{where} holds {', '.join(wrong)} geometry, but the catalogue says it is a "
                                 f"{spec.geometry} layer; rebuild it with `make data`.")
    coords = shapely.get_coordinates(geoms.values)
    if len(coords) and not np.isfinite(coords).all():
        raise LayerLoadError(f"{where} has coordinates that are not finite numbers (NaN or infinity); rebuild it "
                             f"with `make data`.")


def _check_frame(spec: LayerSpec, gdf: gpd.GeoDataFrame) -> None:
    where = f"Layer {spec.id!r} ({spec.file})"
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise LayerLoadError(f"{where} is not in WGS84 (EPSG:4326) but {gdf.crs}; rebuild it with `make data`.")
    _check_geometry(spec, gdf, where)
    required = list(settings.REQUIRED_PROPERTIES)
    if spec.geometry == "point":
        required.append("accuracy_m")
    wanted = dict.fromkeys([*required, *spec.tooltip, *spec.popup])
    missing = [f for f in wanted if f not in gdf.columns]
    if missing:
        raise LayerLoadError(f"{where} lacks the fields {missing} that the catalogue names.")
    bad = sorted(set(gdf["accuracy"].dropna()) - set(settings.ACCURACY_LEVELS))
    if bad or gdf["accuracy"].isna().any():
        raise LayerLoadError(f"{where} has features with unknown or missing accuracy {bad}.")
    geoms = gdf.geometry[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if len(geoms):
        minx, miny, maxx, maxy = geoms.total_bounds
        bx0, by0, bx1, by1 = SONGJIANG_BOUNDS
        if minx < bx0 or miny < by0 or maxx > bx1 or maxy > by1:
            raise LayerLoadError(f"{where} has coordinates outside Songjiang ({minx:.4f}, {miny:.4f}, "
                                 f"{maxx:.4f}, {maxy:.4f}): wrong CRS or lat/lon order?")


def read_layer(layer_id: str, *, catalog: Catalog | None = None) -> gpd.GeoDataFrame:
    """Read one built layer as a GeoDataFrame in WGS84, validated against its catalogue entry.

    Raises
    ------
    LayerLoadError
        When the file is missing, unreadable, in the wrong CRS or lacks fields; the message names the layer.
    """
    spec = (catalog or get_catalog()).layer(layer_id)
    try:
        # Read through json so that a truncated file gives one clear message, whatever GDAL would say.
        data = json.loads(served_text(spec.file, geodata_dir=spec.path.parent))
        if data.get("type") != "FeatureCollection":
            raise LayerLoadError(f"Layer {spec.id!r}: geodata/{spec.file} is not an RFC 7946 FeatureCollection; "
                                 f"rebuild it with `make data`.")
        if "crs" in data:
            raise LayerLoadError(f"Layer {spec.id!r}: geodata/{spec.file} is not an RFC 7946 FeatureCollection: it "
                                 f"declares a 'crs' (another CRS than WGS84?); rebuild it with `make data`.")
        gdf = gpd.GeoDataFrame.from_features(data["features"], crs=settings.WGS84)
        gdf.insert(0, "id", [f.get("id") for f in data["features"]]) if "id" not in gdf.columns else None
    except LayerLoadError:
        raise
    except FileNotFoundError as exc:
        raise LayerLoadError(f"Layer {spec.id!r}: file geodata/{spec.file} is missing; run `make data`.") from exc
    except StoreError as exc:
        raise LayerLoadError(f"Layer {spec.id!r}: {exc}") from exc
    except RecursionError as exc:  # absurdly deep nesting: not a layer this project wrote
        raise LayerLoadError(f"Layer {spec.id!r}: geodata/{spec.file} cannot be read (nested too deeply); rebuild "
                             f"it with `make data`.") from exc
    except (OSError, ValueError, KeyError, TypeError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise LayerLoadError(f"Layer {spec.id!r}: geodata/{spec.file} cannot be read ({str(exc)[:200]}); rebuild "
                             f"it with `make data`.") from exc
    if gdf.empty:
        raise LayerLoadError(f"Layer {spec.id!r}: geodata/{spec.file} has no features.")
    _check_frame(spec, gdf)
    return gdf


def load_layers(layer_ids: Iterable[str] | None = None, *, catalog: Catalog | None = None
                ) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, str]]:
    """Read several layers; a failing layer is reported, not raised, so the others still show.

    Returns
    -------
    (layers, errors)
        Layer id → GeoDataFrame for those that loaded; layer id → message for those that did not.
    """
    catalog = catalog or get_catalog()
    loaded: dict[str, gpd.GeoDataFrame] = {}
    errors: dict[str, str] = {}
    for layer_id in layer_ids or catalog.layer_ids:
        try:
            loaded[layer_id] = read_layer(layer_id, catalog=catalog)
        except LayerLoadError as exc:
            errors[layer_id] = str(exc)
    return loaded, errors


@cached()
def _town_names_en() -> dict[str, str]:
    towns = read_layer("towns")
    return dict(zip(towns["name_zh"], towns["name_en"], strict=False))


def town_name(name_zh: str, lang: str) -> str:
    """A town's name in ``lang`` from its Chinese name (the towns layer's own English names); a name the towns
    layer does not hold is shown as given."""
    return name_zh if lang == "zh" else _town_names_en().get(name_zh, name_zh)


def unlocated_parks() -> pd.DataFrame:
    """Parks the plan names whose position was not found (listed, never drawn)."""

    try:
        info = json.loads(served_text("build_info.json"))
    except (OSError, ValueError, StoreError):
        return pd.DataFrame()
    return pd.DataFrame(info.get("parks_unlocated", []))
