"""The Data page's import panel: upload → dry-run report → apply / revert, and the history of the workspace store.

Checking a file is open to every visitor; applying and reverting ask :func:`layers.app.access.may_change`."""
from __future__ import annotations

from typing import Any

import streamlit as st

from layers.app.access import may_change
from layers.app.cache import clear_all_caches
from layers.app.chrome import plain, refusal, technical_details, uploader_texts, visitor_gone
from layers.build.overlay import IMPORT_ACCURACY
from layers.core import settings
from layers.core.catalog import get_catalog
from layers.core.errors import ImportBusyError, SongjiangMapError
from layers.core.i18n import error_text, t
from layers.core.store import Version, open_store
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
        technical_details(issue.detail, lang)
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


def read_history() -> list[Version]:
    """The store's history, newest first (empty while nothing was imported)."""
    return open_store().history()


def _current_import(lang: str, history: list[Version]) -> bool:
    """Say which import is in force (file, version, time, who); True when there is one."""
    current = history[0] if history else None
    if current is not None and current.units:
        st.info(plain(t("imp_current", lang, n=current.units, file=current.file_name or "",
                        date=current.created_at.replace("T", " ")[:16]) + " "
                      + t("imp_version", lang, version=current.version, who=current.who)))
        return True
    st.caption(t("imp_none", lang))
    return False


def _history_rows(history: list[Version], lang: str) -> list[dict[str, Any]]:
    def action(v: Version) -> str:
        return t("imp_act_revert", lang, version=v.reverts_to) if v.action == "revert" else t(f"imp_act_{v.action}",
                                                                                              lang)
    return [{t("imp_h_version", lang): v.version, t("imp_h_time", lang): v.created_at.replace("T", " ")[:19],
             t("imp_h_action", lang): action(v), t("imp_col_name", lang): v.file_name or "",
             "SHA-256": (v.sha256 or "")[:16], t("imp_h_units", lang): v.units, t("imp_h_who", lang): v.who}
            for v in history]


def _history(history: list[Version], who: str | None, lang: str) -> None:
    """The history table; with the right to change, revert to any earlier version."""
    if not history:
        return
    with st.expander(t("imp_history", lang, n=len(history))):
        st.dataframe(_history_rows(history, lang), hide_index=True)
        choices = [0, *[v.version for v in history[1:]]]
        picked = st.selectbox(t("imp_revert_to", lang), choices, key="imp_revert_version",
                              format_func=lambda n: t("imp_schematic_state", lang) if n == 0 else f"{n}")
        report = open_store().report(picked) if picked else None
        if report:
            st.download_button(t("imp_download", lang), data=report, file_name=f"import_report_v{picked}.json",
                               mime="application/json", key="imp_hist_download", on_click="ignore")
        if who and st.button(t("imp_revert_go", lang), key="imp_revert_version_go"):
            _revert(picked, who, history[0].version, lang)


def _revert(version: int, who: str, expect: int, lang: str) -> None:
    try:
        done = revert_import(version, who=who, expect=expect)
    except ImportBusyError as exc:  # the store's wording speaks of a report and an import: say it of a revert
        show_refusal(t("apl_revert_changed" if exc.changed else "err_busy", lang), str(exc), lang,
                     key="apl_revert_failed")
        return
    except SongjiangMapError as exc:
        show_refusal(*change_refusal(exc, lang), lang, key="apl_revert_failed")
        return
    if done is None:  # someone else reverted first: nothing was in force any more
        st.info(plain(t("apl_nothing_to_revert", lang)))
        return
    _finish_import(t("imp_reverted", lang) if version == 0 else t("imp_reverted_to", lang, version=version))


def change_refusal(exc: SongjiangMapError, lang: str) -> tuple[str, str]:
    """Why an apply or revert was refused, in ``lang``, and the technical detail to fold under it: the wording of
    its kind (``apl_*``, ``err_*``); an error of no known kind is said in general terms in zh (its English message
    becoming the detail) and as it is in en."""
    if getattr(exc, "key", None):
        return refusal(exc, "", lang)
    return (str(exc), "") if lang == "en" else (t("apl_other", lang), str(exc))


def show_refusal(message: str, detail: str, lang: str, *, key: str = "imp_failed") -> None:
    """A refused upload, apply or revert on the page: the message in the page's language (``key`` says which
    action failed), the technical detail folded under it."""
    st.error(plain(t(key, lang, message=message)))
    technical_details(detail, lang)


def _planned(upload: Any, accuracy: str, crs: str, lang: str) -> tuple[Any, tuple[str, str] | None]:
    """The dry-run report of the upload (planned once per file and options, in a bounded worker), or why it was
    refused (message, technical detail)."""
    stamp = (getattr(upload, "file_id", upload.name), upload.size, accuracy, crs)
    held = st.session_state.get(_IMPORT_REPORT_KEY)
    if not held or held[0] != stamp:
        try:
            with st.spinner(t("imp_title", lang)), cancel_when(visitor_gone):
                report = plan_upload(upload.getvalue(), filename=upload.name, crs=crs or None, accuracy=accuracy)
            held = (stamp, report, None)
        except SongjiangMapError as exc:
            held = (stamp, None, exc)  # worded at each run: a change of language needs no new check
        st.session_state[_IMPORT_REPORT_KEY] = held
    return held[1], None if held[2] is None else refusal(held[2], upload.name, lang)


def _apply_button(report: Any, who: str, lang: str) -> None:
    force = report.needs_confirmation and st.checkbox(t("imp_force", lang), key="imp_force")
    if st.button(t("imp_apply", lang), key="imp_apply", type="primary",
                 disabled=report.needs_confirmation and not force):
        try:
            apply_import(report, force=bool(force), who=who)
        except SongjiangMapError as exc:
            if isinstance(exc, ImportBusyError):  # planned on an older version: check the file again on the next run
                st.session_state.pop(_IMPORT_REPORT_KEY, None)
            show_refusal(*change_refusal(exc, lang), lang)
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
    try:
        history = read_history()
    except SongjiangMapError as exc:
        st.error(plain(error_text(exc, lang)))
        return
    current = _current_import(lang, history)
    who = may_change(lang)
    upload = st.file_uploader(t("imp_upload", lang), type=["geojson", "json", "gpkg", "zip", "kml"], key="imp_file")
    uploader_texts(lang)
    acc_col, crs_col = st.columns(2)
    catalog = get_catalog()
    accuracy = acc_col.radio(t("imp_accuracy", lang), IMPORT_ACCURACY, key="imp_accuracy", horizontal=True,
                             format_func=lambda a: catalog.value_label("accuracy", a, lang))
    crs = crs_col.text_input(t("imp_crs", lang), key="imp_crs", max_chars=20).strip()
    if upload is not None:
        report, refused = _planned(upload, accuracy, crs, lang)
        if refused:
            show_refusal(*refused, lang)
        else:
            _show_import_report(report, lang)
            if not report.rejected and who:
                _apply_button(report, who, lang)
    if current and who and st.button(t("imp_revert", lang), key="imp_revert"):
        _revert(0, who, history[0].version, lang)
    _history(history, who, lang)
