"""Run untrusted work (parsing an upload, planning an import) in a separate process with hard limits.

The child is forked from a fork server that has imported nothing but this project's reader (so GDAL's safe
environment is in force), gets a CPU-time and an address-space limit (``resource``), and is killed when the
wall-clock limit passes, or as soon as nobody waits for it any more (:func:`cancel_when`: the page that asked was
closed). Whatever the file does, the server process keeps answering and its memory is untouched.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import signal
import sys
import time
import traceback
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from layers.core import settings
from layers.core.errors import SongjiangMapError, UnexpectedError, WorkerCancelledError, WorkerLimitError

_log = logging.getLogger(__name__)

#: Modules the fork server imports once, so that each worker starts in milliseconds.
PRELOAD = ["layers.core.upload", "layers.imports.plan", "layers.map.userlayer"]

#: Asked while a worker runs: True when nobody waits for its result any more (set by :func:`cancel_when`).
_GONE: ContextVar[Callable[[], bool] | None] = ContextVar("worker_gone", default=None)


@contextmanager
def cancel_when(gone: Callable[[], bool]) -> Iterator[None]:
    """Within this block, a worker is killed as soon as ``gone()`` is true (checked every ``WORKER_POLL_S``).

    The app passes "the visitor's session has ended", so closing the page stops the work at once rather than at
    the wall-clock limit.
    """
    token = _GONE.set(gone)
    try:
        yield
    finally:
        _GONE.reset(token)


@dataclass(frozen=True)
class Limits:
    """Wall-clock seconds, CPU seconds and extra address space (MB) one worker may use."""

    wall_s: float = settings.WORKER_WALL_S
    cpu_s: int = settings.WORKER_CPU_S
    memory_mb: int = settings.WORKER_MEMORY_MB


@contextmanager
def children_without_main() -> Iterator[None]:
    """Start worker processes inside this block so they do not run this process's ``__main__`` file again.

    Streamlit installs each page script as ``__main__`` (with its ``__file__``), and a spawned or forkserver child
    re-runs ``__main__``'s file on start: without this, a pack worker would run the Present page and an upload
    worker the Data page. A module started with ``-m`` (``__spec__`` set) is left alone: it is re-imported by name.
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None or not getattr(main, "__file__", None):
        yield
        return
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _context() -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def _address_space() -> int:
    """This process's current virtual size in bytes (the memory limit is added to it)."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _child(conn: Connection, func: Callable[..., Any], args: tuple, kwargs: dict, limits: Limits) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
    cap = _address_space() + limits.memory_mb * 2 ** 20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        result: tuple[str, Any] = ("ok", func(*args, **kwargs))
    except SongjiangMapError as exc:
        result = ("refused", exc)
    except MemoryError:
        result = ("memory", None)
    except BaseException as exc:  # noqa: BLE001 — reported to the parent, logged there with an id
        result = ("unexpected", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    try:
        conn.send(result)
    except MemoryError:
        conn.send(("memory", None))
    except Exception:  # noqa: BLE001 — an unpicklable result is a bug of ours, reported as such
        conn.send(("unexpected", traceback.format_exc()))
    finally:
        conn.close()


def incident(detail: str, *, where: str) -> UnexpectedError:
    """Log ``detail`` (a traceback) on the server under a short id and return the error a visitor may see."""
    ident = uuid.uuid4().hex[:8]
    _log.error("incident %s in %s:\n%s", ident, where, detail)
    return UnexpectedError(ident)


def _wait(receive: Connection, wall_s: float) -> None:
    """Return once the worker has answered; raise when the wall-clock limit passes or nobody waits any more."""
    gone = _GONE.get()
    deadline = time.monotonic() + wall_s
    while not receive.poll(min(settings.WORKER_POLL_S, max(0.0, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            raise WorkerLimitError("time", wall_s)
        if gone is not None and gone():
            raise WorkerCancelledError()


def run_bounded(func: Callable[..., Any], *args: Any, limits: Limits | None = None, where: str = "upload",
                **kwargs: Any) -> Any:
    """``func(*args, **kwargs)`` in a worker process under ``limits``; its result, or its project exception.

    ``func`` must be a module-level function, its arguments and result picklable (bytes in, GeoDataFrame or report
    out).

    Raises
    ------
    SongjiangMapError
        What ``func`` raised on purpose (e.g. :class:`TownImportError`), unchanged.
    WorkerLimitError
        The work took longer than the wall-clock or CPU limit, or more memory than allowed; it was killed.
    WorkerCancelledError
        Nobody waits for the result any more (:func:`cancel_when`); the work was killed.
    UnexpectedError
        Anything else; the details are logged on the server under the id the message shows.
    """
    limits = limits or Limits()
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, func, args, kwargs, limits), daemon=True)
    with children_without_main():
        proc.start()
    send.close()
    try:
        _wait(receive, limits.wall_s)
        try:
            kind, value = receive.recv()
        except EOFError:  # the child died without a word: killed by the CPU limit, or the kernel (memory)
            proc.join(5)
            code = proc.exitcode
            # SIGXCPU at the soft CPU limit; SIGKILL at the hard one (work inside C code, e.g. GEOS, does not
            # stop for SIGXCPU). Memory shows as MemoryError: RLIMIT_AS makes allocations fail, it kills nothing.
            if code in (-signal.SIGXCPU, -signal.SIGKILL):
                raise WorkerLimitError("cpu", limits.cpu_s) from None
            raise incident(f"worker exited with code {code}", where=where) from None
    finally:
        receive.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
    if kind == "ok":
        return value
    if kind == "refused":
        raise value
    if kind == "memory":
        raise WorkerLimitError("memory", limits.memory_mb)
    raise incident(str(value), where=where)
