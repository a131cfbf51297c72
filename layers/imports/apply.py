"""Apply an import plan or revert to any earlier version, each one transaction of the workspace store.

A file is read and checked (:func:`layers.core.upload.read_town_file`), matched to the 17 units and validated
(:func:`layers.imports.plan.plan_import`); :func:`apply_import` rebuilds every layer from it in memory, then commits
the overlay, its report and the rebuilt layers as the store's next version (:meth:`Store.commit`). ``geodata/`` is
the shipped baseline and is never written. :func:`revert_import` commits the state of an earlier version (0 = the
schematic towns) as a new version, so the history only grows."""
from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from layers.build.overlay import overlay_path, read_overlay, report_path
from layers.build.pipeline import BUILD_INFO, build_texts
from layers.core import paths, settings
from layers.core.errors import ImportBusyError, SongjiangMapError, StoreError, TownImportError
from layers.core.files import JOURNAL, crash_point, recover_folder
from layers.core.geojson import feature_collection_text
from layers.core.store import TOWNS_FILE, Change, Store, open_store
from layers.core.upload import Source, read_town_file
from layers.imports.plan import plan_import
from layers.imports.report import ImportReport

_IMPORT_IN_APP_ON = frozenset({"", "1", "on", "true", "yes"})
#: ``ws_meta`` key prefix: a ``geodata/imports`` overlay (SHA-256) already moved into the store.
_MIGRATED = "migrated:"


def import_in_app_allowed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the Data page may apply or revert an import: yes unless ``settings.IMPORT_IN_APP_ENV`` holds
    anything but 1/on/true/yes (so a mistyped "of" still switches it off)."""
    env = os.environ if environ is None else environ
    return (env.get(settings.IMPORT_IN_APP_ENV) or "").strip().lower() in _IMPORT_IN_APP_ON


def command_line_who() -> str:
    """Who runs the command line: ``user@host (command line)``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()} (command line)"


def baseline_is_schematic(geodata_dir: Path = paths.GEODATA_DIR) -> bool:
    """Whether the shipped layers are the schematic build (no import was built into them by an older version)."""
    try:
        info = json.loads((Path(geodata_dir) / BUILD_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    return not info.get("towns_overlay")


def _overlay_features(text: str | None) -> list[dict[str, Any]] | None:
    return list(json.loads(text)["features"]) if text else None


def _built(overlay_text: str | None, version: int, geodata_dir: Path) -> dict[str, str] | None:
    """The layer files of a state (None: the baseline serves it as shipped)."""
    if overlay_text is None and baseline_is_schematic(geodata_dir):
        return None
    features = _overlay_features(overlay_text)
    info = None
    if features:
        info = {"file": f"workspace version {version}", "features": len(features),
                "sha256": hashlib.sha256(overlay_text.encode("utf-8")).hexdigest()}  # type: ignore[union-attr]
    return build_texts(overlay=features, overlay_info=info)


def _baseline_towns(layers: Mapping[str, str] | None, geodata_dir: Path) -> str | None:
    """The shipped towns layer when ``layers`` serve the baseline (the store keeps it as PostGIS geometry too)."""
    if layers is not None:
        return None
    with contextlib.suppress(OSError):
        return (Path(geodata_dir) / TOWNS_FILE).read_text(encoding="utf-8")
    return None


def current_overlay(store: Store | None = None) -> list[dict[str, Any]] | None:
    """The imported units in force (None: the schematic towns)."""
    store = store or open_store()
    current = store.current()
    return _overlay_features(store.overlay(current.version)) if current else None


def migrate_geodata_import(store: Store, geodata_dir: Path = paths.GEODATA_DIR) -> int | None:
    """Move an import an older version left in ``geodata/imports`` into the store (once per overlay); returns the
    new version, or None when there was nothing to move. ``geodata/`` is only read."""
    if (geodata_dir / JOURNAL).exists():
        with contextlib.suppress(OSError):  # a read-only baseline: the overlay below is read as it is
            recover_folder(geodata_dir)  # an older version's interrupted switch: finish it first
    path = overlay_path(geodata_dir)
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if store.meta(_MIGRATED + sha):
        return None
    features = read_overlay(geodata_dir) or []
    report = report_path(geodata_dir).read_text(encoding="utf-8") if report_path(geodata_dir).exists() else None
    first = features[0]["properties"] if features else {}
    expect = store.version()
    layers = _built(text, expect + 1, geodata_dir)
    change = Change(action="migrate", who="geodata/imports (migrated on start)",
                    file_name=str(first.get("import_file") or overlay_path(geodata_dir).name), sha256=sha,
                    units=len(features), report=report, overlay=text)
    return store.commit(change, layers, expect=expect, meta={_MIGRATED + sha: "1"},
                        towns=_baseline_towns(layers, geodata_dir))


def apply_import(report: ImportReport, *, geodata_dir: Path = paths.GEODATA_DIR, force: bool = False,
                 who: str | None = None, store: Store | None = None) -> int:
    """Rebuild the layers with the report's units and commit them as the store's next version; returns it.

    Everything is built in memory first; one transaction then adds the version (file name, SHA-256, time, who,
    report, overlay) and replaces the layers in force. A failure or a crash before the commit leaves the previous
    version in force.

    Raises
    ------
    TownImportError
        The report is rejected, needs confirmation and ``force`` is false, holds no units, or was planned by an
        older version; nothing is written then. Each refusal carries its kind (``key`` ``apl_*``, worded in
        :mod:`layers.core.i18n_imports`); the English message stays for the command line.
    ImportBusyError
        Another apply or revert was committed since the report was planned (it names the version it saw).
    StoreError
        The store cannot be written.
    """
    if report.rejected:
        raise TownImportError(f"{report.file_name} was rejected, nothing was written: "
                              + " ".join(report.messages("error")), key="apl_rejected", file=report.file_name)
    if report.needs_confirmation and not force:
        raise TownImportError("Not applied, nothing was written: " + " ".join(report.messages("confirm")),
                              key="apl_confirm", file=report.file_name)
    if not report.features:
        raise TownImportError("The report holds no units to import; nothing was written.", key="apl_no_units",
                              file=report.file_name)
    store = store or open_store()
    geodata_dir = Path(geodata_dir)
    migrate_geodata_import(store, geodata_dir)
    expect = store.version() if report.based_on is None else _version_of(report.based_on)
    overlay = feature_collection_text(report.features, name="towns_imported")
    layers = _built(overlay, expect + 1, geodata_dir)
    crash_point("built")
    change = Change(action="apply", who=who or command_line_who(), file_name=report.file_name,
                    sha256=report.file_sha256, units=len(report.features), report=report.to_json(), overlay=overlay)
    return store.commit(change, layers, expect=expect, towns=_baseline_towns(layers, geodata_dir))


def _version_of(based_on: str) -> int:
    try:
        return int(based_on.removeprefix("v"))
    except ValueError as exc:
        raise TownImportError("This report was made by an older version; check the file again.",
                              key="apl_stale") from exc


def revert_import(to_version: int = 0, *, geodata_dir: Path = paths.GEODATA_DIR, who: str | None = None,
                  store: Store | None = None, expect: int | None = None) -> int | None:
    """Make the state of ``to_version`` (0 = the schematic towns) the data again, as a new version; returns it,
    or None when there was nothing to revert (no import in force and ``to_version`` 0).

    Raises
    ------
    TownImportError
        There is no such version (``key`` ``apl_no_version``).
    ImportBusyError
        ``expect`` is given and another change came first.
    """
    store = store or open_store()
    geodata_dir = Path(geodata_dir)
    migrate_geodata_import(store, geodata_dir)
    current = store.version()
    expect = current if expect is None else expect
    if to_version == 0:
        if current == 0 or store.overlay(current) is None:
            return None
        target, overlay, report = None, None, None
    else:
        target = store.get(to_version)
        if target is None:
            raise TownImportError(f"There is no version {to_version} (the newest is {current}); see --history.",
                                  key="apl_no_version", version=to_version, newest=current)
        overlay, report = store.overlay(to_version), store.report(to_version)
    layers = _built(overlay, expect + 1, geodata_dir)
    crash_point("built")
    change = Change(action="revert", who=who or command_line_who(), reverts_to=int(to_version),
                    file_name=target.file_name if target and overlay else None,
                    sha256=target.sha256 if target and overlay else None,
                    units=target.units if target and overlay else 0, report=report if overlay else None,
                    overlay=overlay)
    return store.commit(change, layers, expect=expect, towns=_baseline_towns(layers, geodata_dir))


def check_workspace(geodata_dir: Path = paths.GEODATA_DIR, store: Store | None = None) -> SongjiangMapError | None:
    """What the app does on start: move an older version's ``geodata/imports`` overlay into the store; then say
    what is wrong (the store cannot be used, the old overlay is unreadable), or None when all is well."""
    try:
        migrate_geodata_import(store or open_store(), Path(geodata_dir))
    except (StoreError, TownImportError, ImportBusyError) as exc:
        return exc
    return None


def import_towns(source: Source, *, filename: str | None = None, code_field: str | None = None,
                 name_field: str | None = None, crs: str | int | None = None, accuracy: str = "authoritative",
                 source_text: str | None = None, licence: str | None = None, dry_run: bool = False,
                 force: bool = False, geodata_dir: Path = paths.GEODATA_DIR, store: Store | None = None
                 ) -> ImportReport:
    """Read, plan and (unless ``dry_run`` or rejected) apply an import; returns the report.

    A rejected file or a refused confirmation raises :class:`TownImportError` only when applying.
    """
    store = store or open_store()
    gdf = read_town_file(source, filename=filename, crs=crs)
    report = plan_import(gdf, code_field=code_field, name_field=name_field, accuracy=accuracy, source=source_text,
                         licence=licence, geodata_dir=geodata_dir, store=store)
    if not dry_run and not report.rejected:
        apply_import(report, geodata_dir=geodata_dir, force=force, store=store)
    return report


def report_and_apply(report: ImportReport, *, dry_run: bool, force: bool, geodata_dir: Path,
                     as_json: bool = False, store: Store | None = None) -> int:
    """The command lines' end: print the report, then stop (rejected, dry run) or apply it; the exit code."""
    print(report.to_json() if as_json else report.to_text(), end="")
    if report.rejected:
        raise TownImportError(f"{report.file_name} was rejected; nothing was written.", key="apl_rejected",
                              file=report.file_name)
    if dry_run:
        print("Dry run: nothing was written.")
        return 0
    store = store or open_store()
    version = apply_import(report, geodata_dir=geodata_dir, force=force, store=store)
    print(f"Imported {len(report.imported_codes)} unit(s) from {report.file_name}; layers rebuilt; version "
          f"{version} of the workspace store {store.label()}.")
    return 0
