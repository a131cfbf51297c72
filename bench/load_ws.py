"""A Streamlit session without a browser, for ``make load``: it speaks the app's websocket protocol (BackMsg /
ForwardMsg protobufs, as Streamlit's own frontend does) and walks the Map page's standard path.

What a browser does and this client does too: connect to ``/_stcore/stream`` with its own ``_streamlit_xsrf``
cookie (nginx's sticky hash), ask for a page run with the address's query string, keep every widget value it has set
and send them all with each rerun, follow the page's address changes (``page_info_changed``), report the map's first
paint (the in-page component's ``drawn`` state, which opens the "map first" gate) and fetch the download's media
URL. What it skips: the static files (a browser has them cached after its first visit) and drawing. A step ends with
the run's ``script_finished``; the run's text must hold the expected caption (a wrong page is an error).
"""
from __future__ import annotations

import asyncio
import io
import json
import secrets
import time
import urllib.request
import zipfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

#: Seconds one run may take before the session counts as failed.
RUN_TIMEOUT_S = 120.0
_DONE = {ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY}
_FAILED = {ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR}
_SIDEBAR = 1  # delta_path[0] of the sidebar's elements (0 is the main area)


class SessionError(Exception):
    """A run did not show what the step expects, failed, or took too long."""


@dataclass
class Widget:
    """A widget the last run drew: its kind, id, label, options (as shown), value (as shown) and where (main area
    or sidebar)."""

    kind: str
    id: str
    label: str
    options: list[str]
    value: list[str]
    container: int
    url: str = ""


@dataclass
class Run:
    """What one script run sent: its widgets and its texts, and whether it raised."""

    widgets: list[Widget] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    exception: str | None = None

    def widget(self, kind: str, label: str, *, container: int | None = None) -> Widget:
        """The widget of ``kind`` labelled ``label`` (in ``container`` when given)."""
        for w in self.widgets:
            if w.kind == kind and w.label == label and (container is None or w.container == container):
                return w
        raise SessionError(f"no {kind} labelled {label!r} in the run")

    def has_text(self, text: str) -> bool:
        return any(text in t for t in self.texts)


def _record(run: Run, msg: ForwardMsg) -> None:
    element = msg.delta.new_element
    kind = element.WhichOneof("type")
    where = msg.metadata.delta_path[0] if msg.metadata.delta_path else 0
    if kind == "multiselect":
        proto = element.multiselect
        value = list(proto.raw_values) if proto.set_value else [proto.options[i] for i in proto.default]
        run.widgets.append(Widget(kind, proto.id, proto.label, list(proto.options), value, where))
    elif kind == "selectbox":
        proto = element.selectbox
        value = [proto.raw_value] if proto.set_value else [proto.options[proto.default]] if proto.options else []
        run.widgets.append(Widget(kind, proto.id, proto.label, list(proto.options), value, where))
    elif kind in ("button", "download_button"):
        proto = getattr(element, kind)
        run.widgets.append(Widget(kind, proto.id, proto.label, [], [], where,
                                  url=getattr(proto, "url", "")))
    elif kind == "bidi_component":
        run.widgets.append(Widget(kind, element.bidi_component.id, "", [], [], where))
    elif kind == "markdown":
        run.texts.append(element.markdown.body)
    elif kind == "alert":
        run.texts.append(element.alert.body)
    elif kind == "exception":
        run.exception = f"{element.exception.type}: {element.exception.message}"


class WsSession:
    """One browser-less session of the app at ``base`` (``http://host:port``), on the page at ``route``."""

    def __init__(self, base: str, route: str, query: str) -> None:
        self.base = base
        self.route = route
        self.query = query
        self.page_hash = ""
        self.states: dict[str, WidgetState] = {}
        self.cookie = secrets.token_hex(16)
        self._ws: Any = None
        self.received_bytes = 0

    async def __aenter__(self) -> WsSession:
        url = self.base.replace("http://", "ws://", 1) + "/_stcore/stream"
        self._ws = await websockets.connect(url, subprotocols=["streamlit"], max_size=None, compression=None,
                                            additional_headers={"Cookie": f"_streamlit_xsrf={self.cookie}"},
                                            open_timeout=RUN_TIMEOUT_S)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._ws.close()

    async def run(self, *, triggers: dict[str, WidgetState] | None = None) -> Run:
        """Ask for a rerun with every widget value set so far (plus one-shot ``triggers``); the finished run."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        if self.page_hash:
            state.page_script_hash = self.page_hash
        else:
            state.page_name = self.route
        state.widget_states.widgets.extend([*self.states.values(), *(triggers or {}).values()])
        await self._ws.send(msg.SerializeToString())
        run = Run()
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while True:
            data = await asyncio.wait_for(self._ws.recv(), max(0.1, deadline - time.monotonic()))
            self.received_bytes += len(data)
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "delta":
                _record(run, fwd)
            elif kind == "page_info_changed":
                self.query = fwd.page_info_changed.query_string
            elif kind == "navigation":
                self.page_hash = fwd.navigation.page_script_hash
            elif kind == "new_session":
                run = Run()  # a rerun that started over: only the last run's elements count
            elif kind == "script_finished":
                if fwd.script_finished in _FAILED:
                    raise SessionError("the script failed to compile")
                if fwd.script_finished in _DONE:
                    if run.exception:
                        raise SessionError(f"the page shows an exception: {run.exception[:200]}")
                    return run

    def set_multiselect(self, widget: Widget, values: list[str]) -> None:
        state = WidgetState(id=widget.id)
        state.string_array_value.data.extend(values)
        self.states[widget.id] = state

    def set_selectbox(self, widget: Widget, value: str) -> None:
        self.states[widget.id] = WidgetState(id=widget.id, string_value=value)

    def set_component(self, widget: Widget, value: dict[str, Any]) -> None:
        self.states[widget.id] = WidgetState(id=widget.id, json_value=json.dumps(value))

    @staticmethod
    def trigger(widget: Widget) -> dict[str, WidgetState]:
        return {widget.id: WidgetState(id=widget.id, trigger_value=True)}

    def fetch(self, url: str) -> bytes:
        """A media file the page offers (the download button's URL), as the browser fetches it."""
        target = url if url.startswith("http") else self.base + "/" + quote(url.lstrip("/"), safe="/?=&%")
        request = urllib.request.Request(target, headers={"Cookie": f"_streamlit_xsrf={self.cookie}"})
        with urllib.request.urlopen(request, timeout=RUN_TIMEOUT_S) as answer:
            return answer.read()


def is_geopackage(data: bytes) -> bool:
    """A GeoPackage, alone or zipped with its QGIS project."""
    if data.startswith(b"SQLite format 3\x00"):
        return True
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inner = next((n for n in archive.namelist() if n.endswith(".gpkg")), None)
            return inner is not None and archive.read(inner).startswith(b"SQLite format 3\x00")
    return False
