"""Several app processes behind nginx on one port, sharing one workspace store (PostgreSQL):
``python -m layers.app.cluster --processes 2 --port 8080`` with ``SONGJIANG_DATABASE_URL`` set.

nginx (Debian ``nginx-light``) balances by a hash of the browser's ``_streamlit_xsrf`` cookie, so a browser keeps
its process (its session, uploads and media live there), upgrades the websocket, allows 50 MB uploads and forwards
the client address (the Data page refuses changes from other machines without the admin token)."""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from layers.app.server import free_port, start_app, stop_app
from layers.core.errors import AppStartError

NGINX = "/usr/sbin/nginx"


def nginx_config(backends: Sequence[str], *, port: int, folder: Path) -> str:
    """An nginx configuration that serves ``backends`` (``127.0.0.1:PORT``) on ``port``, its files in ``folder``."""
    servers = "\n".join(f"        server {b} max_fails=0;" for b in backends)
    return f"""daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream songjiang {{
        hash $cookie__streamlit_xsrf consistent;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 50m;
        location / {{
            proxy_pass http://songjiang;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 1h;
        }}
    }}
}}
"""


def _wait(url: str, proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AppStartError(f"nginx exited with {proc.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise AppStartError("nginx did not answer")


@contextlib.contextmanager
def running_cluster(processes: int, *, port: int | None = None, log_dir: Path | None = None
                    ) -> Iterator[tuple[str, list[str]]]:
    """Start ``processes`` app processes and nginx in front; yields (the proxy's URL, each process's URL).

    The processes inherit this environment (``SONGJIANG_DATABASE_URL``, ``SONGJIANG_ADMIN_TOKEN``)."""
    if not Path(NGINX).exists():
        raise AppStartError(f"{NGINX} not found: apt-get install nginx-light")
    folder = Path(tempfile.mkdtemp(prefix="songjiang-nginx-"))
    logs = log_dir or folder
    apps: list[tuple[subprocess.Popen, str]] = []
    nginx = None
    try:
        for n in range(processes):
            apps.append(start_app(logs / f"app{n + 1}.log"))
        port = port or free_port()
        config = folder / "nginx.conf"
        config.write_text(nginx_config([u.removeprefix("http://") for _, u in apps], port=port, folder=folder))
        nginx = subprocess.Popen([NGINX, "-c", str(config), "-p", str(folder)], stdout=subprocess.DEVNULL,
                                 stderr=(folder / "nginx.out").open("wb"), start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        _wait(url, nginx)
        yield url, [u for _, u in apps]
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                nginx.wait(timeout=10)
            if nginx.poll() is None:
                nginx.kill()
        for proc, _ in apps:
            stop_app(proc)
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the app with N processes behind nginx until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m layers.app.cluster", description=__doc__)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    if not os.environ.get("SONGJIANG_DATABASE_URL"):
        print("Note: SONGJIANG_DATABASE_URL is not set; the processes share the SQLite store in var/ (one machine).")
    with running_cluster(args.processes, port=args.port, log_dir=Path(tempfile.mkdtemp(prefix="songjiang-logs-"))
                         ) as (url, backends):
        print(f"Serving {url} → {', '.join(backends)}; Ctrl-C stops.")
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
