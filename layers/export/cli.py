"""The ``export`` command."""
from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from layers.core.catalog import get_catalog
from layers.core.errors import ExportError, FilterError
from layers.export.download import export_layers
from layers.export.formats import FORMATS
from layers.export.job import CRS_CHOICES, EXPORT_LANGS
from layers.map.filters import FILTER_KEYS, LayerFilter, describe_untrusted, filter_options
from layers.map.load import load_layers


def _filter_from_args(args: argparse.Namespace, options: Mapping[str, list[str]]) -> LayerFilter:
    values: dict[str, tuple[str, ...]] = {}
    problems = []
    for key in FILTER_KEYS:
        raw = getattr(args, key, None)
        if not raw:
            continue
        wanted = [v.strip() for v in raw.split(",") if v.strip()]
        bad = [v for v in wanted if v not in options.get(key, [])]
        if bad:
            shown = ", ".join(describe_untrusted(b) for b in bad[:5])
            problems.append(f"--{key.replace('_', '-')}: unknown value(s) {shown}; "
                            f"choose from: {', '.join(options.get(key, [])) or '(none in the data)'}")
        values[key] = tuple(wanted)
    if problems:
        raise FilterError("Invalid filter. " + " | ".join(problems))
    return LayerFilter(**values)


def _cmd_export(args: argparse.Namespace) -> int:

    catalog = get_catalog()
    flt = LayerFilter()
    layers = None
    if any(getattr(args, k, None) for k in FILTER_KEYS):
        layers, errors = load_layers(catalog=catalog)
        if errors:
            raise ExportError("Cannot export: " + "; ".join(errors.values()))
        flt = _filter_from_args(args, filter_options(layers))
    layer_ids = [p for chunk in args.layer for p in chunk.split(",") if p.strip()]
    written = export_layers(layer_ids, fmt=args.format, crs=args.crs, out_dir=args.out, flt=flt, layers=layers,
                            catalog=catalog, lang=args.lang)
    for path in written:
        print(path)
    return 0


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``export``: ``python -m layers export --layer ID|all --format F --crs EPSG --out DIR [filters]``."""
    p = subparsers.add_parser(
        "export", help="write layers as GeoJSON/GeoPackage/Shapefile/KML/CSV in EPSG:4326/4490/4549",
        description="Export layers for GIS tools. GeoJSON and KML are WGS 84 (EPSG:4326) only. "
                    "Filters take comma-separated values and combine with AND across options.")
    p.add_argument("--layer", action="append", required=True, metavar="ID|all",
                   help="layer id (repeat or comma-separate), or 'all'")
    p.add_argument("--format", required=True, choices=list(FORMATS), help="output format")
    p.add_argument("--crs", required=True, choices=[str(c) for c in CRS_CHOICES], help="EPSG code")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    p.add_argument("--lang", choices=list(EXPORT_LANGS), default="zh",
                   help="language of layer titles, field aliases and style legends in the files (default zh)")
    helps = {"rail_status": "e.g. open,planned", "rail_mode": "hsr, rail, metro, tram",
             "rail_line": "line ids, e.g. L9,T2", "park_kind": "parks.kind values",
             "park_industry": "it, equipment, materials, health, consumer, culture",
             "zone": "industry_city, culture_tourism, urban_rural_green, new_town",
             "town": "9-digit town codes, e.g. 310117105"}
    for key in FILTER_KEYS:
        p.add_argument(f"--{key.replace('_', '-')}", dest=key, metavar="V[,V...]", help=helps[key])
    p.set_defaults(func=_cmd_export)
