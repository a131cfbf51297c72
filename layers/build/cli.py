"""The ``build`` command."""
from __future__ import annotations

import argparse

from layers.build.pipeline import build_all


def _cmd_build(args: argparse.Namespace) -> int:
    written = build_all(copy=not args.no_copy)
    for layer_id, path in written.items():
        print(f"{layer_id:12s} {path}")
    return 0


def add_command(sub: argparse._SubParsersAction) -> None:
    """Register ``build``."""
    p = sub.add_parser("build", help="rebuild geodata/ from the sources (deterministic)")
    p.add_argument("--no-copy", action="store_true", help="do not refresh geodata/sources from ../shared")
    p.set_defaults(func=_cmd_build)
