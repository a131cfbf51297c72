"""The app as a local subprocess (``streamlit run layers/app/serve.py``, as ``make run`` serves it, on a free loopback
port), for browser tests and benches."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from layers.core import paths
from layers.core.errors import AppStartError

#: What ``make run`` runs: the app as an ``st.App`` whose pages know their base address (:mod:`layers.app.serve`).
APP_SCRIPT = "layers/app/serve.py"
#: Seconds to wait for ``/_stcore/health`` to answer.
START_TIMEOUT_S = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.is_file() else ""


def start_app(log: Path, *, timeout_s: float = START_TIMEOUT_S, script: str = APP_SCRIPT,
              cwd: Path | None = None, env: Mapping[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Start the app on a free loopback port, its output to ``log``; return the process and base URL once healthy.

    ``script`` (run from ``cwd``, the project folder by default) lets a bench serve a stripped-down page; Streamlit
    serves ``static/`` from beside it. The file watcher is off: an edit elsewhere in the working tree must not
    reload modules under live sessions. ``env`` adds to (or overrides) this process's environment.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
             "--server.runOnSave", "false", "--browser.gatherUsageStats", "false"],
            cwd=cwd or paths.PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AppStartError(f"streamlit exited with {proc.returncode}:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            pass
        time.sleep(0.3)
    stop_app(proc)
    raise AppStartError(f"streamlit did not serve within {timeout_s:.0f} s:\n{_log_tail(log)}")


def stop_app(proc: subprocess.Popen) -> None:
    """Terminate the app (kill it if it does not stop within 10 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@contextlib.contextmanager
def running_app(log: Path, **kwargs: Any) -> Iterator[str]:
    """The app's base URL while the ``with`` block runs (``kwargs`` as for :func:`start_app`)."""
    proc, url = start_app(log, **kwargs)
    try:
        yield url
    finally:
        stop_app(proc)
