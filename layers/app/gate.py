"""Map first: a page's first run in a session sends its map and stops; the rest follows once the map is drawn.

The in-page map reports "drawn" after its first paint (or a map error, or its own time limit); that report reruns
the page, which then sends everything. A fragment that fires after ``settings.MAP_GATE_TIMEOUT_S`` opens the gate
too, so a map that never mounts never hides the page. ``settings.MAP_GATE_ENV`` = off turns the gate off (AppTest,
where no browser draws).
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import timedelta

import streamlit as st

from layers.core import settings

#: Session key: the pages whose gate is open in this session.
_OPEN_KEY = "_gate_open"
#: Session key prefix: when a page's gated run started (monotonic seconds).
_START_KEY = "_gate_start_"
_OFF = ("0", "off", "false", "no")


def gate_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether pages send their map first (on unless ``settings.MAP_GATE_ENV`` says 0/off/false/no)."""
    env = os.environ if environ is None else environ
    return (env.get(settings.MAP_GATE_ENV) or "").strip().lower() not in _OFF


def map_first(page: str) -> bool:
    """Whether this run of ``page`` sends only its map (the gate is on and not yet open for it in this session)."""
    return gate_enabled() and page not in st.session_state.get(_OPEN_KEY, set())


def open_gate(page: str) -> None:
    """Let the rest of ``page`` through from now on in this session."""
    st.session_state[_OPEN_KEY] = st.session_state.get(_OPEN_KEY, set()) | {page}
    st.session_state.pop(_START_KEY + page, None)


def opener(page: str) -> Callable[[], None]:
    """The map's "drawn" callback for ``page``: opens its gate (the rerun that follows sends the rest)."""
    return lambda: open_gate(page)


def hold_rest(page: str) -> None:
    """End a gated run of ``page`` here (after its map), with a time limit that opens the gate anyway; no-op when
    the gate is open or off."""
    if not map_first(page):
        return
    st.session_state.setdefault(_START_KEY + page, time.monotonic())
    _time_limit(page)
    st.stop()


@st.fragment(run_every=timedelta(seconds=settings.MAP_GATE_TIMEOUT_S))
def _time_limit(page: str) -> None:
    """Runs with the gated page, then once more after the time limit: then it opens the gate and reruns the page."""
    started = st.session_state.get(_START_KEY + page)
    if started is not None and time.monotonic() - started >= settings.MAP_GATE_TIMEOUT_S * 0.9:
        open_gate(page)
        st.rerun()
