"""The ``import-towns`` command."""
from __future__ import annotations

import argparse
from pathlib import Path

from layers.build.overlay import IMPORT_ACCURACY, overlay_path
from layers.core import paths
from layers.core.errors import TownImportError
from layers.core.upload import read_town_file
from layers.imports.apply import report_and_apply, revert_import
from layers.imports.plan import plan_import


def _cmd_import_towns(args: argparse.Namespace) -> int:
    geodata_dir = Path(args.geodata_dir) if args.geodata_dir else paths.GEODATA_DIR
    if args.revert:
        existed = overlay_path(geodata_dir).exists()
        revert_import(geodata_dir=geodata_dir)
        print("Import reverted: the schematic towns are back." if existed
              else "There was no import to revert; the layers were rebuilt.")
        return 0
    if not args.file:
        raise TownImportError("Give a boundary file to import (or --revert).")
    gdf = read_town_file(Path(args.file), crs=args.crs)
    report = plan_import(gdf, code_field=args.code_field, name_field=args.name_field, accuracy=args.accuracy,
                         source=args.source, licence=args.licence, geodata_dir=geodata_dir)
    return report_and_apply(report, dry_run=args.dry_run, force=args.force, geodata_dir=geodata_dir,
                            as_json=args.json)


def add_command(sub: argparse._SubParsersAction) -> None:
    """Register ``import-towns``."""
    p = sub.add_parser("import-towns", help="import real town boundaries over the schematic ones (or --revert)",
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
    p.add_argument("--revert", action="store_true", help="delete the import and rebuild the schematic towns")
    p.add_argument("--geodata-dir", help=argparse.SUPPRESS)  # tests: a copy of geodata/
    p.set_defaults(func=_cmd_import_towns)
