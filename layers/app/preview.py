"""The Map page's preview: a warm browser shows the map it drew last time for the same address while Streamlit starts.

Measured on this machine (2026-11-28): a Streamlit page whose only element is a component painting one SVG path
paints it 1.2 s (warm cache) / 1.6 s (new profile) after navigation, the time Streamlit's own code takes to start
and mount a component; the Map page's map comes 0.4-0.6 s after that. A script in the served page itself runs
before Streamlit's code: when this browser drew the Map page at the same address, window size and data version
before, ``early.js`` draws that map again at once where the map will appear, still and unclickable, until the
in-page map has drawn itself (``mapview.js`` saves what it drew and removes the preview). The data version is the
stamp of the data the app's runs last read (:func:`set_data_stamp`), so after an import or a new build no preview
shows the old data. No Streamlit here: :mod:`layers.app.serve` writes :func:`preview_head` and :func:`preview_body`
into every page it serves.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

_HERE = Path(__file__).resolve().parent
#: Leaflet, from the app's own static folder, asked for before Streamlit's code and run as soon as it comes, without
#: holding the page (a Leaflet that fails or never answers must not hide the page: the map says so instead). The
#: in-page maps wait for this same script (``leaflet_loader.js``).
_HEAD = (b'<link rel="stylesheet" href="/app/static/vendor/leaflet/leaflet.css">'
         b'<script async id="sj-leaflet" src="/app/static/vendor/leaflet/leaflet.js" '
         b'onerror="this.dataset.failed=1"></script>')
_SCRIPT = "\n".join((_HERE / name).read_text(encoding="utf-8") for name in ("leaflet_layers.js", "early.js"))
_STAMP: dict[str, str] = {}


def set_data_stamp(key: object) -> None:
    """Remember the data version the app's runs read (any value with a stable ``repr``)."""
    _STAMP["v"] = hashlib.blake2b(repr(key).encode("utf-8"), digest_size=8).hexdigest()


def data_stamp() -> str:
    """The data version's stamp ("" before any run read the data: then no preview is drawn)."""
    return _STAMP.get("v", "")


def preview_head() -> bytes:
    """What goes first in ``<head>``: Leaflet's stylesheet and script."""
    return _HEAD


def preview_body() -> bytes:
    """What goes before ``</body>``: the data stamp and the preview script, in one function (no globals but
    ``window.__sjData`` and ``window.__sjLoad``)."""
    body = f"window.__sjData={json.dumps(data_stamp())};(function(){{\n{_SCRIPT}\n}})();"
    return ("<script>" + body.replace("</", "<\\/") + "</script>").encode("utf-8")
