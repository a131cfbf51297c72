"""The process tree, read from /proc: the tests that check a worker really died (no psutil needed)."""
from __future__ import annotations

from pathlib import Path


def descendants(pid: int) -> dict[int, int]:
    """Every living process below ``pid`` (zombies excluded), each with its parent's pid."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found: dict[int, int] = {}
    todo = [pid]
    while todo:
        current = todo.pop()
        children = {child: parent for child, parent in parents.items() if parent == current}
        found |= children
        todo.extend(children)
    return found
