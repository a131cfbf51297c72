"""The bounded worker (layers/core/worker.py): untrusted work runs in another process, killed at its limits; the
server process never pays for it. Time bounds here are generous on purpose (a shared 2-core machine)."""
from __future__ import annotations

import logging
import os
import sys
import time
import types
from concurrent.futures import ProcessPoolExecutor

import pytest
from _processes import descendants  # tests/_processes.py

from layers.core.errors import TownImportError, UnexpectedError, WorkerCancelledError, WorkerLimitError
from layers.core.i18n import error_text
from layers.core.worker import Limits, cancel_when, children_without_main, run_bounded
from layers.imports.plan import plan_upload
from layers.map.userlayer import read_user_layer_bounded
from layers.scenes.batch import _worker_context


@pytest.mark.slow  # forks bounded worker processes and waits for their limits
def test_a_result_and_a_refusal_come_back_unchanged():
    assert run_bounded(divmod, 7, 2) == (3, 1)
    with pytest.raises(TownImportError, match="not valid JSON"):
        plan_upload(b'{"type": "FeatureCollection", "features": [', filename="cut.geojson")


@pytest.mark.slow  # forks bounded worker processes and waits for their limits
def test_work_past_the_wall_clock_limit_is_killed():
    started = time.monotonic()
    with pytest.raises(WorkerLimitError) as info:
        run_bounded(time.sleep, 60, limits=Limits(wall_s=2))
    assert info.value.kind == "time" and time.monotonic() - started < 30
    assert "2 s" in error_text(info.value, "en") and "2 秒" in error_text(info.value, "zh")


@pytest.mark.slow  # forks bounded worker processes and waits for their limits
def test_work_past_the_cpu_limit_is_killed():
    started = time.monotonic()
    with pytest.raises(WorkerLimitError) as info:
        run_bounded(sum, range(10 ** 13), limits=Limits(cpu_s=1, wall_s=60))
    assert info.value.kind == "cpu" and time.monotonic() - started < 45


@pytest.mark.slow  # forks bounded worker processes and waits for their limits
def test_work_past_the_memory_limit_is_stopped():
    with pytest.raises(WorkerLimitError) as info:
        run_bounded(bytearray, 8 * 2 ** 30, limits=Limits(memory_mb=256))
    assert info.value.kind == "memory"


@pytest.mark.slow  # forks bounded worker processes and waits for their limits
def test_an_unexpected_error_is_logged_with_an_id_the_message_shows(caplog):
    caplog.set_level(logging.ERROR, logger="layers.core.worker")
    with pytest.raises(UnexpectedError) as info:
        run_bounded(int, "not a number")
    ident = info.value.incident
    assert ident in str(info.value) and ident in error_text(info.value, "zh")
    assert "Traceback" not in str(info.value) and "/" not in str(info.value)
    assert any(ident in r.getMessage() and "ValueError" in r.getMessage() for r in caplog.records)


@pytest.mark.slow  # forks bounded worker processes and waits for their limits
def test_the_own_layer_reads_in_the_worker():
    data = (b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"a"},'
            b'"geometry":{"type":"Point","coordinates":[121.2,31.0]}}]}')
    gdf = read_user_layer_bounded(data, filename="p.geojson")
    assert list(gdf["name"]) == ["a"] and gdf.crs.to_epsg() == 4326



@pytest.mark.slow  # forks bounded worker processes and waits for their limits
def test_work_nobody_waits_for_is_killed_at_once():
    """The visitor closed the page: the worker dies within a poll or two, not at the 60 s wall limit."""
    run_bounded(divmod, 1, 1)  # the fork server is up before counting
    before = set(descendants(os.getpid()))
    seen_running: list[set[int]] = []
    started = time.monotonic()

    def gone() -> bool:
        seen_running.append(set(descendants(os.getpid())) - before)
        return time.monotonic() - started > 1.0

    with pytest.raises(WorkerCancelledError) as info, cancel_when(gone):
        run_bounded(time.sleep, 60, limits=Limits(wall_s=60))
    assert time.monotonic() - started < 10
    assert any(seen_running), "the worker was never seen running"
    worker_pids = set().union(*seen_running)
    assert not worker_pids & set(descendants(os.getpid())), "the worker outlived the visitor"
    assert "关闭" in error_text(info.value, "zh") and "closed" in error_text(info.value, "en")
    # outside the block nothing cancels: the same work runs to its own end
    assert run_bounded(divmod, 9, 4) == (2, 1)


def test_workers_never_run_the_page_installed_as_main(tmp_path, monkeypatch):
    # Streamlit installs each page script as __main__ with its __file__; a worker must not run it again on start.
    marker = tmp_path / "ran"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit('the page ran in a worker')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    assert run_bounded(divmod, 7, 2) == (3, 1)
    # The meeting pack starts its workers as _submit_all does: inside children_without_main.
    with ProcessPoolExecutor(2, mp_context=_worker_context()) as pool, children_without_main():
        assert list(pool.map(divmod, [7, 9], [2, 4])) == [(3, 1), (2, 1)]
    assert not marker.exists()
    assert sys.modules["__main__"] is page  # put back after the workers started
