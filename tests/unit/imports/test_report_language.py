"""The import report in the page's language (issue 15): each finding keeps its English message (CLI, JSON) and is
worded in Chinese from the same dictionary key and parameters."""
import pytest
from _language import leaks  # tests/_language.py

from layers.core.i18n import STRINGS
from layers.imports.report import ImportReport

IMPORT_KEYS = sorted(k for k in STRINGS["en"] if k.startswith("imr_"))


def _report() -> ImportReport:
    report = ImportReport(file_name="towns.geojson", accuracy="osm", source_crs="EPSG:4326", import_date="2026-11-27")
    report.add("summary", "info", key="imr_summary", n=10, rest=7, accuracy_key="imr_acc_osm")
    report.add("names", "warning", key="imr_names", n=2, code_field="XZQDM", name_fields="XZQMC",
               labels="x; y", then_key="imr_names_skipped")
    report.add("ref_point", "warning", key="imr_moved", name="车墩镇", inside="泗泾镇", m="1,234",
               where_key="imr_moved_inside")
    report.add("gcj02", "confirm", key="imr_gcj02", shift="600", given="12.30", shifted="0.40")
    return report


def test_findings_read_in_chinese_and_keep_their_english_message():
    report = _report()
    assert report.issues[0].message == "10 unit(s) imported as osm; 7 stay schematic and are re-fitted around them."
    assert report.issues[0].text("zh") == "10 个街镇按“OpenStreetMap”导入；其余 7 个保持示意划分，并围绕其重新生成。"
    assert report.issues[1].text("zh").endswith("这些要素将被跳过。")
    assert "导入的泗泾镇之内" in report.issues[2].text("zh") and "1,234 米" in report.issues[2].text("zh")
    for issue in report.issues:
        assert not leaks([("report", issue.text("zh").replace("--crs gcj02", "").replace("--force", ""))], "zh")
        assert not leaks([("report", issue.text("en"))], "en") or issue.key == "imr_moved"  # unit names are data
    assert report.to_dict()["issues"][0]["key"] == "imr_summary"


@pytest.mark.parametrize("key", IMPORT_KEYS)
def test_every_report_sentence_has_both_languages_with_the_same_placeholders(key):
    import string

    fields = [{f for _, f, _, _ in string.Formatter().parse(STRINGS[lang][key]) if f} for lang in ("zh", "en")]
    assert fields[0] == fields[1], key


def test_a_lower_layer_s_words_stay_out_of_the_sentence_and_in_the_detail():
    report = _report()
    report.add("refit", "error", key="imr_refit", detail="PartitionError: cell 310117103 found no room")
    issue = report.issues[-1]
    assert issue.text("zh") == "未提供的街镇无法围绕导入的街镇重新生成。"
    assert issue.message.endswith("(PartitionError: cell 310117103 found no room)")  # the command line, the JSON
    assert report.to_dict()["issues"][-1]["detail"] == issue.detail
