"""Command line: ``python -m layers <command>``; each command lives in its folder's ``cli`` module."""
from __future__ import annotations

import argparse
import sys

from layers.build import cli as build_cli
from layers.core.errors import SongjiangMapError
from layers.export import cli as export_cli
from layers.imports import cli as import_cli
from layers.imports import osm as osm_cli
from layers.scenes import cli as scenes_cli

#: Modules that contribute a sub-command through ``add_command(subparsers)``; each sets ``func``.
COMMAND_MODULES = (build_cli, export_cli, import_cli, scenes_cli, osm_cli)


def make_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(prog="python -m layers", description="Songjiang planning map tools")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.add_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (2 for a project error, with its message)."""
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except SongjiangMapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
