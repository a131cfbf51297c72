"""A page that starts a long worker the way the app's upload readers do (tests/browser/test_browser_leave.py).

It writes what became of the worker to the file named by ``SONGJIANG_TEST_LEAVE_MARKER``.
"""
import os
import time
from pathlib import Path

import streamlit as st

from layers.app.chrome import visitor_gone
from layers.core.errors import WorkerCancelledError
from layers.core.worker import Limits, cancel_when, run_bounded

marker = Path(os.environ["SONGJIANG_TEST_LEAVE_MARKER"])
st.write("worker started")
try:
    with cancel_when(visitor_gone):
        run_bounded(time.sleep, 60, limits=Limits(wall_s=90))
    marker.write_text("finished")
except WorkerCancelledError:
    marker.write_text(f"cancelled {time.time():.3f}")
