"""Apply an import plan (overlay + rebuild) or revert it; the whole import in one call.

A file is read and checked (:func:`layers.core.upload.read_town_file`), matched to the 17 units and validated
(:func:`layers.imports.plan.plan_import`), then stored as an overlay, ``geodata/imports/towns_imported.geojson``
with ``import_report.json``, and the layers rebuilt (:func:`apply_import`). :func:`revert_import` deletes it and
rebuilds, which gives back the committed schematic layers byte for byte."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from layers.build.overlay import overlay_path, report_path
from layers.build.pipeline import build_all
from layers.core import paths, settings
from layers.core.errors import TownImportError
from layers.core.files import write_bytes_atomic, write_text_atomic
from layers.core.geojson import feature_collection_text
from layers.core.upload import Source, read_town_file
from layers.imports.plan import plan_import
from layers.imports.report import ImportReport

_IMPORT_IN_APP_ON = frozenset({"", "1", "on", "true", "yes"})


def import_in_app_allowed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the Data page may apply or revert an import: yes unless ``settings.IMPORT_IN_APP_ENV`` holds
    anything but 1/on/true/yes (so a mistyped "of" still switches it off)."""
    env = os.environ if environ is None else environ
    return (env.get(settings.IMPORT_IN_APP_ENV) or "").strip().lower() in _IMPORT_IN_APP_ON


def _stash(paths_: Sequence[Path]) -> dict[Path, bytes | None]:
    return {p: p.read_bytes() if p.exists() else None for p in paths_}


def _restore(saved: Mapping[Path, bytes | None]) -> None:
    for path, data in saved.items():
        if data is None:
            path.unlink(missing_ok=True)
        else:
            write_bytes_atomic(path, data)
    _drop_empty_imports_dir(next(iter(saved)).parent if saved else None)


def _drop_empty_imports_dir(folder: Path | None) -> None:
    if folder is not None and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def apply_import(report: ImportReport, *, geodata_dir: Path = paths.GEODATA_DIR, force: bool = False,
                 rebuild: bool = True) -> dict[str, Path]:
    """Store the report's units as the overlay (replacing any earlier import) and rebuild the layers.

    Raises
    ------
    TownImportError
        The report is rejected, or needs confirmation and ``force`` is false; nothing is written then. A failing
        rebuild restores the previous overlay (the layers are only replaced once all of them are built).
    """
    if report.rejected:
        raise TownImportError(f"{report.file_name} was rejected, nothing was written: "
                              + " ".join(report.messages("error")))
    if report.needs_confirmation and not force:
        raise TownImportError("Not applied, nothing was written: " + " ".join(report.messages("confirm")))
    if not report.features:
        raise TownImportError("The report holds no units to import; nothing was written.")
    geodata_dir = Path(geodata_dir)
    target, rep = overlay_path(geodata_dir), report_path(geodata_dir)
    saved = _stash([target, rep])
    try:
        write_text_atomic(target, feature_collection_text(report.features, name="towns_imported"))
        write_text_atomic(rep, report.to_json())
        written = {"overlay": target, "report": rep}
        if rebuild:

            written.update(build_all(out_dir=geodata_dir, copy=False))
    except BaseException:
        _restore(saved)
        raise
    return written


def revert_import(*, geodata_dir: Path = paths.GEODATA_DIR, rebuild: bool = True) -> dict[str, Path]:
    """Delete the overlay and its report and rebuild: the schematic layers come back byte for byte."""
    geodata_dir = Path(geodata_dir)
    target, rep = overlay_path(geodata_dir), report_path(geodata_dir)
    saved = _stash([target, rep])
    try:
        target.unlink(missing_ok=True)
        rep.unlink(missing_ok=True)
        _drop_empty_imports_dir(target.parent)
        written = {}
        if rebuild:

            written = build_all(out_dir=geodata_dir, copy=False)
    except BaseException:
        _restore(saved)
        raise
    return written


def import_towns(source: Source, *, filename: str | None = None, code_field: str | None = None,
                 name_field: str | None = None, crs: str | int | None = None, accuracy: str = "authoritative",
                 source_text: str | None = None, licence: str | None = None, dry_run: bool = False,
                 force: bool = False, geodata_dir: Path = paths.GEODATA_DIR) -> ImportReport:
    """Read, plan and (unless ``dry_run`` or rejected) apply an import; returns the report.

    A rejected file or a refused confirmation raises :class:`TownImportError` only when applying.
    """
    gdf = read_town_file(source, filename=filename, crs=crs)
    report = plan_import(gdf, code_field=code_field, name_field=name_field, accuracy=accuracy, source=source_text,
                         licence=licence, geodata_dir=geodata_dir)
    if not dry_run and not report.rejected:
        apply_import(report, geodata_dir=geodata_dir, force=force)
    return report


def report_and_apply(report: ImportReport, *, dry_run: bool, force: bool, geodata_dir: Path,
                     as_json: bool = False) -> int:
    """The command lines' end: print the report, then stop (rejected, dry run) or apply it; the exit code."""
    print(report.to_json() if as_json else report.to_text(), end="")
    if report.rejected:
        raise TownImportError(f"{report.file_name} was rejected; nothing was written.")
    if dry_run:
        print("Dry run: nothing was written.")
        return 0
    apply_import(report, geodata_dir=geodata_dir, force=force)
    print(f"Imported {len(report.imported_codes)} unit(s) from {report.file_name}; overlay "
          f"{overlay_path(geodata_dir)}; layers rebuilt.")
    return 0
