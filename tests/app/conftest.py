"""Page tests (AppTest) run on warm caches; a test that changes what a cache reads asks for empty ones.

Streamlit's caches and the project's in-process ones are keyed by their inputs (layer ids, a language, a view
state), so a page run on a warm cache shows what it would show on a cold one, and emptying them before every test
cost 0.7–2.7 s of CPU a test. The rule:

- a test that changes what a cached loader reads — ``paths.GEODATA_DIR`` or the workspace store monkeypatched (the
  ``geo`` fixture included), an import applied or reverted, an environment variable or setting a loader reads, the
  app's data version (``cache._DATA_VERSION``) replaced — uses ``fresh_caches`` (tests/conftest.py):
  ``@pytest.mark.usefixtures("fresh_caches")``. It empties every cache before the test (it must not read another
  test's data) and after it (the next test must not read its data);
- monkeypatching what no cache reads (the request's address, the admin token, the map gate, the import history
  the Data page lists) keeps the caches warm.

:func:`pytest_runtest_call` below enforces the first half: a test that runs with the data paths, the store's
environment or the data version changed, and without ``fresh_caches``, fails and says so.
"""
from __future__ import annotations

import os

import pytest

from layers.app import cache
from layers.core import paths, settings

#: Environment variables that name the data a cached loader reads (the workspace store).
_DATA_ENV = (settings.DATA_DIR_ENV, settings.DATABASE_URL_ENV)


def _data_sources() -> tuple[object, ...]:
    """What the cached loaders read from: the baseline folder, the store's environment, the data-version record."""
    return (paths.GEODATA_DIR, *(os.environ.get(k) for k in _DATA_ENV), id(cache._DATA_VERSION))


_BEFORE = pytest.StashKey[tuple]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    item.stash[_BEFORE] = _data_sources()  # before any fixture of the test runs
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Fail a page test that changes the data the caches read without emptying them (the rule above)."""
    changed = _data_sources() != item.stash[_BEFORE]  # a fixture changed them
    result = yield
    changed = changed or _data_sources() != item.stash[_BEFORE]  # or the test did (its monkeypatch is still on)
    if changed and "fresh_caches" not in item.fixturenames:
        pytest.fail("this page test changes the data the caches read (geodata/, the store or the data version) "
                    "yet keeps warm caches: add @pytest.mark.usefixtures(\"fresh_caches\") (tests/app/conftest.py)",
                    pytrace=False)
    return result
