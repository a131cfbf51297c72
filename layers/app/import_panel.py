"""The Data page's import panel: upload → dry-run report → apply / revert."""
from __future__ import annotations

from typing import Any

import streamlit as st

from layers.app.cache import clear_all_caches
from layers.app.chrome import plain, uploader_texts, visitor_gone
from layers.build.overlay import IMPORT_ACCURACY, read_overlay
from layers.core import settings
from layers.core.catalog import get_catalog
from layers.core.errors import SongjiangMapError
from layers.core.i18n import error_text, t
from layers.core.worker import cancel_when
from layers.imports.apply import apply_import, import_in_app_allowed, revert_import
from layers.imports.plan import plan_upload

_IMPORT_REPORT_KEY = "_imp_report"
_IMPORT_FLASH_KEY = "_imp_flash"
_IMPORT_UNIT_COLUMNS = ("code", "name_zh", "status", "matched_by", "input_label", "supplied_km2", "clipped_km2",
                        "added_km2", "area_km2", "official_km2")


_IMPORT_COLUMN_KEYS = {"code": "imp_col_code", "name_zh": "imp_col_name", "status": "imp_col_status",
                       "matched_by": "imp_col_by", "input_label": "imp_col_label", "supplied_km2": "imp_col_supplied",
                       "clipped_km2": "imp_col_clipped", "added_km2": "imp_col_added", "area_km2": "imp_col_area",
                       "official_km2": "imp_col_official"}


def import_units_table(report: Any, lang: str):
    """The report's per-unit rows with labelled columns and translated status (a plain DataFrame)."""
    frame = report.units_frame()
    if frame.empty:
        return frame
    frame = frame[list(_IMPORT_UNIT_COLUMNS)].copy()
    frame["name_zh"] = frame["name_zh"] if lang == "zh" else report.units_frame()["name_en"]
    frame["status"] = [t(f"imp_{s}", lang) for s in frame["status"]]
    frame["matched_by"] = [t(f"imp_by_{b}", lang) if b else "" for b in frame["matched_by"]]
    return frame.rename(columns=lambda c: t(_IMPORT_COLUMN_KEYS[c], lang))


def _show_import_report(report: Any, lang: str) -> None:
    status = {"ready": st.success, "needs_confirmation": st.warning, "rejected": st.error}[report.status]
    status(t({"ready": "imp_ready", "needs_confirmation": "imp_confirm", "rejected": "imp_rejected"}[report.status],
             lang))
    show = {"error": st.error, "confirm": st.warning, "warning": st.warning, "info": st.info}
    for issue in report.issues:
        show[issue.severity](plain(issue.text(lang)))
    if report.units:
        st.markdown(f"**{plain(t('imp_units', lang))}**")
        st.dataframe(import_units_table(report, lang), hide_index=True)
        st.caption(plain(t("imp_check", lang, overlap=f"{report.result_overlap_m2:.1f}",
                           symdiff=f"{report.result_symdiff_m2:.1f}", outside=f"{report.outside_km2:.3f}",
                           slivers=f"{report.slivers_km2:.3f}")))
    if report.unmatched:
        st.markdown(f"**{plain(t('imp_unmatched', lang))}**")
        st.dataframe({t("imp_col_label", lang): report.unmatched}, hide_index=True)
    st.download_button(t("imp_download", lang), data=report.to_json(), file_name="import_report.json",
                       mime="application/json", key="imp_download", on_click="ignore")


def _finish_import(message: str) -> None:
    """After a change of the data: forget cached layers and the report, and show ``message`` after a rerun."""
    clear_all_caches()
    st.session_state.pop(_IMPORT_REPORT_KEY, None)
    st.session_state[_IMPORT_FLASH_KEY] = message
    st.rerun()


def _current_import(lang: str) -> list:
    """The import in force (said on the page), or an empty list."""
    try:
        current = read_overlay()
    except SongjiangMapError as exc:
        st.error(plain(error_text(exc, lang)))
        current = []
    if current:
        first = current[0]["properties"]
        st.info(plain(t("imp_current", lang, n=len(current), file=first.get("import_file", ""),
                        date=first.get("import_date", ""))))
    else:
        st.caption(t("imp_none", lang))
    return current


def _planned(upload: Any, accuracy: str, crs: str, lang: str) -> tuple[Any, str | None]:
    """The dry-run report of the upload (planned once per file and options, in a bounded worker), or the error."""
    stamp = (getattr(upload, "file_id", upload.name), upload.size, accuracy, crs)
    held = st.session_state.get(_IMPORT_REPORT_KEY)
    if not held or held[0] != stamp:
        try:
            with st.spinner(t("imp_title", lang)), cancel_when(visitor_gone):
                report = plan_upload(upload.getvalue(), filename=upload.name, crs=crs or None, accuracy=accuracy)
            held = (stamp, report, None)
        except SongjiangMapError as exc:
            held = (stamp, None, error_text(exc, lang))
        st.session_state[_IMPORT_REPORT_KEY] = held
    return held[1], held[2]


def _apply_button(report: Any, lang: str) -> None:
    force = report.needs_confirmation and st.checkbox(t("imp_force", lang), key="imp_force")
    if st.button(t("imp_apply", lang), key="imp_apply", type="primary",
                 disabled=report.needs_confirmation and not force):
        try:
            apply_import(report, force=bool(force))
        except SongjiangMapError as exc:
            st.error(plain(t("imp_failed", lang, message=error_text(exc, lang))))
        else:
            _finish_import(t("imp_applied", lang, n=len(report.imported_codes)))


def town_import_panel(lang: str) -> None:
    """Upload a boundary file, show its dry-run report, then apply it; or revert the current import."""

    st.subheader(t("imp_title", lang))
    if not import_in_app_allowed():
        st.info(plain(t("imp_off", lang, env=settings.IMPORT_IN_APP_ENV)))
        return
    st.caption(plain(t("imp_help", lang, mb=settings.IMPORT_MAX_BYTES // 2 ** 20)))
    flash = st.session_state.pop(_IMPORT_FLASH_KEY, None)
    if flash:
        st.success(plain(flash))
    current = _current_import(lang)
    upload = st.file_uploader(t("imp_upload", lang), type=["geojson", "json", "gpkg", "zip", "kml"], key="imp_file")
    uploader_texts(lang)
    acc_col, crs_col = st.columns(2)
    catalog = get_catalog()
    accuracy = acc_col.radio(t("imp_accuracy", lang), IMPORT_ACCURACY, key="imp_accuracy", horizontal=True,
                             format_func=lambda a: catalog.value_label("accuracy", a, lang))
    crs = crs_col.text_input(t("imp_crs", lang), key="imp_crs", max_chars=20).strip()
    if upload is not None:
        report, error = _planned(upload, accuracy, crs, lang)
        if error:
            st.error(plain(t("imp_failed", lang, message=error)))
        else:
            _show_import_report(report, lang)
            if not report.rejected:
                _apply_button(report, lang)
    if current and st.button(t("imp_revert", lang), key="imp_revert"):
        try:
            revert_import()
        except SongjiangMapError as exc:
            st.error(plain(t("imp_failed", lang, message=error_text(exc, lang))))
        else:
            _finish_import(t("imp_reverted", lang))
