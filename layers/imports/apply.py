"""Apply an import plan (overlay + rebuild) or revert it; the whole import in one call.

A file is read and checked (:func:`layers.core.upload.read_town_file`), matched to the 17 units and validated
(:func:`layers.imports.plan.plan_import`), then stored as an overlay, ``geodata/imports/towns_imported.geojson``
with ``import_report.json``, and the layers rebuilt (:func:`apply_import`). :func:`revert_import` deletes it and
rebuilds, which gives back the committed schematic layers byte for byte."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from layers.build.overlay import overlay_path, report_path
from layers.build.pipeline import build_all
from layers.core import paths, settings
from layers.core.errors import DiskError, ImportBusyError, TownImportError
from layers.core.files import JOURNAL, new_staging, recover_folder, switch_folder, write_text_atomic
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


@contextmanager
def _exclusive(geodata_dir: Path) -> Iterator[None]:
    """Hold the import lock of ``geodata_dir`` (an flock on the folder itself, so no lock file is left behind);
    another apply or revert at the same moment is told, not queued or lost."""
    geodata_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(geodata_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ImportBusyError() from exc
        yield
    finally:
        os.close(fd)  # releases the lock


def overlay_stamp(geodata_dir: Path = paths.GEODATA_DIR) -> str:
    """SHA-256 of the overlay in force ("" without an import): a plan records it, apply checks it is unchanged."""
    path = overlay_path(geodata_dir)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def _switch(geodata_dir: Path, overlay: Mapping[str, str] | None, *, rebuild: bool) -> dict[str, Path]:
    """Write the complete new state aside (overlay, report, every rebuilt layer), then switch to it at once."""
    staging = new_staging(geodata_dir)
    try:
        written: dict[str, Path] = {}
        if overlay is not None:
            for key, text in overlay.items():
                path = (overlay_path if key == "overlay" else report_path)(staging)
                write_text_atomic(path, text)
                written[key] = (overlay_path if key == "overlay" else report_path)(geodata_dir)
        if rebuild:
            built = build_all(out_dir=staging, copy=False)
            written.update({k: geodata_dir / p.relative_to(staging) for k, p in built.items()})
        delete = [] if overlay is not None else [overlay_path(geodata_dir), report_path(geodata_dir)]
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise DiskError(_reason(exc)) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        switch_folder(geodata_dir, staging, delete=delete)
    except OSError as exc:
        raise DiskError(_reason(exc)) from exc
    return written


def _reason(exc: OSError) -> str:
    """The disk's reason without any path (a visitor never sees a server path)."""
    return exc.strerror or str(exc).split(":")[0][:80] or type(exc).__name__


def apply_import(report: ImportReport, *, geodata_dir: Path = paths.GEODATA_DIR, force: bool = False,
                 rebuild: bool = True) -> dict[str, Path]:
    """Store the report's units as the overlay (replacing any earlier import) and rebuild the layers, as one switch.

    The overlay, its report and every rebuilt layer are written aside first; then one journal makes them the data
    (:func:`layers.core.files.switch_folder`). A failure before leaves ``geodata_dir`` as it was; a crash after is
    completed on the next start (:func:`check_geodata`).

    Raises
    ------
    TownImportError
        The report is rejected, or needs confirmation and ``force`` is false; nothing is written then.
    ImportBusyError
        Another apply or revert holds the lock, or the data changed since the report was planned.
    """
    if report.rejected:
        raise TownImportError(f"{report.file_name} was rejected, nothing was written: "
                              + " ".join(report.messages("error")))
    if report.needs_confirmation and not force:
        raise TownImportError("Not applied, nothing was written: " + " ".join(report.messages("confirm")))
    if not report.features:
        raise TownImportError("The report holds no units to import; nothing was written.")
    geodata_dir = Path(geodata_dir)
    with _exclusive(geodata_dir):
        recover_folder(geodata_dir)
        if report.based_on is not None and report.based_on != overlay_stamp(geodata_dir):
            raise ImportBusyError(changed=True)
        overlay = {"overlay": feature_collection_text(report.features, name="towns_imported"),
                   "report": report.to_json()}
        return _switch(geodata_dir, overlay, rebuild=rebuild)


def revert_import(*, geodata_dir: Path = paths.GEODATA_DIR, rebuild: bool = True) -> dict[str, Path]:
    """Delete the overlay and its report and rebuild, as one switch: the schematic layers come back byte for byte."""
    geodata_dir = Path(geodata_dir)
    with _exclusive(geodata_dir):
        recover_folder(geodata_dir)
        return _switch(geodata_dir, None, rebuild=rebuild)


def check_geodata(geodata_dir: Path = paths.GEODATA_DIR) -> str | None:
    """Repair what a crash left (finish a committed switch, drop uncommitted staging); then say what is still
    inconsistent (an overlay the layers were not built from), or None when all is well."""
    geodata_dir = Path(geodata_dir)
    if (geodata_dir / JOURNAL).exists() or any(geodata_dir.glob(".staging-*")):
        try:
            with _exclusive(geodata_dir):
                recover_folder(geodata_dir)
        except ImportBusyError:
            return None  # an apply is running: it repairs before it switches
    try:
        info = json.loads((geodata_dir / "build_info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "build_info.json is missing or unreadable: rebuild with `python -m layers build`."
    built_from = (info.get("towns_overlay") or {}).get("sha256", "")
    if built_from != overlay_stamp(geodata_dir):
        return ("The imported boundaries and the built layers disagree (an import interrupted by an older "
                "version?): run `python -m layers import-towns --revert`, then import again.")
    return None


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
