"""GDAL for this process: the VRT and GDALG drivers, the network drivers and GDAL's own network switched off.

``GDAL_SKIP`` is read once, when pyogrio first loads GDAL and registers its drivers: this module sets it (and the
other settings) just for that moment, then takes them out of the environment again, so programs this process
starts (``ogrinfo``, QGIS, the export tests' GDAL) keep their own. The settings GDAL reads at use time stay in
force through GDAL's own configuration. Every module that reads files imports this one before pyogrio.
"""
from __future__ import annotations

import os

#: GDAL settings for reading untrusted files, set before pyogrio (and so GDAL) is first loaded in this process:
#: drivers are registered once, at that moment, and GDAL_SKIP is only read then. VRT/GDALG open other files and
#: URLs named inside them; the network drivers and GPSBabel (an external program) have no place in an upload.
GDAL_SAFE_ENV = {
    "GDAL_SKIP": "VRT OGR_VRT GDALG GPSBabel HTTP WFS OAPIF OGCAPI CSW NGW Carto AmigoCloud EEDA "
                 "Elasticsearch PLSCENES ADBC",
    # No network: /vsicurl/ only for an extension no file has, short timeouts, no retries, an unusable proxy.
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".songjiang-no-network",
    "GDAL_HTTP_TIMEOUT": "1", "GDAL_HTTP_CONNECTTIMEOUT": "1", "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_PROXY": "127.0.0.1:1", "GDAL_HTTPS_PROXY": "127.0.0.1:1", "GDAL_HTTP_USERPWD": "",
    "CPL_CURL_ENABLE_VSIMEM": "NO", "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "PROJ_NETWORK": "OFF",
    # GeoPackage/SQLite: no ATTACH or VirtualOGR of other files, no integrity-check pass over a hostile file.
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO", "OGR_GPKG_INTEGRITY_CHECK": "NO",
    "OGR_GEOMETRY_ACCEPT_UNCLOSED_RING": "NO",
}

_saved = {key: os.environ.get(key) for key in GDAL_SAFE_ENV}
os.environ.update(GDAL_SAFE_ENV)
import pyogrio  # noqa: E402  (GDAL registers its drivers now, with GDAL_SKIP in force)

pyogrio.set_gdal_config_options({k: v for k, v in GDAL_SAFE_ENV.items() if k != "GDAL_SKIP"})
for _key, _value in _saved.items():
    if _value is None:
        os.environ.pop(_key, None)
    else:
        os.environ[_key] = _value
