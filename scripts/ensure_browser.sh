#!/usr/bin/env bash
# Make Debian's Chromium (and the CJK fonts used by exports) available for the browser tests.
# Installs them when we are root and apt-get exists; under CI=true a missing browser is an error.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${need[*]} with apt-get ..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null 2>&1 \
    || echo "apt-get could not install ${need[*]}"
fi
if ! command -v chromium >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "ERROR: Debian's chromium is not installed and could not be installed; browser tests cannot run." >&2
    exit 1
  fi
  echo "NOTE: chromium not found: browser tests will be skipped (apt-get install -y chromium)."
fi
exit 0
