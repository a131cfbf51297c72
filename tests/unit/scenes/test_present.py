"""Meeting scenes: scene definitions, offline PNG/PDF rendering (size, dpi, page), town close-ups, glyph coverage."""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from PIL import Image
from pyproj import Transformer

from layers.__main__ import main as cli_main
from layers.core.datatext import plan_ref_text
from layers.core.errors import FontMissingError, SceneError
from layers.scenes import fonts as scenes_fonts
from layers.scenes.figure import _nice_length_km, _true_north_degrees, build_figure
from layers.scenes.fonts import find_cjk_font, missing_glyphs
from layers.scenes.frame import MIN_PNG_WIDTH_PX, prepare_frame
from layers.scenes.model import SCENES_FILE, get_scene, load_scenes
from layers.scenes.output import _save, render_scene

A4_PT = (297 / 25.4 * 72, 210 / 25.4 * 72)
A3_PT = (420 / 25.4 * 72, 297 / 25.4 * 72)
JIUTING = "310117107"


def _pdf_pages(path: Path) -> list[tuple[float, float]]:
    """(width, height) in points of every page, read from the uncompressed page dictionaries matplotlib writes."""
    data = path.read_bytes()
    boxes = re.findall(rb"/Type /Page\b.*?/MediaBox \[\s*([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)\s*\]", data, re.S)
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


@pytest.fixture
def figure_jiuting():
    fig = build_figure("town", town=JIUTING, lang="zh")
    yield fig
    plt.close(fig)


@pytest.fixture
def scene_file_with_unknown_layer(tmp_path) -> Path:
    text = SCENES_FILE.read_text(encoding="utf-8").replace('id = "parks"', 'id = "parkz"', 1)
    path = tmp_path / "scenes.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_scene_layer_is_in_the_catalogue(catalog):
    scenes = load_scenes(catalog=catalog)
    assert set(scenes) == {"structure", "zones", "transport", "industry", "town"}
    for scene in scenes.values():
        assert re.search(r"FYP \d+–\d+", scene.plan_ref), scene.id
        assert plan_ref_text(scene.plan_ref, "zh") in scene.subtitle_zh and scene.plan_ref in scene.subtitle_en
        for layer in scene.layers:
            assert layer.id in catalog.layer_ids, (scene.id, layer.id)


def test_scene_naming_an_unknown_layer_is_refused_with_its_name(scene_file_with_unknown_layer, catalog):
    with pytest.raises(SceneError, match=r"Scene 'industry'.*'parkz'"):
        load_scenes(scene_file_with_unknown_layer, catalog=catalog)


@pytest.mark.slow  # draws print pages (PNG/PDF)
def test_png_is_print_quality_with_dpi_metadata(tmp_path):
    out = render_scene("structure", fmt="png", out=tmp_path / "structure.png", paper="A4", dpi=200)
    with Image.open(out) as im:
        width, height = im.size
        dpi = im.info["dpi"]
    assert width >= MIN_PNG_WIDTH_PX
    assert dpi[0] >= 199.5 and dpi[1] >= 199.5
    # Landscape A4 proportions, and the pixel width agrees with the dpi written into the file.
    assert width / height == pytest.approx(297 / 210, rel=0.01)
    assert width == pytest.approx(dpi[0] * 297 / 25.4, abs=2)
    assert not list(tmp_path.glob(".*.tmp*")) and not list(tmp_path.glob(".structure*"))


@pytest.mark.parametrize("paper, expected, lang", [("A4", A4_PT, "zh"), ("A3", A3_PT, "en")])
@pytest.mark.slow  # draws print pages (PNG/PDF)
def test_pdf_is_one_landscape_page_of_the_paper(tmp_path, paper, expected, lang):
    out = render_scene("zones", fmt="pdf", out=tmp_path / f"zones_{paper}.pdf", paper=paper, lang=lang)
    pages = _pdf_pages(out)
    assert len(pages) == 1
    assert pages[0] == pytest.approx(expected, abs=1.0)
    assert out.read_bytes().startswith(b"%PDF")


@pytest.mark.slow  # draws print pages (PNG/PDF)
def test_town_scene_centres_on_the_town_and_names_it(figure_jiuting, layers):
    texts = [t.get_text() for t in figure_jiuting.findobj(plt.Text) if t.get_visible()]
    assert any(t.startswith("九亭镇") for t in texts)                 # the title names the town
    assert "所属片区：产城融合示范片区" in " ".join(texts)              # and its zone from the plan
    assert "九亭" in texts                                              # its Line 9 station is labelled
    town = layers["towns"].to_crs("EPSG:4549")
    town_geom = town[town["code"] == JIUTING].geometry.iloc[0]
    ax = figure_jiuting.axes[0]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    minx, miny, maxx, maxy = town_geom.bounds
    assert x0 < minx and x1 > maxx and y0 < miny and y1 > maxy
    # A close-up: the frame is a few km around the town, not the whole district.
    assert (x1 - x0) < 3 * (maxx - minx) + 6000


def test_unknown_town_is_a_clear_error(tmp_path):
    with pytest.raises(SceneError, match=r"Unknown town '310117999'.*310117107 九亭镇"):
        render_scene("town", town="310117999", fmt="png", out=tmp_path / "x.png")
    with pytest.raises(SceneError, match="needs a town"):
        render_scene("town", fmt="png", out=tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_cli_reports_unknown_scene_and_bad_argument_combinations(tmp_path, capsys):
    assert cli_main(["present", "--scene", "nope", "--format", "png", "--out", str(tmp_path / "a.png")]) == 2
    assert "Unknown scene 'nope'" in capsys.readouterr().err
    assert cli_main(["present", "--scene", "zones", "--out", str(tmp_path / "a.png")]) == 2
    assert "--format" in capsys.readouterr().err
    assert cli_main(["present", "--pack", "--scene", "zones", "--out", str(tmp_path / "a.zip")]) == 2
    assert "drop --scene and --format" in capsys.readouterr().err
    assert cli_main(["present", "--pack", "--out", str(tmp_path / "a.tar")]) == 2
    assert ".zip" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_cli_writes_an_offline_html_scene(tmp_path, capsys):
    out = tmp_path / "jiuting.html"
    assert cli_main(["present", "--scene", "town", "--town", JIUTING, "--format", "html", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "九亭镇 · 街镇近景" in text
    assert [p.name for p in tmp_path.iterdir()] == ["jiuting.html"]      # no temporary file left behind


def test_cli_help_documents_the_pack_and_its_town(capsys):
    with pytest.raises(SystemExit):
        cli_main(["present", "--help"])
    out = capsys.readouterr().out
    assert "--pack" in out and "--format" in out and "html" in out and "310117107" in out


@pytest.mark.parametrize("scene_id", ["structure", "zones", "transport", "industry", "town"])
def test_every_scene_layer_keeps_features_after_its_filters(scene_id, catalog):
    scene = get_scene(scene_id)
    frame = prepare_frame(scene, JIUTING if scene.needs_town else None, catalog)
    for scene_layer, _, gdf in frame.layers:
        assert len(gdf) > 0, (scene_id, scene_layer.id, scene_layer.where)


@pytest.mark.parametrize("scene_id, lang", [("structure", "zh"), ("zones", "en"), ("transport", "zh"),
                                            ("industry", "zh")])
def test_every_drawn_character_exists_in_the_cjk_font(scene_id, lang):
    fig = build_figure(scene_id, lang=lang)
    try:
        texts = [t.get_text() for t in fig.findobj(plt.Text) if t.get_visible() and t.get_text()]
        if lang == "zh":
            assert any(re.search(r"[\u4e00-\u9fff]", t) for t in texts)   # Chinese is really drawn
        else:
            # Every word in the page's language: an English page draws no Chinese (issue 14 made the notes
            # one language per line; "车墩 (Chedun)" in the English zones note was the last Chinese there).
            assert not [t for t in texts if re.search(r"[\u4e00-\u9fff]", t)]
        assert missing_glyphs(fig) == {}
    finally:
        plt.close(fig)


@pytest.fixture
def figure_with_an_emoji():
    font = find_cjk_font()
    with plt.rc_context({"font.family": font.family}):
        fig = plt.figure(figsize=(3, 2))
        fig.text(0.1, 0.5, "九亭 \U0001F600")
    yield fig
    plt.close(fig)


def test_text_outside_the_font_is_refused_and_the_old_file_kept(tmp_path, figure_with_an_emoji):
    font = find_cjk_font()
    assert font.family == "Noto Sans CJK SC" and font.path.name == "NotoSansCJK-Regular.ttc"
    assert ord("\U0001F600") not in font.cmap and ord("亭") in font.cmap
    assert set(missing_glyphs(figure_with_an_emoji)) == {"\U0001F600"}
    out = tmp_path / "town.png"
    out.write_bytes(b"previous")
    with pytest.raises(FontMissingError, match="U\\+1F600"):
        _save(figure_with_an_emoji, out, fmt="png", dpi=72, metadata={})
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["town.png"]


def test_missing_font_names_the_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(scenes_fonts, "CJK_FONT_FILE", tmp_path / "absent.ttc")
    find_cjk_font.cache_clear()
    try:
        with pytest.raises(FontMissingError, match="apt-get install fonts-noto-cjk"):
            find_cjk_font()
    finally:
        monkeypatch.undo()
        find_cjk_font.cache_clear()


def test_scale_bar_length_is_a_round_quarter_of_the_map():
    assert _nice_length_km(48_000) == 10.0
    assert _nice_length_km(9_000) == 2.0
    # True north in EPSG:4549 leans a little west of grid north east of 120°E (grid convergence ~0.6°).
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True).transform(121.22, 31.03)
    assert -1.0 < _true_north_degrees(x, y) < -0.4
