"""Basemaps by name (``BASEMAPS``): tiles, attribution, whether they are GCJ-02; the optional Tianditu key."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from layers.core import settings


@dataclass(frozen=True)
class Basemap:
    """A background map. ``gcj02`` basemaps need the vector layers shifted at draw time."""

    id: str
    label_zh: str
    label_en: str
    tiles: str | None
    attribution: str
    gcj02: bool = False
    needs_network: bool = True
    subdomains: str = "abc"
    #: A second tile layer drawn over the first (e.g. 天地图's place-name annotation).
    labels: str | None = None


BASEMAPS: dict[str, Basemap] = {
    "none": Basemap("none", "无底图（离线）", "No basemap (offline)", None, "", needs_network=False),
    "osm": Basemap("osm", "OpenStreetMap（需联网）", "OpenStreetMap (online)",
                   "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors"),
    "positron": Basemap("positron", "CartoDB Positron（需联网）", "CartoDB Positron (online)",
                        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
                        "© OpenStreetMap contributors © CARTO"),
    "amap": Basemap("amap", "高德地图（GCJ-02，需联网）", "Amap (GCJ-02, online)",
                    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                    "© 高德地图 AutoNavi", gcj02=True, subdomains="1234"),
}
_TIANDITU_KEY = re.compile(r"[0-9a-fA-F]{32}")
_TIANDITU_WMTS = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                  "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
                  "&TILECOL={x}&tk={key}")


def basemaps(environ: Mapping[str, str] | None = None) -> dict[str, Basemap]:
    """The basemaps on offer: :data:`BASEMAPS`, plus 天地图 when a key is configured.

    天地图 (the national map service) needs a personal key, read from the environment variable named by
    ``settings.TIANDITU_KEY_ENV`` (32 hex digits; anything else is ignored). Its tiles are CGCS2000, which is
    WGS84 to well under a metre here, so the vectors are not shifted.
    """
    env = os.environ if environ is None else environ
    key = (env.get(settings.TIANDITU_KEY_ENV) or "").strip()
    if not _TIANDITU_KEY.fullmatch(key):
        return BASEMAPS
    tianditu = Basemap(
        "tianditu", "天地图（需联网与密钥）", "Tianditu (online, needs a key)",
        _TIANDITU_WMTS.format(layer="vec", key=key, s="{s}", z="{z}", x="{x}", y="{y}"),
        "© 天地图 国家地理信息公共服务平台", subdomains="01234567",
        labels=_TIANDITU_WMTS.format(layer="cva", key=key, s="{s}", z="{z}", x="{x}", y="{y}"))
    return {**BASEMAPS, "tianditu": tianditu}
