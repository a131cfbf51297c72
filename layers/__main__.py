"""Command line: ``python -m layers <command>``; each command lives in its folder's ``cli`` module."""
from __future__ import annotations

import argparse
import importlib
import sys

from layers.core.errors import SongjiangMapError

#: Each sub-command and the module that contributes it through ``add_command(subparsers)`` (which sets ``func``),
#: in the order ``--help`` lists them.
COMMAND_MODULES = {
    "build": "layers.build.cli",
    "export": "layers.export.cli",
    "import-towns": "layers.imports.cli",
    "present": "layers.scenes.cli",
    "refresh-osm": "layers.imports.osm",
}


class _OneCommandParser(argparse.ArgumentParser):
    """The top-level parser when only the asked command is registered: an error of its own (an argument no parser
    recognized) is reported by the parser of every command, so its usage line names them all, as always."""

    def error(self, message: str):
        make_parser().error(message)


def make_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every sub-command, or with ``command``'s alone (the other modules not imported).

    The command modules are imported here, not at the top of this module: a process runs one command, and each
    module pulls in its own GIS libraries (GeoPandas, SciPy, Matplotlib…), over a second of CPU at every start."""
    names = [command] if command in COMMAND_MODULES else list(COMMAND_MODULES)
    parser_class = _OneCommandParser if command in COMMAND_MODULES else argparse.ArgumentParser
    parser = parser_class(prog="python -m layers", description="Songjiang planning map tools")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=argparse.ArgumentParser)
    for name in names:
        importlib.import_module(COMMAND_MODULES[name]).add_command(sub)  # deferred: see the docstring
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (2 for a project error, with its message)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = make_parser(argv[0] if argv else None).parse_args(argv)
    try:
        return args.func(args)
    except SongjiangMapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
