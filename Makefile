# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: run test data install browser bench load clean

# Loopback only by default; ADDRESS=0.0.0.0 serves a network (README: "Serving to a team").
ADDRESS ?= 127.0.0.1

run: $(STAMP)
	$(PY) -m streamlit run app.py --server.fileWatcherType none --server.address $(ADDRESS)

test: $(STAMP) browser
	$(PY) -m pytest

data: $(STAMP)
	$(PY) -m layers build

bench: $(STAMP) browser
	$(PY) bench/run_bench.py

load: $(STAMP) browser
	$(PY) bench/load_bench.py

install: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

browser:
	@bash scripts/ensure_browser.sh

clean:
	rm -rf $(VENV) .pytest_cache
