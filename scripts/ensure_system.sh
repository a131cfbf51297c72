#!/usr/bin/env bash
# Make Debian's GDAL tools (ogrinfo, validate_gpkg.py) and PyQGIS available for the GIS-file tests, and the
# PostgreSQL server with PostGIS and nginx for the workspace-store tests over PostgreSQL and the two-process
# cluster test.
# Installs them when we are root and apt-get exists; under CI=true a missing one is an error (the tests fail too).
set -u
need=()
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
dpkg -L python3-gdal 2>/dev/null | grep -q validate_gpkg.py || need+=(python3-gdal)
/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || need+=(python3-qgis qgis-providers)
test -x /usr/lib/postgresql/15/bin/initdb || need+=(postgresql-15)
test -f /usr/share/postgresql/15/extension/postgis.control || need+=(postgresql-15-postgis-3)
test -x /usr/sbin/nginx || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${need[*]} with apt-get ..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null 2>&1 \
    || echo "apt-get could not install ${need[*]}"
fi
missing=()
command -v ogrinfo >/dev/null 2>&1 || missing+=(gdal-bin)
dpkg -L python3-gdal 2>/dev/null | grep -q validate_gpkg.py || missing+=(python3-gdal)
/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || missing+=(python3-qgis)
test -x /usr/lib/postgresql/15/bin/initdb || missing+=(postgresql-15)
test -f /usr/share/postgresql/15/extension/postgis.control || missing+=(postgresql-15-postgis-3)
test -x /usr/sbin/nginx || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "ERROR: ${missing[*]} not installed and could not be installed; the GIS-file or store tests cannot run." >&2
    exit 1
  fi
  echo "NOTE: ${missing[*]} not found: GIS-file or PostgreSQL store tests will be skipped (apt-get install -y gdal-bin python3-gdal python3-qgis qgis-providers postgresql-15 postgresql-15-postgis-3 nginx-light)."
fi
exit 0
