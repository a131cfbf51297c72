"""Fixtures of the export tests: every format × CRS written once per session."""
from __future__ import annotations

import pytest

from layers.export.download import export_layers
from layers.export.formats import FORMATS
from layers.export.job import CRS_CHOICES

VALID = [(fmt, crs) for fmt in FORMATS for crs in CRS_CHOICES if crs in FORMATS[fmt].crs]


@pytest.fixture(scope="session")
def matrix(tmp_path_factory, layers):
    """Every valid format × CRS, all layers, written once for the session."""
    root = tmp_path_factory.mktemp("matrix")
    return {(fmt, crs): export_layers("all", fmt=fmt, crs=crs, out_dir=root / f"{fmt}-{crs}", layers=layers)
            for fmt, crs in VALID}
