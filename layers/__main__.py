"""Command line: ``python -m layers <command>``; each command lives in its own module's ``add_command``."""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from .errors import SongjiangMapError

#: Modules that contribute a sub-command through ``add_command(subparsers)``; each sets ``func``.
COMMAND_MODULES = ("build", "export", "import_towns", "present", "refresh_osm")


def _cmd_build(args: argparse.Namespace) -> int:
    from .build import build_all

    written = build_all(copy=not args.no_copy)
    for layer_id, path in written.items():
        print(f"{layer_id:12s} {path}")
    return 0


def add_build_command(sub: argparse._SubParsersAction) -> None:
    """Register ``build``."""
    p = sub.add_parser("build", help="rebuild geodata/ from the sources (deterministic)")
    p.add_argument("--no-copy", action="store_true", help="do not refresh geodata/sources from ../shared")
    p.set_defaults(func=_cmd_build)


def make_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(prog="python -m layers", description="Songjiang planning map tools")
    sub = parser.add_subparsers(dest="command", required=True)
    add_build_command(sub)
    for name in COMMAND_MODULES[1:]:
        if importlib.util.find_spec(f"layers.{name}") is not None:
            importlib.import_module(f"layers.{name}").add_command(sub)
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
