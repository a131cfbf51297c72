"""The offline build of ``geodata/`` from the copied sources (``python -m layers build``), deterministic.

sources (read the inputs) → partition (schematic town cells) → builders (one per catalogue layer, ``BUILDERS``)
→ overlay (imported boundaries and the re-fit around them) → pipeline (``build_all``: write every layer together)."""

__all__ = ["builders", "cli", "overlay", "partition", "pipeline", "sources"]
