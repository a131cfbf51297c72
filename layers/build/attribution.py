"""The town (街镇) of each station and park: stated by a source first, otherwise computed on the current boundaries.

A row of ``station_towns.csv`` / ``park_towns.csv`` with a code is a statement (``stated``; ``inferred`` when its
evidence starts with INFERRED). A row without a code whose evidence puts the point on a unit boundary gives
``boundary`` with every candidate unit. Everything else is computed on the towns of this build, and the basis says
how accurate those towns are (``computed_schematic`` / ``computed_osm`` / ``computed_authoritative``). Where the
statement and the computation disagree, both are kept (``town_computed``) and ``town_conflict`` says so.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from shapely.geometry import Point, shape

#: Every value ``town_basis`` can take.
TOWN_BASES = ("stated", "inferred", "computed_schematic", "computed_osm", "computed_authoritative", "boundary")
_CANDIDATES = re.compile(r"Candidates ([^.;]*)")
_UNIT_NAME = re.compile(r"[\u4e00-\u9fff]+?(?:街道|镇)")


def computed_basis(accuracy: str | None) -> str:
    """The basis of a unit computed on a town of the given accuracy (schematic unless imported)."""
    if accuracy in ("osm", "authoritative"):
        return f"computed_{accuracy}"
    return "computed_schematic"


def _covering(point: Point, towns: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for town in towns:
        if shape(town["geometry"]).covers(point):
            return town["properties"]
    return None


def _candidate_codes(evidence: str, code_of: Mapping[str, str]) -> list[str]:
    match = _CANDIDATES.search(evidence)
    if not match:
        return []
    return [code_of[n] for n in _UNIT_NAME.findall(match.group(1)) if n in code_of]


def attribute_town(row: Mapping[str, str] | None, point: Point, towns: Sequence[Mapping[str, Any]]
                   ) -> dict[str, Any]:
    """The town properties of one point feature.

    Parameters
    ----------
    row
        Its row of ``station_towns.csv`` or ``park_towns.csv`` (None when the source file has none).
    point
        Its WGS84 position.
    towns
        The towns features of this build (schematic cells or imported boundaries).

    Returns
    -------
    dict
        ``town_code`` (the unit it is counted in), ``town_codes`` (every unit it may lie in, comma-joined),
        ``town_zh``, ``town_basis``, ``town_approx`` (the unit depends on schematic geometry),
        ``town_computed`` and ``town_computed_basis`` (on the current boundaries), ``town_conflict``,
        ``town_grade``, ``town_evidence`` and ``town_source``.
    """
    name_of = {t["properties"]["code"]: t["properties"]["name_zh"] for t in towns}
    code_of = {v: k for k, v in name_of.items()}
    cover = _covering(point, towns)
    computed = cover["code"] if cover else None
    c_basis = computed_basis(cover.get("accuracy")) if cover else None
    row = row or {}
    evidence = row.get("evidence", "")
    stated = [c for c in (row.get("town_code") or "").split("|") if c]
    if stated:
        basis = "inferred" if evidence.startswith("INFERRED") else "stated"
        codes = list(stated)
        if "BOUNDARY" in evidence and computed and computed not in codes:
            codes.append(computed)  # a stated boundary stop: the neighbour is kept as a candidate
        code = computed if computed in stated else stated[0]
        approx = False
    elif "boundary" in evidence.lower():
        # On a unit boundary: every unit a source names as a candidate; counted where the current boundaries put
        # it when that is a candidate, otherwise in the first candidate.
        basis = "boundary"
        codes = _candidate_codes(evidence, code_of) or ([computed] if computed else [])
        code = computed if computed in codes else (codes[0] if codes else None)
        approx = not (c_basis in ("computed_osm", "computed_authoritative") and computed in codes)
    else:
        basis = c_basis or "computed_schematic"
        codes = [computed] if computed else []
        code = computed
        approx = basis == "computed_schematic"
    conflict = computed is not None and bool(codes) and computed not in codes
    return {
        "town_code": code, "town_codes": ",".join(sorted(codes)), "town_zh": name_of.get(code) if code else None,
        "town_basis": basis, "town_approx": approx, "town_computed": computed, "town_computed_basis": c_basis,
        "town_conflict": conflict, "town_grade": row.get("grade") or None,
        "town_evidence": evidence or None, "town_source": row.get("source") or None,
    }
