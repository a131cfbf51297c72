"""The ``present`` command."""
from __future__ import annotations

import argparse
from pathlib import Path

from layers.core import settings
from layers.core.errors import SceneError
from layers.core.i18n import LANGS
from layers.scenes.frame import PAPER_MM
from layers.scenes.output import FORMATS, render_scene
from layers.scenes.pack import build_pack


def _cmd_present(args: argparse.Namespace) -> int:
    if args.pack:
        if args.scene or args.format:
            raise SceneError("--pack writes every scene in every format: drop --scene and --format.")

        report = build_pack(Path(args.out), lang=args.lang, town=args.town or settings.PACK_TOWN,
                            paper=args.paper, dpi=args.dpi)
        print(f"{report.path}  ({len(report.files)} files, {report.size / 1e6:.1f} MB, {report.seconds:.1f} s)")
        return 0
    if not args.scene or not args.format:
        raise SceneError("Give --scene ID and --format png|pdf|html (or --pack for every scene in a zip).")
    path = render_scene(args.scene, town=args.town, fmt=args.format, out=Path(args.out), lang=args.lang,
                        paper=args.paper, dpi=args.dpi)
    print(path)
    return 0


_EPILOG = f"""examples:
  python -m layers present --scene zones --format png --out zones.png
  python -m layers present --scene town --town 310117107 --format html --out jiuting.html
  python -m layers present --pack --out meeting.zip          # every scene as png, pdf and html, and README.txt

--pack draws the town close-up for --town (default {settings.PACK_TOWN}); --lang, --paper and --dpi apply to
every file of the pack."""


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``present``: one meeting scene as PNG, PDF or offline HTML, or the meeting pack."""
    p = subparsers.add_parser(
        "present", help="draw a meeting scene as PNG, PDF or offline HTML, or every scene as a zip (offline)",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scene", help="structure, zones, transport, industry or town")
    p.add_argument("--town", help="9-digit town code for --scene town (e.g. 310117107, 九亭镇) or for the pack's "
                                  "close-up")
    p.add_argument("--format", choices=tuple(FORMATS), help="png, pdf or html (self-contained, opens offline)")
    p.add_argument("--pack", action="store_true", help="write every scene in every format to the --out zip")
    p.add_argument("--out", required=True, help="output file (.zip with --pack)")
    p.add_argument("--lang", default="zh", choices=LANGS)
    p.add_argument("--paper", default="A4", choices=tuple(PAPER_MM), help="PNG/PDF page (landscape)")
    p.add_argument("--dpi", type=int, default=200, help="PNG resolution (at least 2400 px wide in any case)")
    p.set_defaults(func=_cmd_present)
