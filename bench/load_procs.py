"""The load bench's view of processes, from /proc: a process tree, its CPU time and memory, and pinning it to
cores (every thread: ``sched_setaffinity`` on a pid moves only that thread, and a thread inherits its creator's)."""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def proc_status_kb(pid: int, key: str) -> int | None:
    """A ``kB`` field of /proc/<pid>/status (VmRSS, VmHWM), or None when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of the process (s), from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def tree(pid: int) -> list[int]:
    """``pid`` and every living process below it."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, todo = [pid], [pid]
    while todo:
        current = todo.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found += children
        todo += children
    return found


def pin(pids: Iterable[int], cores: set[int], *, descendants: bool = True) -> None:
    """Pin every thread of ``pids`` (and of their descendants, unless told not to) to ``cores``."""
    for top in pids:
        for pid in tree(top) if descendants else [top]:
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    os.sched_setaffinity(int(task.name), cores)
                except (OSError, ValueError):  # the thread ended meanwhile
                    continue


def total_cpu_s(pids: Iterable[int]) -> float:
    """CPU seconds of ``pids`` together."""
    return sum(cpu_seconds(p) or 0.0 for p in pids)


def total_rss_mb(pids: Iterable[int], key: str = "VmRSS") -> float:
    """Resident memory of ``pids`` together (MB); ``key`` VmHWM gives each one's peak."""
    return sum(proc_status_kb(p, key) or 0 for p in pids) / 1024
