"""Processes for the tests: the process tree, read from /proc (the tests that check a worker really died, no psutil
needed), and the command line run in a forked child (the tests that kill it at every step)."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
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


def run_forked(argv: list[str], *, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m layers <argv>`` in a child forked from this process: its exit code (``-9`` when it killed
    itself), stdout and stderr together in ``stderr`` and ``stdout``.

    The child runs what the entrypoint runs (``sys.exit(main(argv))``) with ``env`` added to its environment, but
    starts from this process's imports instead of importing the app again (seconds of CPU a run): for the tests
    that run the command line many times and only look at what it left behind (killed at each step). Keep at least
    one real ``python -m layers`` process beside them, for the entrypoint itself.
    """
    from layers.__main__ import main, make_parser  # imported here, in the parent: the child must not import anything

    make_parser()  # every command's module imported here too (the entrypoint imports only the one it runs)

    with tempfile.TemporaryFile() as out:
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 1
            try:
                os.dup2(out.fileno(), 1)
                os.dup2(out.fileno(), 2)
                sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
                sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
                os.environ.update(env)
                try:
                    code = main(argv)
                except SystemExit as exc:  # argparse
                    code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 — the child reports everything and exits, whatever happened
                traceback.print_exc()
            finally:
                os._exit(code)
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise subprocess.TimeoutExpired(["layers", *argv], timeout)
            time.sleep(0.02)
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    return subprocess.CompletedProcess(["layers", *argv], os.waitstatus_to_exitcode(status), text, text)
