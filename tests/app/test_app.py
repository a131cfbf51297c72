"""The Streamlit app runs (AppTest, no browser)."""

import pytest
from streamlit.testing.v1 import AppTest

from layers.core import paths

APP = str(paths.PROJECT_DIR / "app.py")


def test_home_page_runs_and_draws_the_map():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert "松江规划地图" in at.title[0].value
    assert not at.warning  # every layer loaded


@pytest.mark.usefixtures("fresh_caches")  # another geodata/: no cached layer may come from, or outlive, this test
def test_a_broken_layer_file_is_reported_and_the_rest_still_show(tmp_path, monkeypatch):
    from layers.core import paths

    for f in paths.GEODATA_DIR.glob("*.geojson"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "parks.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    monkeypatch.setattr(paths, "GEODATA_DIR", tmp_path)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert any("parks" in w.value for w in at.warning)
