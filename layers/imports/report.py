"""The dry-run report of a town-boundary import: one result per unit, issues by severity, text and JSON."""
from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from layers.core.i18n import t

_SEVERITIES = ("error", "confirm", "warning", "info")


@dataclass
class ImportIssue:
    """One finding: ``severity`` error (file rejected), confirm (needs --force), warning or info. ``key`` and
    ``params`` give its text in any language (``t(key, lang, **params)``); ``message`` is the English one."""

    kind: str
    severity: str
    message: str
    key: str = ""
    params: dict[str, str] = field(default_factory=dict)
    detail: str = ""  # a lower layer's own words (English), kept apart from the sentence: folded on the page

    def text(self, lang: str = "en") -> str:
        """The finding in ``lang`` (the English message when it has no key)."""
        if not self.key:
            return self.message
        params = dict(self.params)
        for name, value in self.params.items():  # a part worded in the same language (e.g. "they are skipped")
            if name.endswith("_key"):
                params[name[:-4]] = t(value, lang, **self.params)
        return t(self.key, lang, **params)


@dataclass
class UnitResult:
    """What happens to one of the 17 units (areas in km², measured in EPSG:4549)."""

    code: str
    name_zh: str
    name_en: str
    status: str                      # imported | schematic
    matched_by: str = ""             # code | name
    input_label: str = ""            # the unit's name or code as written in the file (inert text)
    supplied_km2: float | None = None
    clipped_km2: float | None = None  # supplied area outside the district outline, cut off
    added_km2: float | None = None    # slivers and gaps received from the re-fit
    area_km2: float | None = None     # final area in the rebuilt towns layer
    official_km2: float | None = None


@dataclass
class ImportReport:
    """Validation report of one import: what matched, what stays schematic, every problem found."""

    file_name: str
    accuracy: str
    source_crs: str
    import_date: str
    features_read: int = 0
    code_field: str | None = None
    name_fields: list[str] = field(default_factory=list)
    units: list[UnitResult] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    rejected_features: list[dict[str, str]] = field(default_factory=list)
    repaired: list[dict[str, str]] = field(default_factory=list)
    overlaps: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    outside_km2: float = 0.0
    slivers_km2: float = 0.0
    result_overlap_m2: float | None = None
    result_symdiff_m2: float | None = None
    replaces: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    based_on: str | None = None       # the store version when planned ("v3"); apply checks it is still in force
    file_sha256: str | None = None    # SHA-256 of the file as uploaded, kept in the history
    issues: list[ImportIssue] = field(default_factory=list)
    features: list[dict[str, Any]] = field(default_factory=list, repr=False)  # the overlay to write

    def add(self, kind: str, severity: str, message: str = "", *, key: str = "", detail: str = "",
            **params: object) -> None:
        """Record an issue: its text is ``key`` of the dictionaries with ``params`` (or a plain ``message``);
        ``detail`` the technical detail behind it, appended to the English message (command line, JSON)."""
        issue = ImportIssue(kind, severity, message, key, {k: str(v) for k, v in params.items()}, detail)
        issue.message = issue.text("en") if key else message
        if detail:
            issue.message = f"{issue.message} ({detail})"
        self.issues.append(issue)

    @property
    def rejected(self) -> bool:
        """True when the file cannot be imported (any error)."""
        return any(i.severity == "error" for i in self.issues)

    @property
    def needs_confirmation(self) -> bool:
        """True when applying needs an explicit ``force`` (e.g. GCJ-02 suspected)."""
        return any(i.severity == "confirm" for i in self.issues)

    @property
    def imported_codes(self) -> list[str]:
        return [u.code for u in self.units if u.status == "imported"]

    def messages(self, *severities: str) -> list[str]:
        """Messages of the given severities (all when none given)."""
        return [i.message for i in self.issues if not severities or i.severity in severities]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (no geometry) for JSON."""
        out = asdict(self)
        out.pop("features")
        out["status"] = self.status
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"

    @property
    def status(self) -> str:
        if self.rejected:
            return "rejected"
        return "needs_confirmation" if self.needs_confirmation else "ready"

    def units_frame(self) -> pd.DataFrame:
        """One row per unit (all 17 once matched), for tables."""
        return pd.DataFrame([asdict(u) for u in self.units])

    def to_text(self) -> str:
        """The report as plain text (names from the file appear verbatim, as inert text)."""
        lines = [f"Import of {self.file_name}: accuracy {self.accuracy}, CRS {self.source_crs}, "
                 f"{self.features_read} feature(s) read, {self.import_date}"]
        lines.append({"rejected": "REJECTED: nothing can be written.",
                      "needs_confirmation": "NEEDS CONFIRMATION: apply only with --force (see below).",
                      "ready": "Ready to apply."}[self.status])
        for title, sev in (("Errors", ("error",)), ("Needs confirmation", ("confirm",)),
                           ("Warnings", ("warning",)), ("Notes", ("info",))):
            msgs = self.messages(*sev)
            if msgs:
                lines.append(f"{title}:")
                lines += [f"  - {m}" for m in msgs]
        if self.units:
            n_imp = len(self.imported_codes)
            lines.append(f"Units: {n_imp} imported, {len(self.units) - n_imp} schematic (re-fitted around them)")
            lines.append(f"  {'code':9s}  {_pad('name', 10)}  {'status':9s}  {'by':4s}  {'supplied':>8s}  "
                         f"{'clipped':>7s}  {'added':>6s}  {'area':>7s}  {'official':>8s}")
            for u in self.units:
                lines.append(f"  {u.code:9s}  {_pad(u.name_zh, 10)}  {u.status:9s}  {u.matched_by:4s}  "
                             f"{_num(u.supplied_km2, 8)}  {_num(u.clipped_km2, 7)}  {_num(u.added_km2, 6)}  "
                             f"{_num(u.area_km2, 7)}  {_num(u.official_km2, 8)}")
            lines.append("  (km²; clipped = supplied area outside the district outline; added = slivers and gaps "
                         "received)")
        if self.unmatched:
            lines.append("Features matching no Songjiang unit: " + "; ".join(self.unmatched))
        if self.rejected_features:
            lines.append("Rejected features: " + "; ".join(f"{r['feature']} ({r['reason']})"
                                                          for r in self.rejected_features))
        if self.result_overlap_m2 is not None:
            lines.append(f"Partition check: overlaps {self.result_overlap_m2:.1f} m², union vs outline "
                         f"{self.result_symdiff_m2:.1f} m²; imported area outside the outline {self.outside_km2:.3f} "
                         f"km², slivers {self.slivers_km2:.3f} km², gaps "
                         f"{sum(g['area_m2'] for g in self.gaps) / 1e6:.3f} km²; {self.elapsed_s:.1f} s")
        return "\n".join(lines) + "\n"


def _pad(text: str, width: int) -> str:
    """Left-justify by display width (a CJK character takes two columns)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def _num(value: float | None, width: int) -> str:
    return f"{'-':>{width}s}" if value is None else f"{value:{width}.3f}"
