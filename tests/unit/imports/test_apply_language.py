"""Why an apply or revert was refused, in the page's language (issue 15): every refusal of layers/imports/apply.py
carries its kind (``apl_*``, or the store's ``err_changed``) worded in zh and en in layers/core/i18n_imports.py; the
page shows that wording with the English message folded under 技术细节 / Technical details, while the command line
keeps printing the English message as before."""
from __future__ import annotations

import geopandas as gpd
import pytest
from _language import leaks  # tests/_language.py
from shapely.geometry import box

from layers.core import settings
from layers.core.errors import ImportBusyError, SongjiangMapError, TownImportError
from layers.core.i18n import STRINGS, t
from layers.core.store import Change, open_store
from layers.imports.apply import apply_import, report_and_apply, revert_import
from layers.imports.plan import plan_import
from layers.imports.report import ImportReport

FEATURE = {"type": "Feature", "properties": {"code": "310117102"},
           "geometry": {"type": "Polygon", "coordinates": [[[121.2, 31.0], [121.25, 31.0], [121.25, 31.05],
                                                           [121.2, 31.0]]]}}


@pytest.fixture
def store(tmp_path):
    """An empty workspace store of the test's own."""
    return open_store({settings.DATA_DIR_ENV: str(tmp_path / "var")})


@pytest.fixture
def baseline(tmp_path):
    """A geodata folder with nothing in it: the schematic baseline, nothing to migrate, nothing built."""
    folder = tmp_path / "geodata"
    folder.mkdir()
    return folder


def _report(**kw) -> ImportReport:
    return ImportReport(file_name="towns.geojson", accuracy="authoritative", source_crs="EPSG:4326",
                        import_date="2026-01-01", **kw)


def _rejected(store, baseline) -> ImportReport:
    """A real check of a file whose units are none of Songjiang's."""
    gdf = gpd.GeoDataFrame({"name": ["木星镇"]}, geometry=[box(121.20, 31.00, 121.25, 31.05)], crs=4326)
    report = plan_import(gdf, geodata_dir=baseline, store=store)
    report.file_name = "towns.geojson"
    assert report.rejected
    return report


def _needs_confirmation() -> ImportReport:
    report = _report(features=[FEATURE])
    report.add("gcj02", "confirm", key="imr_gcj02", shift="560", given="3.1", shifted="0.2")
    return report


def _changed_since(store, baseline) -> None:
    """Version 1 committed after the page read version 0: a revert planned on version 0 comes too late."""
    store.commit(Change(action="revert", who="another planner", reverts_to=0), None, expect=0)
    revert_import(1, geodata_dir=baseline, store=store, expect=0)


#: Each refusal, raised for real: (how, its kind, the English message the command line prints).
REFUSALS = {
    "rejected file": (lambda s, b: apply_import(_rejected(s, b), geodata_dir=b, store=s), "apl_rejected",
                      "towns.geojson was rejected, nothing was written: "),
    "rejected file, command line": (lambda s, b: report_and_apply(_rejected(s, b), dry_run=False, force=False,
                                                                  geodata_dir=b, store=s),
                                    "apl_rejected", "towns.geojson was rejected; nothing was written."),
    "needs confirmation": (lambda s, b: apply_import(_needs_confirmation(), geodata_dir=b, store=s), "apl_confirm",
                           "Not applied, nothing was written: The boundaries look like GCJ-02"),
    "no units": (lambda s, b: apply_import(_report(), geodata_dir=b, store=s), "apl_no_units",
                 "The report holds no units to import; nothing was written."),
    "stale report": (lambda s, b: apply_import(_report(features=[FEATURE], based_on="2025-06-01"), geodata_dir=b,
                                               store=s),
                     "apl_stale", "This report was made by an older version; check the file again."),
    "no such version": (lambda s, b: revert_import(7, geodata_dir=b, store=s), "apl_no_version",
                        "There is no version 7 (the newest is 0); see --history."),
    "data changed since": (_changed_since, "err_changed", "The data changed since this report was made"),
}


def _refused(case: str, store, baseline) -> SongjiangMapError:
    how = REFUSALS[case][0]
    with pytest.raises(SongjiangMapError) as info:
        how(store, baseline)
    return info.value


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_refusal_has_its_kind_and_keeps_its_command_line_message(case, store, baseline, capsys):
    exc = _refused(case, store, baseline)
    assert isinstance(exc, (TownImportError, ImportBusyError))
    assert exc.key == REFUSALS[case][1], (case, str(exc))
    assert str(exc).startswith(REFUSALS[case][2]), str(exc)  # the command line prints it as before


@pytest.mark.parametrize("case", list(REFUSALS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refusal_reads_in_the_page_s_language(case, lang, store, baseline, capsys):
    from layers.app.import_panel import change_refusal

    exc = _refused(case, store, baseline)
    message, detail = change_refusal(exc, lang)
    action = "apl_revert_failed" if "version" in case or "changed" in case else "imp_failed"
    shown = t(action, lang, message=message)  # what the Data page shows, unfolded
    assert not leaks([("error", shown)], lang), (case, shown)
    assert detail in ("", str(exc))  # the English words, folded under the message
    assert STRINGS["zh"][exc.key] != STRINGS["en"][exc.key]


def test_every_apply_refusal_kind_is_worded_in_both_languages():
    kinds = {k for k in STRINGS["en"] if k.startswith("apl_")}
    assert kinds == {k for k in STRINGS["zh"] if k.startswith("apl_")}
    assert {REFUSALS[c][1] for c in REFUSALS} - {"err_changed"} <= kinds
    assert {"apl_nothing_to_revert", "apl_other"} <= kinds


def test_an_error_of_no_known_kind_is_said_in_general_terms():
    from layers.app.import_panel import change_refusal
    from layers.core.errors import PartitionError

    exc = PartitionError("cell 310117102 missed its area by 3 %")
    assert change_refusal(exc, "zh") == (STRINGS["zh"]["apl_other"], str(exc))
    assert change_refusal(exc, "en") == (str(exc), "")


def _may_change(lang: str) -> None:
    from layers.app.access import may_change

    may_change(lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_visitor_without_the_token_is_refused_in_the_page_s_language(lang, monkeypatch):
    """No admin token and no request from the server itself (AppTest has no client): changes are refused."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv(settings.ADMIN_TOKEN_ENV, raising=False)
    at = AppTest.from_function(_may_change, args=(lang,), default_timeout=60).run()
    assert not at.exception, at.exception
    (notice,) = at.info
    assert notice.value.replace("\\", "").startswith(STRINGS[lang]["imp_local_only"][:20])
    assert not leaks([("info", notice.value)], lang), notice.value


@pytest.mark.slow  # AppTest runs of the whole Data page
@pytest.mark.usefixtures("fresh_caches")  # another store: no cache may come from or outlive it (tests/app/)
def test_the_data_page_shows_a_revert_refusal_in_chinese_with_the_details_folded(monkeypatch, tmp_path):
    """The page's history offers version 1 while the store holds none (another planner's view of it): going back
    to it is refused for real; then reverting the import finds nothing in force."""
    from streamlit.testing.v1 import AppTest

    from layers.app import access
    from layers.app import import_panel as app_import_panel
    from layers.core import paths
    from layers.core.store import Version

    history = [Version(2, "apply", "2026-01-02T08:00:00+00:00", "ann (admin token)", "south.geojson", "cd" * 32, 3),
               Version(1, "apply", "2026-01-01T08:00:00+00:00", "bob (admin token)", "north.geojson", "ab" * 32, 2)]
    monkeypatch.setenv(settings.DATA_DIR_ENV, str(tmp_path / "var"))
    monkeypatch.delenv(settings.ADMIN_TOKEN_ENV, raising=False)
    monkeypatch.setattr(app_import_panel, "read_history", lambda: history)
    monkeypatch.setattr(access, "_request", lambda: ("127.0.0.1", {"host": "localhost:8501"}))
    at = AppTest.from_file(str(paths.PROJECT_DIR / "pages" / "4_数据_Data.py"), default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    at.selectbox(key="imp_revert_version").select(1)
    at.button(key="imp_revert_version_go").click().run()
    assert not at.exception, at.exception
    (error,) = at.error
    assert error.value.replace("\\", "").startswith("无法撤销：没有版本 1（最新为版本 0）"), error.value
    assert not leaks([("error", error.value)], "zh"), error.value
    folded = [e for e in at.expander if e.label == "技术细节"]
    assert folded and "There is no version 1" in folded[0].code[0].value
    at.button(key="imp_revert").click().run()
    assert not at.exception, at.exception
    assert any(STRINGS["zh"]["apl_nothing_to_revert"] in i.value for i in at.info), [i.value for i in at.info]
    assert not at.success  # nothing was reverted, and the page does not say it was


def _revert_on_the_page(lang: str) -> None:
    from layers.app.import_panel import _revert

    _revert(0, "ann (admin token)", 0, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_revert_refused_because_the_data_changed_says_so_of_a_revert(lang, store, baseline, monkeypatch):
    """The store's own wording of a late change speaks of a report and an import (``err_changed``); the Data page
    says it of the revert the planner asked for, the store's English words folded under the details."""
    from streamlit.testing.v1 import AppTest

    from layers.app import import_panel

    exc = _refused("data changed since", store, baseline)

    def refuse(*args, **kwargs):
        raise exc

    monkeypatch.setattr(import_panel, "revert_import", refuse)
    at = AppTest.from_function(_revert_on_the_page, args=(lang,), default_timeout=60).run()
    assert not at.exception, at.exception
    (error,) = at.error
    expected = t("apl_revert_failed", lang, message=t("apl_revert_changed", lang))
    assert error.value.replace("\\", "") == expected
    assert not leaks([("error", error.value)], lang), error.value
    assert at.expander[0].code[0].value == str(exc)
