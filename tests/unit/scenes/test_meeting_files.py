"""The handout PDF, the pack's cache, label placement on the printed page, one language per note line, legends
without repeats, and the industry scene coloured by the 2+4 industries it cites."""
from __future__ import annotations

import fcntl
import itertools
import os
import re
import shutil
import subprocess
import time
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from PIL import Image
from shapely.geometry import LineString, box

from layers.core import paths
from layers.core.catalog import get_catalog
from layers.core.errors import SceneError
from layers.scenes import batch, output
from layers.scenes.deck import _title_page, build_deck
from layers.scenes.figure import GID_LABEL, GID_LEGEND, GID_NORTH, GID_SCALE, build_figure
from layers.scenes.fonts import find_cjk_font, missing_glyphs
from layers.scenes.frame import COLOUR_VALUE, prepare_frame, scene_titles, source_lines
from layers.scenes.legend import legend_sections
from layers.scenes.model import get_scene, get_scenes
from layers.scenes.pack import build_pack
from layers.scenes.pdfjoin import join_pdfs

JIUTING = "310117107"
SCENES = ("structure", "zones", "transport", "industry", "town")


def _town(scene_id: str) -> str | None:
    return JIUTING if get_scene(scene_id).needs_town else None


# --- the handout --------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def decks(tmp_path_factory, worker_id) -> Callable[[str, str], Path]:
    """``decks(lang, paper)``: the handout, built on first use and then shared by the tests (they only read it),
    whatever order they run in and on whichever xdist worker: the first worker to ask builds it in the run's shared
    temporary folder, under a lock; the other reads it (a parametrised module fixture was built again each time the
    order switched between its parameters, on each worker)."""
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent

    def get(lang: str, paper: str) -> Path:
        out = shared / f"handout-{lang}-{paper}.pdf"
        with open(shared / f"handout-{lang}-{paper}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not out.is_file():
                build_deck(out, lang=lang, paper=paper)
        return out
    return get


@pytest.fixture(params=[("zh", "A4"), ("en", "A3")], ids=["zh-A4", "en-A3"])
def deck(request, decks) -> tuple[Path, str, str]:
    lang, paper = request.param
    return decks(lang, paper), lang, paper


@pytest.mark.slow  # reads the run's two handouts (zh A4, en A3: 14 print pages drawn once)
def test_the_handout_has_a_title_page_and_one_page_per_scene_on_the_paper(deck):
    out, _, paper = deck
    data = out.read_bytes()
    boxes = re.findall(rb"/Type /Page\b.*?/MediaBox \[\s*([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)\s*\]", data, re.S)
    assert len(boxes) == len(get_scenes()) + 1
    width, height = (420, 297) if paper == "A3" else (297, 210)
    for x0, y0, x1, y1 in boxes:
        assert float(x1) - float(x0) == pytest.approx(width / 25.4 * 72, abs=1)   # landscape
        assert float(y1) - float(y0) == pytest.approx(height / 25.4 * 72, abs=1)


@pytest.mark.slow  # reads the run's two handouts (zh A4, en A3: 14 print pages drawn once)
def test_the_handout_embeds_its_fonts(deck):
    data = deck[0].read_bytes()
    fonts = re.findall(rb"<<[^<>]*/Type /Font\b[^<>]*", data)
    assert fonts
    for font in fonts:
        # Type 3 fonts carry their glyphs in the file; any other font must carry a font program.
        assert b"/Subtype /Type3" in font or b"/FontFile" in data, font[:120]
    assert any(b"NotoSansCJK" in f for f in fonts)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_handout_title_page_lists_every_scene_sources_and_date_with_no_missing_glyph(lang):
    catalog = get_catalog()
    entries = [scene_titles(s, prepare_frame(s, JIUTING, catalog).town if s.needs_town else None, lang)
               for s in get_scenes().values()]
    font = find_cjk_font()
    with plt.rc_context({"font.family": font.family}):
        fig = _title_page(entries, lang=lang, paper="A4", catalog=catalog, today=date(2026, 11, 27))
    try:
        texts = " ".join(t.get_text() for t in fig.findobj(plt.Text))
        assert missing_glyphs(fig) == {}
    finally:
        plt.close(fig)
    for title, _ in entries:
        assert title in texts
    assert catalog.meta["release_date"] in texts and "2026-11-27" in texts
    assert ("来源" if lang == "zh" else "Sources") in texts and "OpenStreetMap" in texts


def _raster(pdf: Path, page: int, out: Path) -> bytes:
    """One page of ``pdf`` drawn by poppler (through GDAL's PDF driver) at 30 dpi, as RGB bytes."""
    subprocess.run([shutil.which("gdal_translate"), "-q", "--config", "GDAL_PDF_DPI", "30", "-of", "PNG",
                    f"PDF:{page}:{pdf}", str(out)], check=True, capture_output=True)
    with Image.open(out) as image:
        return image.convert("RGB").tobytes()


@pytest.mark.slow  # reads the run's two handouts (zh A4, en A3: 14 print pages drawn once)
def test_a_pdf_reader_draws_each_handout_page_as_the_scene_pdf(deck, tmp_path):
    if shutil.which("gdal_translate") is None:
        message = "GDAL's gdal_translate (gdal-bin) is not installed: apt-get install -y gdal-bin"
        pytest.fail(message) if os.environ.get("CI") == "true" else pytest.skip(message)
    out, lang, paper = deck
    listing = subprocess.run([shutil.which("gdalinfo"), str(out)], capture_output=True, text=True, check=True).stdout
    assert f"SUBDATASET_{len(get_scenes()) + 1}_NAME=PDF:{len(get_scenes()) + 1}:" in listing   # poppler reads all
    assert "meeting handout" in listing
    for number, scene_id in ((2, "structure"), (len(SCENES) + 1, "town")):
        alone = output.render_scene(scene_id, town=_town(scene_id), fmt="pdf", out=tmp_path / f"{scene_id}.pdf",
                                    lang=lang, paper=paper)
        page = _raster(out, number, tmp_path / f"page{number}.png")
        assert page == _raster(alone, 1, tmp_path / f"{scene_id}.png"), scene_id
        assert len(set(page)) > 3                                  # a drawn page, not a blank one


def test_joined_pdfs_keep_every_page_in_order_and_a_chinese_title(tmp_path):
    pages = [output.render_scene(s, fmt="pdf", out=tmp_path / f"{s}.pdf", paper=paper).read_bytes()
             for s, paper in (("zones", "A4"), ("structure", "A3"))]
    joined = join_pdfs(pages, info={"Title": "松江 · handout"})
    boxes = re.findall(rb"/Type /Page\b.*?/MediaBox \[\s*[\d.]+ [\d.]+ ([\d.]+) ([\d.]+)\s*\]", joined, re.S)
    assert [round(float(w)) for w, _ in boxes] == [842, 1191]        # A4, then A3, landscape
    assert b"/Count 2" in joined and "松江 · handout".encode("utf-16-be").hex().upper().encode() in joined
    with pytest.raises(SceneError, match="not a complete PDF"):
        join_pdfs([pages[0][:-200]], info={})


# --- the pack's cache ---------------------------------------------------------------------------------------
@pytest.mark.slow  # needs the session's drawn pack
def test_the_handout_takes_its_pages_from_a_pack_made_before(tmp_path, monkeypatch, pack_cache):
    monkeypatch.setattr(paths, "SCENE_CACHE_DIR", tmp_path / "cache")
    build_pack(tmp_path / "pack.zip")
    drawn: list[str] = []
    monkeypatch.setattr(batch, "_render_member", lambda job: drawn.append(job[0]) or list(job[-1].values()))
    seen: list[tuple[int, int]] = []
    build_deck(tmp_path / "deck.pdf", workers=1, progress=lambda done, total: seen.append((done, total)))
    assert drawn == []                                        # no page drawn again
    assert seen[-1] == (len(get_scenes()) + 1, len(get_scenes()) + 1)
    with zipfile.ZipFile(tmp_path / "pack.zip") as pack:
        scene_pdfs = [pack.read(n) for n in sorted(pack.namelist()) if n.endswith(".pdf")]
    handout = (tmp_path / "deck.pdf").read_bytes()
    for scene_pdf in scene_pdfs:           # each scene's drawing (its content stream) is in the handout as it is
        content = re.search(rb"/Contents (\d+) 0 R", scene_pdf)
        stream = re.search(rb"\n%s 0 obj\n.*?stream\n(.*?)endstream" % content.group(1), scene_pdf, re.S).group(1)
        assert stream in handout


@pytest.mark.slow  # needs the session's drawn pack
def test_a_second_pack_reuses_the_scene_files_and_reports_progress(tmp_path, pack_cache):
    first = build_pack(tmp_path / "a.zip")
    seen: list[tuple[int, int]] = []
    started = time.perf_counter()
    second = build_pack(tmp_path / "b.zip", progress=lambda done, total: seen.append((done, total)))
    assert time.perf_counter() - started < 5          # nothing drawn again
    assert second.files == first.files
    assert seen and seen[-1] == (len(first.files) - 1, len(first.files) - 1)   # every member but the README


def test_the_cache_follows_the_inputs(geo, monkeypatch):
    monkeypatch.setattr(paths, "GEODATA_DIR", geo)
    before = output.inputs_fingerprint()
    layer = next(geo.glob("*.geojson"))
    os.utime(layer, ns=(layer.stat().st_atime_ns, layer.stat().st_mtime_ns + 10**9))
    assert output.inputs_fingerprint() != before


def test_the_cache_follows_an_import_in_the_workspace_store(geo):
    from layers.core.store import Change, open_store

    before = output.inputs_fingerprint()
    open_store().commit(Change(action="apply", who="test", units=1, overlay="{}"), {"towns.geojson": "{}"}, expect=0)
    assert output.inputs_fingerprint() != before  # geodata/ untouched, the scenes are drawn again


# --- labels on the printed page -----------------------------------------------------------------------------
class _DrawnFigures(dict):
    """Each scene's printed page, built and drawn on first use, then shared by this module's tests (they only read
    it). Keyed by (scene id, language); a scene id alone is its zh page."""

    def __getitem__(self, key: str | tuple[str, str]):
        scene_id, lang = key if isinstance(key, tuple) else (key, "zh")
        if (scene_id, lang) not in self:
            fig = build_figure(scene_id, town=_town(scene_id), lang=lang)
            fig.canvas.draw()
            self[scene_id, lang] = fig
        return super().__getitem__((scene_id, lang))


@pytest.fixture(scope="module")
def figures():
    made = _DrawnFigures()
    yield made
    for fig in made.values():
        plt.close(fig)


def _extent(fig, gid: str):
    found = fig.findobj(lambda a: a.get_gid() == gid)
    assert found, gid
    return found[0].get_window_extent(fig.canvas.get_renderer())


@pytest.mark.parametrize("scene_id", SCENES)
def test_no_label_overlaps_another_label_the_scale_bar_the_legend_or_the_north_arrow(figures, scene_id):
    fig = figures[scene_id]
    renderer = fig.canvas.get_renderer()
    labels = [a for a in fig.findobj(lambda a: a.get_gid() == GID_LABEL) if a.get_visible()]
    assert len(labels) >= 3
    boxes = [a.get_window_extent(renderer) for a in labels]
    for (a, box_a), (b, box_b) in itertools.combinations(zip(labels, boxes, strict=True), 2):
        assert not box_a.overlaps(box_b), (a.get_text(), b.get_text())
    for gid in (GID_SCALE, GID_NORTH, GID_LEGEND):
        keep_clear = _extent(fig, gid)
        for label, label_box in zip(labels, boxes, strict=True):
            assert not label_box.overlaps(keep_clear), (label.get_text(), gid)


@pytest.mark.parametrize("scene_id", ["structure", "zones", "transport", "industry"])
def test_no_label_sits_on_the_district_edge_or_a_rail_line(figures, scene_id):
    fig = figures[scene_id]
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    frame = prepare_frame(get_scene(scene_id), None, get_catalog())
    edges = [g.boundary for _, spec, gdf in frame.layers if spec.id == "district" for g in gdf.geometry]
    edges += [g for _, spec, gdf in frame.layers if spec.geometry == "line" for g in gdf.geometry]
    pixel_lines = [LineString(ax.transData.transform(list(part.coords)))
                   for line in edges for part in getattr(line, "geoms", [line])]
    for label in (a for a in fig.findobj(lambda a: a.get_gid() == GID_LABEL) if a.get_visible()):
        b = label.get_window_extent(renderer)
        assert not any(line.intersects(box(b.x0, b.y0, b.x1, b.y1)) for line in pixel_lines), label.get_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("scene_id", SCENES)
def test_no_text_runs_off_the_page(figures, scene_id, lang):
    fig = figures[scene_id, lang]
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    for text in fig.findobj(plt.Text):
        if text.get_visible() and text.get_text().strip():
            box = text.get_window_extent(renderer)
            assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, \
                text.get_text()[:60]


# --- notes and legends --------------------------------------------------------------------------------------
#: Names written as they are in either language (data sets, licences, the plan's line tag).
PROPER_NAMES = {"OpenStreetMap", "cnmaps", "data", "ODbL", "MIT", "FYP"}


@pytest.mark.parametrize("scene_id", SCENES)
def test_each_note_line_is_in_one_language(scene_id):
    catalog = get_catalog()
    scene = get_scene(scene_id)
    frame = prepare_frame(scene, _town(scene_id), catalog)
    for line in source_lines(scene, frame, catalog, "en"):
        assert not re.search(r"[\u4e00-\u9fff]", line), line
    for line in source_lines(scene, frame, catalog, "zh"):
        words = set(re.findall(r"[A-Za-z]{3,}", re.sub(r"seeds/\S+?\.txt", "", line)))
        assert words <= PROPER_NAMES, (words - PROPER_NAMES, line)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("scene_id", SCENES)
def test_no_legend_lists_an_entry_twice(scene_id, lang):
    catalog = get_catalog()
    sections = legend_sections(prepare_frame(get_scene(scene_id), _town(scene_id), catalog), catalog, lang)
    labels = [e.label for s in sections for e in s.entries]
    assert len(labels) == len(set(labels)), labels
    status = catalog.value_label("status", "under_construction", lang)
    assert sum(status in label for label in labels) <= 1


# --- the industry scene -------------------------------------------------------------------------------------
def test_industry_parks_are_coloured_by_the_industries_they_serve():
    catalog = get_catalog()
    scene = get_scene("industry")
    palette = dict(scene.layers[-1].colors)
    frame = prepare_frame(scene, None, catalog)
    copies = [(spec, gdf) for _, spec, gdf in frame.layers if spec.id == "parks"]
    assert len(copies) >= 2                                 # a park with two industries has a second, wider ring
    seen: dict[str, list[str]] = {}
    for spec, gdf in copies:
        assert spec.style.colour_map() == palette
        for park, value in zip(gdf["id"], gdf[COLOUR_VALUE], strict=True):
            seen.setdefault(park, []).append(value)
    assert sorted(seen["park-bonded-zone-a"]) == ["consumer", "it"]
    assert seen["park-film-city-core"] == ["culture"]
    assert "park-university-town" not in seen               # serves no 2+4 industry
    legend = [e for s in legend_sections(frame, catalog, "zh") for e in s.entries]
    assert {(e.label, e.color) for e in legend} >= {("新一代信息技术", palette["it"]),
                                                    ("时尚消费品", palette["consumer"])}


def test_industry_notes_name_the_industries_with_no_park_and_cite_the_articles():
    catalog = get_catalog()
    scene = get_scene("industry")
    frame = prepare_frame(scene, None, catalog)
    assert set(frame.unlocated["industries"]) == {"equipment", "materials", "health"}
    zh = " ".join(source_lines(scene, frame, catalog, "zh"))
    assert "尚无已定位园区的产业：高端装备、先进材料、生命健康。" in zh
    # "2+4" is the district's own term: the subtitle attributes it to the articles, not to the plan's lines.
    assert "“2+4”见区政府文章 000:15、003:31–41" in scene.subtitle_zh
    assert "“2+4” as stated in the district's articles 000:15, 003:31–41" in scene.subtitle_en
    cited = re.findall(r"seeds/(\S+?\.txt) 第 (\d+)(?:–(\d+))? 行", zh)
    assert {c[0][:3] for c in cited} == {"000", "003"}
    for name, first, last in cited:
        lines = (paths.SEEDS_DIR / name).read_text(encoding="utf-8").splitlines()
        quoted = "\n".join(lines[int(first) - 1:int(last or first)])
        assert "2+4" in quoted, (name, first, last)
