"""Hostile input: URL parameters, boundary and overlay uploads, attribute values on the map and in exports.

Every case checks three things: a clear message (the project's own exception type, or a notice, naming the
problem), that nothing changed that should not (geodata/ hashed before and after each test), and that nothing runs
or renders as code (no raw markup or evaluated template syntax reaches a page, a map or a file).
"""
from __future__ import annotations

import csv
import hashlib
import importlib.util
import inspect
import io
import json
import math
import re
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from shapely.geometry import Polygon, mapping
from streamlit.testing.v1 import AppTest

from layers.core import paths, settings
from layers.core.errors import SongjiangMapError, TownImportError
from layers.core.upload import read_town_file
from layers.export.download import export_layers
from layers.export.formats import inert_cell
from layers.imports.apply import apply_import
from layers.imports.plan import plan_import
from layers.map.elements import safe_text
from layers.map.filters import LayerFilter
from layers.map.render import build_map
from layers.map.state import MapState, state_from_params, state_to_params
from layers.scenes.choice import choose_scene

ROOT = paths.PROJECT_DIR
MAP_PAGE = str(ROOT / "pages" / "1_地图_Map.py")
HAS_USER_LAYER = importlib.util.find_spec("layers.map.userlayer") is not None

#: What must never reach a page, a notice or a map as live markup or template syntax.
LIVE = re.compile(r"<\s*script|<\s*img|<\s*svg|<\s*iframe|on\w+\s*=|javascript:|\{\{|\{%|\{#", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\u202e\u2066-\u2069]")


def assert_inert(text: str) -> None:
    """No live markup, template syntax or control characters in ``text``."""
    assert not LIVE.search(text), text[:300]
    assert not CONTROL.search(text), repr(text[:300])


def _geodata_hashes() -> dict[str, str]:
    return {p.relative_to(paths.GEODATA_DIR).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(paths.GEODATA_DIR.rglob("*")) if p.is_file()}


@pytest.fixture(autouse=True)
def geodata_untouched():
    """Whatever a hostile input does, the project's data is the same afterwards (no file added or changed)."""
    before = _geodata_hashes()
    yield
    assert _geodata_hashes() == before, "geodata/ changed"


# ============================================================================================ URL parameters

DEFAULT = MapState()
LONG = "x" * 100_000

#: (case id, parameters, the state fields that must keep their default)
URL_CASES: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("oversized-town", {"town": "3" * 100_000}, ("town",)),
    ("oversized-centre", {"c": "31.0" + "0" * 50_000 + ",121.2"}, ("center",)),
    ("oversized-filter", {"rail_status": "open," * 50_000}, ("filters",)),
    ("oversized-unknown-key", {LONG: LONG}, ("layers", "filters", "town")),
    ("many-unknown-keys", {f"k{i}": "<script>alert(1)</script>" for i in range(2000)}, ("layers", "filters")),
    ("script-in-basemap", {"basemap": "<script>alert(document.cookie)</script>"}, ("basemap",)),
    ("script-in-lang", {"lang": "<svg onload=alert(1)>"}, ("lang",)),
    ("script-in-filter-key", {"<script>alert(1)</script>": "open"}, ("filters",)),
    ("script-in-filter-value", {"park_kind": "\"><img src=x onerror=alert(1)>"}, ("filters",)),
    ("template-in-town", {"town": "{{7*7}}"}, ("town",)),
    ("template-in-layers", {"layers": "{{ config.items() }},towns"}, ()),
    ("template-in-filter", {"zone": "{% for x in range(9) %}{{x}}{% endfor %}"}, ("filters",)),
    ("template-in-f-prefix", {"f_town": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}, ("filters",)),
    ("nan-centre", {"c": "NaN,NaN"}, ("center",)),
    ("inf-centre", {"c": "Infinity,-Infinity"}, ("center",)),
    ("huge-centre", {"c": "1e308,1e308"}, ("center",)),
    ("huge-digits-centre", {"c": "9" * 300 + ",121.2"}, ("center",)),
    ("nan-zoom", {"z": "nan"}, ("zoom",)),
    ("inf-zoom", {"z": "inf"}, ("zoom",)),
    ("huge-zoom", {"z": "1" + "0" * 400}, ("zoom",)),
    ("negative-zero-zoom", {"z": "-0"}, ("zoom",)),
    ("traversal-town", {"town": "../../../../etc/passwd"}, ("town",)),
    ("traversal-layers", {"layers": "../geodata/towns,..\\..\\windows\\win.ini"}, ("layers",)),
    ("traversal-basemap", {"basemap": "file:///etc/passwd"}, ("basemap",)),
    ("nul-in-town", {"town": "310117103\x00<script>"}, ("town",)),
    ("rtl-override-lang", {"lang": "\u202ezh"}, ("lang",)),
    ("zero-width-layers", {"layers": "tow\u200bns"}, ("layers",)),
    ("newline-injection", {"basemap": "none\r\nSet-Cookie: x=1"}, ("basemap",)),
    ("repeated-town", {"town": ["310117103", "<script>alert(1)</script>"]}, ("town",)),
    ("repeated-zoom-1000", {"z": [str(i) for i in range(1000)]}, ("zoom",)),
    ("non-string-values", {"z": 12.0, "c": [31.0, 121.2], "town": None, "lang": b"en"}, ("zoom", "center", "lang")),
    ("non-string-keys", {12: "x", None: "y", ("a",): "z"}, ("layers", "filters")),
]


@pytest.mark.parametrize("params, defaults", [c[1:] for c in URL_CASES], ids=[c[0] for c in URL_CASES])
def test_hostile_url_parameters_keep_the_default_and_say_so_inertly(params, defaults):
    state, notices = state_from_params(params)
    for name in defaults:
        assert getattr(state, name) == getattr(DEFAULT, name), name
    for notice in notices:
        assert isinstance(notice, str) and len(notice) < 300
        assert_inert(notice)
        assert "<class" not in notice  # template syntax is never evaluated (and shown only neutralised)
    if any(isinstance(k, str) and k in ("town", "c", "z", "lang", "basemap") for k in params):
        assert notices, "a dropped value of a known parameter is reported"
    for value in state_to_params(state).values():  # the link the page writes back is clean
        assert_inert(value)
        assert len(value) < 2000


#: The same kind of link, opened on the real Map page.
PAGE_CASES = {
    "script-town": {"town": "<script>alert(1)</script>"},
    "template-everywhere": {"lang": "{{7*7}}", "basemap": "{{7*7}}", "layers": "{{7*7}}", "rail_status": "{{7*7}}"},
    "nan-view": {"c": "nan,inf", "z": "1e308"},
    "traversal": {"town": "../../etc/passwd", "layers": "../../geodata/towns"},
    "oversized": {"town": "9" * 20_000, "park_kind": "y" * 20_000},
    "control-chars": {"basemap": "none\x00\x1b[31m", "zone": "\u202eevil"},
    "unknown-keys": {"__proto__": "x", "constructor": "{{7*7}}", "<b>": "<i>"},
}


def _page_texts(at: AppTest) -> list[tuple[str, bool]]:
    """(text, rendered as HTML?) of every text element of the page."""
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "title", "header", "subheader", "code"):
        for element in getattr(at, kind):
            out.append((str(element.value), bool(getattr(element.proto, "allow_html", False))))
    return out


@pytest.mark.parametrize("params", list(PAGE_CASES.values()), ids=list(PAGE_CASES))
def test_the_map_page_opens_hostile_links_without_running_them(params):
    # Warm caches, as in tests/app (conftest there): a link's parameters change no data a cache reads.
    at = AppTest.from_file(MAP_PAGE, default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    known = {"town", "c", "z", "lang", "basemap", "layers", "rail_status", "park_kind", "zone"}
    if known & set(params):
        assert at.info, "the dropped parameters are reported"
    for text, as_html in _page_texts(at):
        # Streamlit markdown shows text; escaped (\<) markup is text too. Notices never repeat a value.
        assert not re.search(r"(?<!\\)<\s*(script|img|svg|b>|i>)", text), text[:200]
        assert "7*7" not in text and "__proto__" not in text and "passwd" not in text, text[:200]
        assert "9" * 100 not in text and "y" * 100 not in text
        if as_html:  # the few HTML elements (styles) carry nothing from the link
            assert not any(str(v)[:12] in text for v in params.values())
    summary = at.session_state["map_summary"]
    assert summary["bounds"] is None  # no town was focused from a hostile value


@pytest.mark.parametrize("params, scene, notices", [
    ({"scene": "<script>alert(1)</script>"}, "structure", ["pres_bad_scene"]),
    ({"scene": "{{7*7}}", "town": "../x"}, "structure", ["pres_bad_scene", "pres_bad_town"]),
    ({"scene": ["structure", "zones"] * 500, "town": "9" * 10_000}, "zones", ["pres_bad_town"]),
    ({"scene": "town", "town": "310117103\x00"}, "town", ["pres_bad_town"]),
], ids=["script", "template", "oversized-repeated", "nul-town"])
def test_hostile_present_links_fall_back_with_a_notice(params, scene, notices):
    choice, said = choose_scene(params, town_codes={"310117103"})
    assert choice.scene == scene and said == notices  # i18n keys only: the value is never echoed
    assert choice.town in (None, "310117103", settings.PACK_TOWN)
    assert_inert(json.dumps(choice.params(), ensure_ascii=False))


# ============================================================================================ uploaded files

@pytest.fixture(scope="module")
def towns() -> gpd.GeoDataFrame:
    return gpd.read_file(paths.GEODATA_DIR / "towns.geojson")


def geojson_bytes(features: list[dict[str, Any]]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode("utf-8")


def town_feature(towns: gpd.GeoDataFrame, name: str, **props: Any) -> dict[str, Any]:
    row = towns[towns["name_zh"] == name].iloc[0]
    return {"type": "Feature", "properties": {"code": row["code"], "name_zh": name, **props},
            "geometry": mapping(row.geometry)}


class Upload(io.BytesIO):
    """What Streamlit hands over: a name and a size known before anything is read."""

    def __init__(self, name: str, size: int):
        super().__init__(b"")
        self.name, self.size = name, size

    def read(self, *_a):
        raise AssertionError("the upload was read before its size was checked")

    getvalue = read


def zip_bytes(entries: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


@pytest.fixture(scope="module")
def shapefile_parts(tmp_path_factory, towns) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("shp")
    pyogrio.write_dataframe(towns[towns["name_zh"] == "泖港镇"][["code", "name_zh", "geometry"]],
                            folder / "towns.shp", encoding="UTF-8")
    return {f"towns{ext}": (folder / f"towns{ext}").read_bytes() for ext in (".shp", ".shx", ".dbf", ".prj")}


def nested(depth: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * depth + close * depth).encode()


def billion_laughs() -> bytes:
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)]
    return ('<?xml version="1.0"?>\n<!DOCTYPE kml [\n' + "\n".join(entities) + "\n]>\n"
            '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&lol9;</name>'
            "<Point><coordinates>121.2,31.0</coordinates></Point></Placemark></kml>").encode()


def kml_with_doctype(doctype: str) -> bytes:
    return (f'<?xml version="1.0"?>\n{doctype}\n<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark>'
            "<name>&xxe;</name><Point><coordinates>121.2,31.0</coordinates></Point></Placemark></kml>").encode()


def many_vertices(n: int) -> bytes:
    """A GeoPackage holding one ring of ``n`` vertices around Songjiang (GeoPackage: fast to write and read)."""
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = Polygon(np.column_stack([121.2 + 0.05 * np.cos(angle), 31.0 + 0.05 * np.sin(angle)]))
    frame = gpd.GeoDataFrame({"code": ["310117103"], "name_zh": ["佘山镇"]}, geometry=[ring], crs=settings.WGS84)
    buf = io.BytesIO()
    pyogrio.write_dataframe(frame, buf, driver="GPKG", layer="big")
    return buf.getvalue()


def _bomb() -> bytes:
    return zip_bytes({"towns.shp": b"\0" * (settings.IMPORT_MAX_BYTES + 2 ** 20), "towns.shx": b"",
                      "towns.dbf": b"", "towns.prj": b""})


def _spread_bomb() -> bytes:
    part = b"\0" * (settings.IMPORT_MAX_BYTES // 8)
    return zip_bytes({**{f"pad{i}.txt": part for i in range(9)}, "towns.shp": b"", "towns.shx": b"",
                      "towns.dbf": b"", "towns.prj": b""})


#: (case id, file name, content or a callable making it from the shapefile parts, words the message must hold)
READ_CASES: list[tuple[str, str, Any, tuple[str, ...]]] = [
    ("malformed-json", "a.geojson", b'{"type": "FeatureCollection", "features": [{"type": ', ("not valid JSON",)),
    ("json-not-geojson", "a.geojson", b'[1, 2, 3]', ("not a GeoJSON FeatureCollection",)),
    ("json-script-type", "a.geojson", b'{"type": "<script>alert(1)</script>"}', ("not a GeoJSON",)),
    ("deeply-nested-arrays", "a.geojson", nested(100_000), ("nested too deeply",)),
    ("deeply-nested-objects", "a.json", ('{"a":' * 100_000 + "1" + "}" * 100_000).encode(), ("nested too deeply",)),
    ("nested-inside-features", "a.geojson",
     b'{"type":"FeatureCollection","features":' + nested(200_000) + b"}", ("nested too deeply",)),
    ("not-utf8", "a.geojson", "名称".encode("gb18030") * 10, ("not UTF-8",)),
    ("binary-garbage-gpkg", "a.gpkg", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, ("not a GeoPackage",)),
    ("unknown-extension", "payload.exe", b"MZ\x90\x00", ("unsupported format .exe",)),
    ("no-extension", "README", b"text", ("unsupported format",)),
    ("zip-parent-path", "a.zip", lambda p: zip_bytes({**p, "../../evil.txt": b"x"}),
     ("unsafe paths", "../../evil.txt")),
    ("zip-absolute-path", "a.zip", lambda p: zip_bytes({**p, "/tmp/evil.txt": b"x"}), ("unsafe paths",)),
    ("zip-windows-drive", "a.zip", lambda p: zip_bytes({**p, "C:\\evil.txt": b"x"}), ("unsafe paths",)),
    ("zip-backslash-parent", "a.zip", lambda p: zip_bytes({**p, "..\\..\\evil.txt": b"x"}), ("unsafe paths",)),
    ("zip-symlink", "a.zip", lambda p: zip_bytes(p, symlink="towns.cpg"), ("unsafe paths",)),
    ("zip-bomb-one-entry", "a.zip", lambda p: _bomb(), ("would unpack to", "Nothing was extracted")),
    ("zip-bomb-many-entries", "a.zip", lambda p: _spread_bomb(), ("would unpack to",)),
    ("zip-nested-zip", "a.zip", lambda p: zip_bytes({"inner.zip": zip_bytes(p)}), ("holds no .shp",)),
    ("zip-truncated", "a.zip", lambda p: zip_bytes(p)[:200], ("not a valid zip",)),
    ("kml-billion-laughs", "a.kml", billion_laughs(), ("DTD or XML entities",)),
    ("kml-external-entity", "a.kml", kml_with_doctype('<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
     ("DTD or XML entities",)),
    ("kml-remote-dtd", "a.kml", kml_with_doctype('<!DOCTYPE kml SYSTEM "http://127.0.0.1:9/evil.dtd">'),
     ("DTD or XML entities",)),
    ("kml-spaced-doctype", "a.kml", kml_with_doctype('<! doctype kml [<!entity xxe "x">]>'), ("DTD",)),
    ("huge-vertex-count", "big.gpkg", lambda p: many_vertices(settings.IMPORT_MAX_VERTICES + 10),
     ("vertices; the limit is 1,000,000",)),
]


@pytest.mark.parametrize("name, content, words", [c[1:] for c in READ_CASES], ids=[c[0] for c in READ_CASES])
def test_hostile_boundary_files_are_refused_with_a_clear_message(name, content, words, shapefile_parts,
                                                                 tmp_path, monkeypatch):
    data = content(shapefile_parts) if callable(content) else content
    assert len(data) <= settings.IMPORT_MAX_BYTES  # each case is refused for its content, not its size
    if name.endswith(".zip"):  # a refused zip is never read into memory or onto disk
        monkeypatch.setattr(zipfile.ZipFile, "extract", lambda *a, **k: pytest.fail("extracted"))
        monkeypatch.setattr(zipfile.ZipFile, "extractall", lambda *a, **k: pytest.fail("extracted"))
    with pytest.raises(TownImportError) as info:
        read_town_file(data, filename=name)
    message = str(info.value)
    assert isinstance(info.value, SongjiangMapError)
    for word in words:
        assert word in message, message
    assert len(message) < 2000 and "lol" * 50 not in message and "root:" not in message
    assert not list(tmp_path.parent.glob("**/evil.txt")) and not Path("/tmp/evil.txt").exists()


@pytest.mark.parametrize("size", [settings.IMPORT_MAX_BYTES + 1, 10 * settings.IMPORT_MAX_BYTES])
def test_an_oversized_upload_is_refused_by_its_declared_size_before_reading(size):
    with pytest.raises(TownImportError, match=r"the limit is 50\.0 MB\. .*Nothing was read"):
        read_town_file(Upload("towns.geojson", size))


@pytest.mark.slow  # an import plan with a re-fit of its own
def test_a_hostile_file_name_names_nothing_outside(towns):
    data = geojson_bytes([town_feature(towns, "泖港镇")])
    gdf = read_town_file(data, filename="../../../etc/cron.d/<script>x.geojson")
    assert gdf.attrs["file_name"] == "<script>x.geojson"  # the base name only, kept as text
    report = plan_import(gdf)
    assert "/etc/" not in report.to_json() and "../" not in report.to_json()


def _polygon_text(corner: str) -> bytes:
    return ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"310117103",'
            '"name_zh":"佘山镇"},"geometry":{"type":"Polygon","coordinates":[[[121.20,31.00],' + corner +
            ',[121.22,31.02],[121.20,31.00]]]}}]}').encode()


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_nan_coordinates_are_refused(towns):
    report = plan_import(read_town_file(_polygon_text("[NaN,NaN]"), filename="nan.geojson"))
    assert report.status == "rejected"
    assert "coordinates that are not numbers (NaN or infinity)" in report.to_text()
    with pytest.raises(TownImportError, match="rejected, nothing was written"):
        apply_import(report)


@pytest.mark.parametrize("corner, words", [("[Infinity,31.0]", "the number Infinity"),
                                           ("[121.21,-Infinity]", "the number -Infinity"),
                                           ("[1e999,31.0]", "overflows to infinity")],
                         ids=["infinity", "minus-infinity", "overflow-literal"])
def test_infinite_coordinates_are_refused_before_parsing_the_geometry(corner, words):
    with pytest.raises(TownImportError, match=words):
        read_town_file(_polygon_text(corner), filename="inf.geojson")


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.slow  # an import plan with a re-fit of its own
def test_a_non_finite_feature_among_good_ones_is_rejected_alone(towns):
    bad = {"type": "Feature", "properties": {"code": "310117103", "name_zh": "佘山镇"},
           "geometry": {"type": "Polygon", "coordinates": [[[121.2, 31.0], [math.nan, 31.01], [121.22, 31.0],
                                                            [121.2, 31.0]]]}}
    data = json.dumps({"type": "FeatureCollection", "features": [
        town_feature(towns, "泖港镇"), town_feature(towns, "叶榭镇"), bad]}).encode()
    report = plan_import(read_town_file(data, filename="mixed.geojson"))
    assert report.status == "ready" and len(report.imported_codes) == 2
    assert "1 feature(s) have coordinates that are not numbers" in report.to_text()


#: Attribute values that would run or render if anything treated them as HTML, JS, a template or a formula.
PAYLOADS = [
    "<script>alert('x')</script>",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "\"><iframe src=javascript:alert(1)>",
    "{{7*7}}",
    "{% for i in range(3) %}loop{% endfor %}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{# comment #}",
    "${alert(1)}",
    "=HYPERLINK(\"http://127.0.0.1:9/x\",\"click\")",
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "&lt;already escaped&gt; &amp; &#123;",
    "line\u2028separator\u2029paragraph",
    "<!-- comment --><![CDATA[x]]>",
]


@pytest.mark.slow  # an import plan with a re-fit of its own
def test_markup_and_templates_in_an_imported_file_stay_text(towns):
    features = [town_feature(towns, "泖港镇", source=PAYLOADS[0], licence=PAYLOADS[5]),
                town_feature(towns, "叶榭镇", source=PAYLOADS[6], licence=PAYLOADS[2]),
                {**town_feature(towns, "新浜镇"), "properties": {"code": "999999999", "name_zh": "{{7*7}}<b>"}}]
    report = plan_import(read_town_file(geojson_bytes(features), filename="evil.geojson"))
    assert "HTML/script markup" in report.to_text() and "kept as plain text" in report.to_text()
    props = [f["properties"] for f in report.features]
    assert any(p["source"] == PAYLOADS[0] and p["licence"] == PAYLOADS[5] for p in props)  # stored as given
    assert any(p["source"] == PAYLOADS[6] and p["licence"] == PAYLOADS[2] for p in props)
    assert "{{7*7}}<b>" in report.unmatched[0] and "49" not in report.unmatched[0]  # text, not evaluated


# ============================================================================================ the map

#: What a template payload would turn into if it were evaluated.
EVALUATED = {"{% for i in range(3) %}loop{% endfor %}": "looplooploop",
             "{{ ''.__class__.__mro__[1].__subclasses__() }}": "<class "}

@pytest.fixture(scope="module")
def baseline_scripts(layers) -> int:
    html = build_map({k: layers[k] for k in ("towns", "rail_lines", "parks")}).get_root().render()
    return len(re.findall(r"<script", html, re.IGNORECASE))


@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"payload{i:02d}" for i in range(len(PAYLOADS))])
def test_attribute_values_render_on_the_map_as_text(layers, payload, baseline_scripts):
    parks = layers["parks"].copy()
    parks.loc[parks.index[0], "name_zh"] = payload  # tooltip
    parks.loc[parks.index[1], "source"] = payload   # popup
    towns = layers["towns"].copy()
    towns.loc[towns.index[0], "name_zh"] = payload
    lines = layers["rail_lines"].copy()
    lines.loc[lines.index[0], "name_zh"] = payload  # legend labels come from line names
    html = build_map({"towns": towns, "rail_lines": lines, "parks": parks}).get_root().render()
    assert len(re.findall(r"<script", html, re.IGNORECASE)) == baseline_scripts  # no script added
    shown = safe_text(payload)
    assert shown in html or json.dumps(shown, ensure_ascii=False)[1:-1] in html  # shown literally, escaped
    if any(c in payload for c in "<>{}"):
        assert payload not in html
    evaluated = EVALUATED.get(payload)
    if evaluated:
        assert evaluated not in html


# ============================================================================================ exports

@pytest.fixture(scope="module")
def hostile_parks(layers) -> gpd.GeoDataFrame:
    parks = layers["parks"].copy().reset_index(drop=True)
    assert len(parks) >= len(PAYLOADS) // 2 + 1
    for i, payload in enumerate(PAYLOADS):
        parks.loc[i % len(parks), "name_zh" if i < len(parks) else "source"] = payload
    return parks


KML = "{http://www.opengis.net/kml/2.2}"


def _read_back(path: Path, fmt: str, tmp_path: Path) -> list[str]:
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        return [r["name_zh"] for r in rows] + [r["source"] for r in rows]
    if fmt == "shp":
        zipfile.ZipFile(path).extractall(tmp_path / "shp")
        frame = pyogrio.read_dataframe(next((tmp_path / "shp").glob("*.shp")))
        return list(frame["name_zh"]) + list(frame["source"])
    if fmt == "kml":
        values = []
        for mark in ET.parse(path).getroot().iter(KML + "Placemark"):
            data = {d.get("name"): d.text or "" for d in mark.iter(KML + "SimpleData")}
            values += [data["name_zh"], data["source"]]
        return values
    frame = pyogrio.read_dataframe(path, layer="parks" if fmt == "gpkg" else None)
    return list(frame["name_zh"]) + list(frame["source"])


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv", "kml", "shp"])
def test_hostile_attribute_values_survive_an_export_as_text(fmt, hostile_parks, tmp_path):
    files = export_layers("parks", fmt=fmt, crs=4326, out_dir=tmp_path / "out", layers={"parks": hostile_parks})
    (path,) = [f for f in files if f.suffix in (".geojson", ".gpkg", ".csv", ".kml", ".zip")]
    values = _read_back(path, fmt, tmp_path)
    for payload in PAYLOADS:
        if fmt == "shp" and ("\u2028" in payload):
            continue  # DBF text: kept, but GDAL may normalise the separators; checked in the CSV beside it
        expected = inert_cell(payload) if fmt == "csv" else payload
        assert expected in values, (fmt, payload)
    if fmt == "csv":  # a spreadsheet opening the file sees text, never a formula
        text = path.read_text(encoding="utf-8-sig")
        assert not re.search(r'(^|,)"?[=+@-]', text, re.MULTILINE) or "'=" in text
        for row in csv.reader(io.StringIO(text)):
            assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row), row
    if fmt == "kml":  # the description balloon is HTML: every value in it is escaped
        for mark in ET.parse(path).getroot().iter(KML + "Placemark"):
            description = mark.find(KML + "description").text  # braces are plain text to a KML viewer
            assert not re.search(r"<\s*(script|img|svg|iframe)|<!--", description), description[:300]


# ============================================================================================ your own layer

needs_user_layer = pytest.mark.skipif(not HAS_USER_LAYER, reason="layers/userlayer.py does not exist yet")


@needs_user_layer
@pytest.mark.parametrize("name, content, words", [
    ("big.geojson", "oversized", ("the limit is 50.0 MB",)),
    ("a.geojson", nested(100_000), ("nested too deeply",)),
    ("a.kml", billion_laughs(), ("DTD or XML entities",)),
    ("a.zip", "traversal", ("unsafe paths",)),
    ("a.zip", "bomb", ("would unpack to",)),
    ("big.gpkg", "vertices", ("vertices",)),
    ("a.geojson", b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                  b'"geometry":{"type":"Point","coordinates":[NaN,NaN]}}]}', ("no drawable feature",)),
], ids=["oversized", "nested", "billion-laughs", "zip-traversal", "zip-bomb", "vertices", "all-nan"])
@pytest.mark.slow  # an import plan with a re-fit of its own
def test_hostile_overlay_files_are_refused(name, content, words, shapefile_parts):
    from layers.core.errors import UserLayerError
    from layers.map.userlayer import read_user_layer

    source: Any = {"oversized": Upload(name, settings.USER_LAYER_MAX_BYTES + 1),
                   "traversal": zip_bytes({**shapefile_parts, "../evil.txt": b"x"}),
                   "bomb": _bomb(),
                   "vertices": many_vertices(settings.USER_LAYER_MAX_VERTICES + 10)}.get(content, content)
    with pytest.raises(UserLayerError) as info:
        read_user_layer(source, filename=name)
    assert isinstance(info.value, SongjiangMapError)
    assert all(w in str(info.value) for w in words), str(info.value)


@needs_user_layer
def test_hostile_overlay_attributes_and_field_names_render_as_text(baseline_scripts, layers):
    from layers.map.userlayer import read_user_layer

    features = [{"type": "Feature", "properties": {PAYLOADS[0]: PAYLOADS[5], "{{7*7}}": PAYLOADS[2],
                                                   "name": PAYLOADS[6]},
                 "geometry": {"type": "Point", "coordinates": [121.2 + i / 100, 31.0]}} for i in range(3)]
    features.append({"type": "Feature", "properties": {"name": "nan"},
                     "geometry": {"type": "Point", "coordinates": [math.nan, 31.0]}})
    gdf = read_user_layer(geojson_bytes(features).replace(b"NaN", b"NaN"), filename="<b>mine</b>.geojson")
    assert gdf.attrs["dropped"] == 1 and len(gdf) == 3
    html = build_map({k: layers[k] for k in ("towns", "rail_lines", "parks")},
                     user_layers={"<script>alert(1)</script>{{7*7}}": gdf}).get_root().render()
    assert len(re.findall(r"<script", html, re.IGNORECASE)) == baseline_scripts
    assert safe_text(PAYLOADS[0]) in html and safe_text("{{7*7}}") in html
    assert "<img src=x" not in html and "looplooploop" not in html


# ============================================================================================ limits

def test_the_upload_limit_is_set_once_and_everything_agrees():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == settings.UPLOAD_MAX_MB  # Streamlit refuses bigger uploads itself
    assert settings.IMPORT_MAX_BYTES == settings.UPLOAD_MAX_MB * 2 ** 20
    assert inspect.signature(read_town_file).parameters["max_bytes"].default == settings.IMPORT_MAX_BYTES
    if HAS_USER_LAYER:
        from layers.map.userlayer import read_user_layer

        assert settings.USER_LAYER_MAX_BYTES == settings.UPLOAD_MAX_MB * 2 ** 20
        assert inspect.signature(read_user_layer).parameters["max_bytes"].default == settings.USER_LAYER_MAX_BYTES


def test_a_filter_from_hostile_parameters_is_empty_and_the_export_is_unfiltered(tmp_path):
    flt, notices = LayerFilter.from_params({"rail_status": "<script>", "zone": "{{7*7}}", "town": "../x"})
    assert flt.is_empty() and len(notices) == 3
    for notice in notices:
        assert_inert(notice)
    (path,) = export_layers("district", fmt="geojson", crs=4326, out_dir=tmp_path, flt=flt)
    assert "_filtered" not in path.name
