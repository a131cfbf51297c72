"""GCJ-02 conversion against published pairs and by round trip."""
import numpy as np
import pytest
from pyproj import Geod

from layers.core.crs import gcj02_to_wgs84, wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.mark.parametrize(
    "wgs, gcj",
    [
        # hujiulong/gcoord unit test (test/unit/crs/GCJ02.spec.js): GCJ02 [123, 45] -> WGS84.
        ((122.99395597, 44.99804071), (123.0, 45.0)),
        # A published WGS84/GCJ-02 pair near Jinshan, next to Songjiang (geotool CLI test).
        ((121.0917077, 30.6107779), (121.09626935575027, 30.608604331756705)),
    ],
)
def test_published_pairs(wgs, gcj):
    glon, glat = wgs84_to_gcj02(*wgs)
    assert _metres(glon, glat, *gcj) < 0.5
    wlon, wlat = gcj02_to_wgs84(*gcj)
    assert _metres(wlon, wlat, *wgs) < 0.5


def test_round_trip_over_songjiang_below_half_a_metre():
    lon, lat = np.meshgrid(np.linspace(121.0, 121.4, 21), np.linspace(30.85, 31.2, 21))
    glon, glat = wgs84_to_gcj02(lon.ravel(), lat.ravel())
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    err = np.array([_metres(a, b, c, d) for a, b, c, d in zip(lon.ravel(), lat.ravel(), back_lon, back_lat)])
    assert err.max() < 0.5


def test_offset_in_songjiang_is_about_480_m():
    glon, glat = wgs84_to_gcj02(121.22, 31.03)
    offset = _metres(121.22, 31.03, float(glon), float(glat))
    assert 400 < offset < 560
    assert glon > 121.22 and glat < 31.03  # GCJ-02 sits east and south of WGS84 here
