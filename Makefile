# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: run test test-fast lint data install browser system bench load load-browser clean

# The app (app.py and pages/) served as an st.App whose pages know their base address (layers/app/serve.py).
# Loopback only by default; ADDRESS=0.0.0.0 serves a network (README: "Serving to a team").
ADDRESS ?= 127.0.0.1

run: $(STAMP)
	$(PY) -m streamlit run layers/app/serve.py --server.fileWatcherType none --server.address $(ADDRESS)

# Everything: lint, then every test but the browser ones on two processes, then the browser tests (one app server,
# one Chromium) — GDAL and QGIS tests included.
test: $(STAMP) browser system lint
	$(PY) -m pytest -m "not browser" -n 2 -q
	$(PY) -m pytest -m browser -q

# The fast loop: lint, then every test but the browser and the slow ones (marker `slow`: subprocesses, crashes,
# databases, whole builds, packs and handouts; each says why), on two processes: 1,277 tests, page tests included,
# in 62 s (pytest; 71 s for the target, 125 s of CPU) at load 0.1-1.4 (2026-11-28, after the in-map filter's tests).
# On this 2-core machine at load ~2 the 1,252 of before ran in 52-62 s (pytest's figure; 58-70 s for the whole
# target), 102-123 s of CPU. Side by side at load 5-7 (the machine shared): 1,264 tests in 134 s (pytest) and
# 126 s of CPU against 1,252 in 168 s and 131 s (user+sys of time -v, which misses the drawing workers: 129 s
# against 133 s with them). The 148 slow ones make the non-browser set 1,412 tests, 290-325 s of CPU in the tests
# themselves (314-317 s before; 358 s in all at load 4-7, 387 s before at load ~4.8): more than 60 s on two cores
# whatever the load, since the fast set alone needs about 2 x 60 s of CPU. `make test` runs them all.
test-fast: $(STAMP) system lint
	$(PY) -m pytest -m "not browser and not slow" -n 2 -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

data: $(STAMP)
	$(PY) -m layers build

# The bench's peers (streamlit-folium) are not app requirements: bench/requirements.txt.
bench: $(STAMP) browser
	$(PY) -m pip install --disable-pip-version-check -q -r bench/requirements.txt
	$(PY) bench/run_bench.py

# The server's capacity over the websocket (no browser; nginx for the two-process case), about 6 minutes.
load: $(STAMP) system
	$(PY) bench/load_bench.py

# The older Chromium load run (its figures are the browsers' as much as the server's).
load-browser: $(STAMP) browser
	$(PY) bench/load_browser.py --pin

install: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

browser:
	@bash scripts/ensure_browser.sh

system:
	@bash scripts/ensure_system.sh

clean:
	rm -rf $(VENV) .pytest_cache
