"""Coordinate systems in one place: WGS84 ↔ GCJ-02 and WGS84 ↔ EPSG:4549 (transformers built once)."""
from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike
from pyproj import Transformer
from shapely import transform as _shapely_transform
from shapely.geometry.base import BaseGeometry

from layers.core import settings

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323


def _offsets(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS84 positions."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + common
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + common
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 lon/lat (scalars or arrays) to GCJ-02.

    Parameters
    ----------
    lon, lat : array-like
        WGS84 degrees. Songjiang lies well inside mainland China, so no
        "outside China" pass-through is applied.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 lon, lat.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _offsets(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 lon/lat to WGS84 by fixed-point iteration of the forward transform.

    The forward offset varies by well under 1e-4 per degree, so each iteration
    gains several digits; ten iterations reach far below a millimetre.
    """
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(20):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < tol_deg) and np.all(np.abs(elat) < tol_deg):
            break
    return wlon, wlat


#: BD-09 (Baidu) is GCJ-02 further rotated and shifted by these constants.
_BD_X_PI = np.pi * 3000.0 / 180.0


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 (Baidu) lon/lat to GCJ-02."""
    x = np.asarray(lon, dtype=float) - 0.0065
    y = np.asarray(lat, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 lon/lat to BD-09 (via GCJ-02); for tests and checks."""
    x, y = wgs84_to_gcj02(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 lon/lat to WGS84 (BD-09 → GCJ-02 → WGS84)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _geometry_via(geom: BaseGeometry, func) -> BaseGeometry:
    def _apply(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return _shapely_transform(geom, _apply)


def geometry_gcj02_to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    """Return a copy of a shapely geometry with every vertex moved from GCJ-02 to WGS84."""
    return _geometry_via(geom, gcj02_to_wgs84)


def geometry_bd09_to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    """Return a copy of a shapely geometry with every vertex moved from BD-09 to WGS84."""
    return _geometry_via(geom, bd09_to_wgs84)


def geometry_wgs84_to_bd09(geom: BaseGeometry) -> BaseGeometry:
    """Return a copy of a shapely geometry with every vertex moved from WGS84 to BD-09 (tests, checks)."""
    return _geometry_via(geom, wgs84_to_bd09)


def geometry_wgs84_to_gcj02(geom: BaseGeometry) -> BaseGeometry:
    """Return a copy of a shapely geometry with every vertex moved from WGS84 to GCJ-02 (draw time only)."""
    return _geometry_via(geom, wgs84_to_gcj02)


TO_MEASURE = Transformer.from_crs(settings.WGS84, settings.MEASURE_CRS, always_xy=True)
TO_WGS84 = Transformer.from_crs(settings.MEASURE_CRS, settings.WGS84, always_xy=True)


def to_measure(geom: BaseGeometry) -> BaseGeometry:
    """Project a WGS84 geometry to the measuring CRS (EPSG:4549, metres)."""
    return shapely.transform(geom, lambda c: np.column_stack(TO_MEASURE.transform(c[:, 0], c[:, 1])))


def to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    """Project a geometry from EPSG:4549 back to WGS84 lon/lat."""
    return shapely.transform(geom, lambda c: np.column_stack(TO_WGS84.transform(c[:, 0], c[:, 1])))


def length_km(geom: BaseGeometry) -> float:
    """Length of a WGS84 line in km, measured in EPSG:4549."""
    return round(to_measure(geom).length / 1000.0, 3)


def area_km2(geom: BaseGeometry) -> float:
    """Area of a WGS84 polygon in km², measured in EPSG:4549."""
    return round(to_measure(geom).area / 1e6, 3)
