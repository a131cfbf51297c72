"""Reference checker: every cited plan range ("FYP a–b" = lines a to b of the plan) must contain what it is cited
for — the entry's name, a quoted term (``plan_quote``) or its number — in the catalogue, the curation files, the
scenes, the README and the built layers. A failure names the file, the entry and the lines."""
from __future__ import annotations

import csv
import json
import re
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest

from layers.core import paths

PLAN = paths.PROJECT_DIR.parent / "shared" / "seeds" / "002_7ff42bc869d1aa1a.txt"
#: "FYP 233–235, 1116–1118, 1314" → the ranges after one "FYP".
REF = re.compile(r"FYP\s+(\d+(?:\s*[–-]\s*\d+)?(?:\s*,\s*\d+(?:\s*[–-]\s*\d+)?)*)")
_SPLIT = re.compile(r"[\s/（）()、：:“”\"，,；;·—–-]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _plan_lines() -> list[str]:
    if not PLAN.is_file():
        pytest.skip(f"the plan text is not present at {PLAN}")
    return PLAN.read_text(encoding="utf-8").splitlines()


def _norm(text: str) -> str:
    """Line breaks and spaces removed, so a quote wrapped over several lines still matches."""
    return re.sub(r"\s+", "", text)


def ranges(text: str) -> list[tuple[int, int]]:
    """Every line range cited in ``text``."""
    out = []
    for match in REF.finditer(text):
        for part in match.group(1).split(","):
            ends = [int(n) for n in re.split(r"\s*[–-]\s*", part.strip())]
            out.append((ends[0], ends[-1]))
    return out


def name_terms(name: str) -> list[str]:
    """The name and its parts of two characters or more ("松江府城 (老城, 岳阳街道)" → 松江府城, 老城, 岳阳街道 …)."""
    parts = [p for p in _SPLIT.split(name or "") if len(p) >= 2 and not p.isascii()]
    # The plan names units without their suffix ("在九里亭、九亭、泗泾…").
    parts += [p.removesuffix(s) for p in parts for s in ("街道", "镇") if p.endswith(s) and len(p) > len(s) + 1]
    return [_norm(name)] + parts if name else parts


def number_terms(value: str) -> list[str]:
    """The numbers of a value; single digits only when there is nothing longer (a lone "5" matches anywhere)."""
    found = _NUMBER.findall(value or "")
    longer = [n for n in found if len(n) >= 2]
    return longer or found


def quote_terms(entry: dict[str, Any]) -> list[str]:
    quote = entry.get("plan_quote", [])
    return [quote] if isinstance(quote, str) else list(quote)


# --------------------------------------------------------------------------------------------------------------
# Every cited range, with the terms it must contain
# --------------------------------------------------------------------------------------------------------------
Cited = tuple[str, str, str, list[str]]  # file, entry, reference text, terms


def _toml(path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _curation_plan() -> Iterator[Cited]:
    plan = _toml(paths.CURATION_DIR / "plan.toml")
    where = "geodata/curation/plan.toml"
    for zone in plan["zone"]:
        yield where, f"zone {zone['id']}", zone["plan_ref"], quote_terms(zone) + name_terms(zone["name_zh"])
    for key, item in plan["structure"].items():
        yield where, f"structure {key}", item["plan_ref"], quote_terms(item) + name_terms(item["name_zh"])
    for key, item in plan["rail"].items():
        yield where, f"rail {key}", item["plan_ref"], quote_terms(item) + name_terms(item["name_zh"])
        yield where, f"rail {key} notes", item["notes"], quote_terms(item) + name_terms(item["name_zh"])
    for park in plan["park"]:
        name = park.get("name_zh") or park.get("places_name", "")
        yield where, f"park {park['id']}", park["plan_ref"], quote_terms(park) + name_terms(name)


def _curation_csv() -> Iterator[Cited]:
    with (paths.CURATION_DIR / "indicators.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            entry = f"indicator {row['no']} {row['name_zh']}"
            yield ("geodata/curation/indicators.csv", entry, row["plan_ref"],
                   number_terms(row["target_2025"]) + name_terms(row["name_zh"])[:1])
            if row["value_2020_ref"]:
                quote = [row["value_2020_quote"]] if row.get("value_2020_quote") else []
                yield ("geodata/curation/indicators.csv", entry + " (2020)", row["value_2020_ref"],
                       number_terms(row["value_2020"]) + quote)
    with (paths.CURATION_DIR / "headlines.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            yield ("geodata/curation/headlines.csv", f"headline {row['key']}", row["plan_ref"],
                   number_terms(row["value"]))


def _catalogue() -> Iterator[Cited]:
    cat = _toml(paths.PROJECT_DIR / "layers" / "catalog.toml")
    where = "layers/catalog.toml"
    for layer in cat["layer"]:
        prov = layer["provenance"]
        for key in ("plan_ref", "source"):
            yield where, f"layer {layer['id']} {key}", prov.get(key, ""), quote_terms(prov)
        for item in layer.get("undrawn", []):
            yield where, f"undrawn {item['line_id']}", item["plan_ref"], quote_terms(item) + name_terms(item["name_zh"])
            for key in ("reason_zh", "reason_en"):
                yield where, f"undrawn {item['line_id']} {key}", item[key], quote_terms(item)


def _scenes() -> Iterator[Cited]:
    scenes = _toml(paths.PROJECT_DIR / "layers" / "scenes" / "scenes.toml")
    for scene in scenes.get("scene", []):
        for key, value in scene.items():
            if isinstance(value, str):
                yield "layers/scenes/scenes.toml", f"scene {scene.get('id')} {key}", value, quote_terms(scene)


def _curation_terms() -> dict[str, list[str]]:
    """Feature id → terms of its curation entry (built features cite what the curation cites)."""
    plan = _toml(paths.CURATION_DIR / "plan.toml")
    out: dict[str, list[str]] = {}
    for zone in plan["zone"]:
        out[zone["id"]] = quote_terms(zone)
    for key, item in {**plan["structure"], **plan["rail"]}.items():
        out[key] = quote_terms(item)
    for park in plan["park"]:
        out[park["id"]] = quote_terms(park)
    return out


def _built_layers() -> Iterator[Cited]:
    terms = _curation_terms()
    for path in sorted(paths.GEODATA_DIR.glob("*.geojson")):
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            props = feature["properties"]
            extra = terms.get(str(props.get("id")), [])
            for key, value in props.items():
                if isinstance(value, str) and "FYP" in value and key not in ("town_evidence", "town_source"):
                    yield (f"geodata/{path.name}", f"{props.get('id')} {key}", value,
                           extra + name_terms(props.get("name_zh", "")) + name_terms(props.get("members_zh", "")))


def _readme() -> Iterator[Cited]:
    for i, line in enumerate((paths.PROJECT_DIR / "README.md").read_text(encoding="utf-8").splitlines(), 1):
        if "FYP" in line and ranges(line):
            yield "README.md", f"line {i}", line, name_terms(line)


def all_cited() -> list[Cited]:
    items = [*_curation_plan(), *_curation_csv(), *_catalogue(), *_scenes(), *_built_layers(), *_readme()]
    return [item for item in items if ranges(item[2])]


# --------------------------------------------------------------------------------------------------------------
#: "seed 001 line 7", "seed 003 lines 31–41": lines of the article seeds.
#: An article line cited as "seed 000 line 15", "seeds/000_….txt lines 31–41", "…txt 第 15 行" or "000:31–41".
SEED_REF = re.compile(r"(?:seeds?[ /](\d{3})(?:_[0-9a-f]+\.txt)? (?:lines? |第 ?)|(?<![\d.])(\d{3}):)"
                      r"(\d+)(?:\s*[–-]\s*(\d+))?")


def seed_cited() -> list[Cited]:
    """Cited article lines: the indicators' latest values and the scenes' seed quotes."""
    out: list[Cited] = []
    with (paths.CURATION_DIR / "indicators.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("latest_ref"):
                out.append(("geodata/curation/indicators.csv", f"indicator {row['no']} latest", row["latest_ref"],
                            number_terms(row["latest_value"])))
    for scene in _toml(paths.PROJECT_DIR / "layers" / "scenes" / "scenes.toml").get("scene", []):
        for key, value in scene.items():
            if isinstance(value, str) and SEED_REF.search(value):
                out.append(("layers/scenes/scenes.toml", f"scene {scene['id']} {key}", value,
                            list(scene.get("seed_quote", []))))
    return out


def test_every_cited_article_line_contains_what_it_is_cited_for():
    problems = []
    for where, entry, text, terms in seed_cited():
        for match in SEED_REF.finditer(text):
            seed = match.group(1) or match.group(2)
            files = sorted(paths.SEEDS_DIR.glob(f"{seed}_*.txt"))
            if not files:
                pytest.skip(f"seed {seed} is not present in {paths.SEEDS_DIR}")
            a = int(match.group(3))
            b = int(match.group(4) or a)
            body = _norm("".join(files[0].read_text(encoding="utf-8").splitlines()[a - 1:b]))
            if not any(_norm(t) in body for t in terms if _norm(t)):
                problems.append(f"{where} · {entry} · seed {seed} lines {a}–{b}: none of {terms}")
    assert len(seed_cited()) >= 2
    assert not problems, "\n" + "\n".join(problems)


@pytest.mark.parametrize("old_ref, terms", [
    ("FYP 164–165", ["1755"]),                 # indicator 8: the number is on line 166
    ("FYP 243–256", ["沪昆", "沪杭"]),          # 沪昆 occurs nowhere in the plan
    ("FYP 1533–1547", ["沪苏湖"]),             # 沪苏湖 is on lines 246 and 1525
    ("FYP 1118–1119", ["信创产业基地"]),        # wraps onto line 1120
    ("FYP 1638–1639", ["九亭生命健康基地"]),    # starts on line 1637
    ("FYP 1447", ["府城"]),                    # the plan names 府城 at 2230 and 2266
    ("FYP 1496", ["辰山植物园"]),              # the plan never names the botanical garden
    ("FYP 1615–1617", ["G60星链"]),            # the plan says 临港卫星产业基地
])
def test_the_checker_catches_each_reference_issue_13_fixed(old_ref, terms):
    assert _problems([("x", "old", old_ref, terms)], _plan_lines())


def test_the_checker_finds_the_cited_ranges():
    cited = all_cited()
    assert sum(len(ranges(c[2])) for c in cited) >= 93
    assert ranges("FYP 233–235, 1116–1118, 1314") == [(233, 235), (1116, 1118), (1314, 1314)]


def test_the_checker_fails_on_a_wrong_reference():
    lines = _plan_lines()
    assert _problems([("x", "沪昆", "FYP 243–256", ["沪昆"])], lines)
    assert not _problems([("x", "沪苏湖", "FYP 246", ["沪苏湖"])], lines)


def _problems(cited: list[Cited], lines: list[str]) -> list[str]:
    out = []
    for where, entry, text, terms in cited:
        wanted = [_norm(t) for t in terms if _norm(t)]
        for a, b in ranges(text):
            body = _norm("".join(lines[a - 1:b]))
            if not any(t in body for t in wanted):
                out.append(f"{where} · {entry} · FYP {a}–{b}: none of {wanted[:6]} in those lines")
    return out


def test_every_cited_range_contains_what_it_is_cited_for():
    problems = _problems(all_cited(), _plan_lines())
    assert not problems, "\n" + "\n".join(problems)
