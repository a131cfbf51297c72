"""The ``import-towns`` command."""
from __future__ import annotations

import argparse
from pathlib import Path

from layers.build.overlay import IMPORT_ACCURACY
from layers.core import paths
from layers.core.errors import TownImportError
from layers.core.store import Store, open_store
from layers.core.upload import read_town_file
from layers.imports.apply import migrate_geodata_import, report_and_apply, revert_import
from layers.imports.plan import plan_import


def history_text(store: Store) -> str:
    """The store's history as a table, newest first (what ``import-towns --history`` prints)."""
    rows = store.history()
    lines = [f"Workspace store {store.label()}: version {store.version()}"
             + ("" if rows else " (nothing imported: the shipped schematic layers are served)")]
    for v in rows:
        what = (f"revert to {v.reverts_to}" if v.action == "revert" else v.action)
        lines.append(f"{v.version:>4}  {v.created_at}  {what:<14}  {v.units:>2} unit(s)  {v.file_name or '-'}  "
                     f"sha256 {(v.sha256 or '-')[:16]}  by {v.who}")
    return "\n".join(lines) + "\n"


def _cmd_import_towns(args: argparse.Namespace) -> int:
    geodata_dir = Path(args.geodata_dir) if args.geodata_dir else paths.GEODATA_DIR
    store = open_store()
    migrate_geodata_import(store, geodata_dir)
    if args.history:
        print(history_text(store), end="")
        return 0
    if args.revert is not None:
        version = revert_import(args.revert, geodata_dir=geodata_dir, store=store)
        if version is None:
            print("There was no import to revert; nothing was changed.")
        elif args.revert == 0:
            print(f"Import reverted: the schematic towns are back (version {version}).")
        else:
            print(f"Reverted to version {args.revert}: its import is in force again (version {version}).")
        return 0
    if not args.file:
        raise TownImportError("Give a boundary file to import (or --revert, --history).")
    gdf = read_town_file(Path(args.file), crs=args.crs)
    report = plan_import(gdf, code_field=args.code_field, name_field=args.name_field, accuracy=args.accuracy,
                         source=args.source, licence=args.licence, geodata_dir=geodata_dir, store=store)
    return report_and_apply(report, dry_run=args.dry_run, force=args.force, geodata_dir=geodata_dir,
                            as_json=args.json, store=store)


def add_command(sub: argparse._SubParsersAction) -> None:
    """Register ``import-towns``."""
    p = sub.add_parser("import-towns", help="import real town boundaries (or --revert, --history)",
                       description="Import town/subdistrict boundaries (GeoJSON, GeoPackage, zipped Shapefile, KML). "
                                   "Units are matched by 9-digit code or name; the units not supplied stay schematic "
                                   "and are re-fitted around the imported ones.")
    p.add_argument("file", nargs="?", help="boundary file (.geojson, .gpkg, .zip with a shapefile, .kml)")
    p.add_argument("--code-field", help="attribute with the 9-digit code (default: code, adcode, xzqdm, …)")
    p.add_argument("--name-field", help="attribute with the name (default: name_zh, name, xzqmc, name_en, …)")
    p.add_argument("--crs", help="CRS of the file when it has none, or to override it: EPSG code, or gcj02")
    p.add_argument("--accuracy", choices=IMPORT_ACCURACY, default="authoritative",
                   help="accuracy written on the imported units (default authoritative)")
    p.add_argument("--source", help="source text for features without a 'source' attribute")
    p.add_argument("--licence", help="licence text for features without a 'licence' attribute")
    p.add_argument("--dry-run", action="store_true", help="print the validation report; write nothing")
    p.add_argument("--force", action="store_true", help="apply despite findings that need confirmation (GCJ-02)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--revert", nargs="?", type=int, const=0, metavar="VERSION",
                   help="go back to an earlier version of the history (default 0: the schematic towns)")
    p.add_argument("--history", action="store_true",
                   help="list every import and revert: version, time, file, SHA-256, who")
    p.add_argument("--geodata-dir", help=argparse.SUPPRESS)  # tests: a copy of geodata/
    p.set_defaults(func=_cmd_import_towns)
