"""Meeting pack timings, ours against the code of an earlier commit (the peer) measured side by side in one run.

Each figure comes from a fresh Python process (imports and the drawing workers' server start included), run for
ours and the peer in turn, with the scene cache in an empty temporary folder:

- ``cold``: the pack with every page drawn (no cache), then the handout with every page drawn;
- ``flow``: what the Present page does from an empty cache: the pack, then the handout, then the pack again
  (``pack_s``: every scene file reused);
- ``cpu``: the pack drawn in one process (no workers), in CPU seconds: the work itself, whatever the load.

Run by ``bench/run_bench.py`` (``make bench``), or alone: ``.venv/bin/python bench/pack_bench.py [--runs N]``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
#: The last commit before the pack drew each page once for every format and the handout joined the pack's pages.
PACK_PEER_REF = "db52005"
MODES = ("cold", "flow", "cpu")


def _child(tree: Path, mode: str) -> dict[str, float]:
    """One mode's figures for the code in ``tree`` (runs in a fresh process, from that tree)."""
    sys.path.insert(0, str(tree))       # imported here: which tree's code runs is chosen at run time
    from layers.core import paths
    from layers.scenes.deck import build_deck
    from layers.scenes.pack import build_pack

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pack-") as folder:
        out = Path(folder)
        paths.SCENE_CACHE_DIR = out / "cache"
        if mode == "cold":
            figures["pack_first_s"] = build_pack(out / "pack.zip", reuse=False).seconds
            figures["deck_cold_s"] = build_deck(out / "deck.pdf", reuse=False).seconds
        elif mode == "flow":
            started = time.perf_counter()
            figures["pack_empty_cache_s"] = build_pack(out / "pack.zip").seconds
            figures["deck_after_pack_s"] = build_deck(out / "deck.pdf").seconds
            figures["pack_then_deck_s"] = time.perf_counter() - started
            figures["pack_s"] = build_pack(out / "again.zip").seconds
            figures["pack_mb"] = (out / "pack.zip").stat().st_size / 1e6
            figures["deck_mb"] = (out / "deck.pdf").stat().st_size / 1e6
        else:
            started = time.process_time()
            build_pack(out / "pack.zip", reuse=False, workers=1)
            figures["pack_cpu_s"] = time.process_time() - started
    return figures


def _run(tree: Path, mode: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(tree), mode],
                          capture_output=True, text=True, check=False, cwd=str(tree))
    if done.returncode != 0:
        raise RuntimeError(f"pack bench ({tree.name}, {mode}) failed: {done.stderr[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _peer_tree(tmp: Path, ref: str) -> Path | None:
    """The project as it was at ``ref`` (``git archive``); None when git cannot give it."""
    archive = subprocess.run(["git", "-C", str(PROJECT_DIR), "archive", "--format=tar", ref],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        return None
    folder = tmp / "peer"
    folder.mkdir()
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def pack_figures(runs: int = 1, peer_ref: str | None = PACK_PEER_REF) -> dict[str, Any]:
    """Medians over ``runs`` of every mode, ours and the peer's in turn (order swapped run by run)."""
    with tempfile.TemporaryDirectory(prefix="bench-pack-peer-") as tmp:
        peer = _peer_tree(Path(tmp), peer_ref) if peer_ref else None
        trees = {"ours": PROJECT_DIR, **({"peer": peer} if peer is not None else {})}
        seen: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
        loads = []
        for run in range(runs):
            for mode in MODES:
                order = list(trees) if run % 2 == 0 else list(reversed(trees))
                for name in order:
                    loads.append(os.getloadavg()[0])
                    for key, value in _run(trees[name], mode).items():
                        seen[name].setdefault(key, []).append(value)
    result: dict[str, Any] = {name: {k: round(statistics.median(v), 2) for k, v in values.items()}
                              for name, values in seen.items()}
    if "peer" in result:
        result["peer_ref"] = peer_ref
        result["ratios_peer_over_ours"] = {k: round(result["peer"][k] / v, 2) for k, v in result["ours"].items()
                                           if k in result["peer"] and v and k.endswith("_s")}
    result["load_average_1min"] = [round(min(loads), 1), round(max(loads), 1)]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs of every mode (median reported)")
    parser.add_argument("--peer-ref", default=PACK_PEER_REF, help="git commit of the peer ('' to leave it out)")
    parser.add_argument("--child", nargs=2, metavar=("TREE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(Path(args.child[0]), args.child[1])))
        return 0
    print(json.dumps(pack_figures(args.runs, args.peer_ref or None), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
