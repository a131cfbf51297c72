"""What `make run` serves: the app (``app.py`` and its pages) as an ``st.App`` whose pages know their base address.

Opened at a page's own address (a shared link ``/地图_Map?…``, or a reload), Streamlit's page does not know where the
app's root is: it first asks ``/地图_Map/_stcore/health``, gets 404, waits 100 ms and asks ``/_stcore/health``
(0.15–0.25 s measured before the session starts, on every such load). :class:`BaseAddress` writes the answer into
every HTML page served, as Streamlit's documented embedding setting ``window.__streamlit.BACKEND_BASE_URL``: the
page's address without the page's own route, which is where Streamlit's second guess would have found the app
(so a reverse proxy's path prefix is kept). Every page also gets Leaflet and the Map page's preview
(:mod:`layers.app.preview`). Run ``streamlit run layers/app/serve.py`` from the project folder (its
``.streamlit/config.toml`` is read from the working folder).
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import streamlit as st
from starlette.middleware import Middleware

from layers.app.preview import preview_body, preview_head
from layers.app.routes import page_routes
from layers.core import paths

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Paths that never answer with a page: Streamlit's endpoints, its bundle, the app's static files, components.
_NOT_PAGES = ("/_stcore/", "/static/", "/app/static/", "/component/", "/media/")


def base_address_script(routes: list[str]) -> bytes:
    """The script put first in ``<head>``: ``BACKEND_BASE_URL`` = the page's address without a trailing page route
    (one of ``routes``), kept with any path prefix in front of it."""
    listed = json.dumps(routes).replace("</", "<\\/")  # a route can never end the script
    return ("<script>(function(){var r=" + listed + ",p=location.pathname.replace(/\\/+$/,''),"
            "s=p.split('/'),last=s[s.length-1];try{last=decodeURIComponent(last)}catch(e){}"
            "if(r.indexOf(last)>=0){s.pop()}"
            "window.__streamlit=Object.assign({},window.__streamlit,"
            "{BACKEND_BASE_URL:location.origin+s.join('/')+'/'})})();</script>").encode("utf-8")


class BaseAddress:
    """ASGI middleware: every HTML page served gets :func:`base_address_script` first in its ``<head>``, then Leaflet,
    and the preview script at the end of ``<body>`` (:mod:`layers.app.preview`).

    Pages are asked for uncompressed (the body is rewritten, its length set again); every other response (a 304 for
    a page the browser holds, files, Streamlit's endpoints) passes through untouched.
    """

    def __init__(self, app: Asgi, routes: list[str] | None = None) -> None:
        self.app = app
        self.snippet = base_address_script(routes if routes is not None else page_routes())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "GET" or any(p in path for p in _NOT_PAGES):
            await self.app(scope, receive, send)
            return
        scope = dict(scope, headers=[(k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"])
        start: dict[str, Any] = {}
        body: list[bytes] = []

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)  # held until the body says whether it is a page
                return
            if message["type"] != "http.response.body" or not start:
                await send(message)
                return
            headers = {k.lower(): v for k, v in start.get("headers", [])}
            if start.get("status") != 200 or not headers.get(b"content-type", b"").startswith(b"text/html"):
                await send(dict(start))
                start.clear()
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            # Leaflet first: asked for after Streamlit's two dozen module files, it would wait for a free connection.
            page = (b"".join(body).replace(b"<head>", b"<head>" + self.snippet + preview_head(), 1)
                    .replace(b"</body>", preview_body() + b"</body>", 1))
            kept = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send(dict(start, headers=[*kept, (b"content-length", str(len(page)).encode())]))
            start.clear()
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, rewrite)


app = st.App(str(paths.PROJECT_DIR / "app.py"), middleware=[Middleware(BaseAddress)])
