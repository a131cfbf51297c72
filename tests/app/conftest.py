"""Page tests (AppTest): every cache empty before and after each test, so a page reads the data afresh."""
import pytest


@pytest.fixture(autouse=True)
def _fresh(fresh_caches):
    yield
