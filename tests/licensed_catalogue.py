"""A licensed-style catalogue unlike the shipped one, with a matching synthetic benchmark and clients.

What differs from data/catalogue/ (the auditor's view: another folder, no code change):
39 indicators (three new: a share, an ordinal, a yes/no), three renamed ids with `old_ids`
(the age indicator among them, found by its role), a renamed dimension, 34 Gold quality
criteria, anonymity floor 8, 2 Silver improvement areas of which 1 must improve, Silver timing
2 to 3 years, one commentary rule switched off (naming a dimension that does not exist).
All of it is fictional and built in the test's temporary folder.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
RENAMED = {"committed_members": "member_organisations", "media_mentions": "press_mentions",
           "org_age": "age_years"}
NEW_DIMENSION = ("achievements", "results")
NEW = [
    {"id": "digital_service_share", "dimension": "services", "kind": "share", "min": 0, "max": 100,
     "name": {"en": "Share of services delivered digitally", "nl": "Aandeel digitaal geleverde diensten"},
     "unit": {"en": "%", "nl": "%"}, "direction": "higher", "weight": 1.0},
    {"id": "innovation_maturity", "dimension": "interaction", "kind": "ordinal", "min": 1, "max": 4,
     "name": {"en": "Maturity of the innovation process", "nl": "Volwassenheid van het innovatieproces"},
     "unit": {"en": "level 1-4", "nl": "niveau 1-4"}, "direction": "higher", "weight": 1.0,
     "levels": {1: {"en": "ad hoc", "nl": "ad hoc"}, 2: {"en": "repeatable", "nl": "herhaalbaar"},
                3: {"en": "defined", "nl": "vastgelegd"}, 4: {"en": "measured", "nl": "gemeten"}}},
    {"id": "sustainability_report", "dimension": NEW_DIMENSION[1], "kind": "yes_no", "min": 0, "max": 1,
     "name": {"en": "Sustainability report published", "nl": "Duurzaamheidsverslag gepubliceerd"},
     "unit": {"en": "yes/no", "nl": "ja/nee"}, "direction": "higher", "weight": 1.0},
]
NEW_QUALITY = [
    {"id": "q32", "indicator": "digital_service_share", "op": ">=", "threshold": 30, "target": 70},
    {"id": "q33", "indicator": "innovation_maturity", "op": ">=", "threshold": 2, "target": 4},
    {"id": "q34", "indicator": "sustainability_report", "op": ">=", "threshold": 1, "target": 1},
]
FLOOR = 8
SILVER_AREAS = 2
GAP = {"min": 2, "max": 3}


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _dump(path: Path, data) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8")


def _rename(value):
    """Every reference to a renamed indicator or the renamed dimension, in any YAML structure."""
    if isinstance(value, dict):
        return {_rename(k) if isinstance(k, str) else k: _rename(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v) for v in value]
    if isinstance(value, str):
        return RENAMED.get(value, NEW_DIMENSION[1] if value == NEW_DIMENSION[0] else value)
    return value


def build_catalogue(target: Path) -> Path:
    """Write the licensed-style catalogue folder to `target` and return it."""
    shutil.copytree(DATA / "catalogue", target)
    ind = _load(target / "indicators.yaml")
    ind["catalogue"] = "licensed-cluster-benchmark"
    ind["version"] = "2027.1-test"
    for d in ind["dimensions"]:
        if d["id"] == NEW_DIMENSION[0]:
            d["id"] = NEW_DIMENSION[1]
            d["name"] = {"en": "Results and impact", "nl": "Resultaten en impact"}
    for i in ind["indicators"]:
        if i["id"] in RENAMED:
            i["old_ids"] = [i["id"]]
            i["id"] = RENAMED[i["id"]]
        if i["dimension"] == NEW_DIMENSION[0]:
            i["dimension"] = NEW_DIMENSION[1]
    for new in NEW:
        ind["indicators"].append({**new, "question": {"en": f"{new['name']['en']}?", "nl": f"{new['name']['nl']}?"},
                                  "description": {"en": "Fictional test indicator.", "nl": "Fictieve testindicator."}})
    _dump(target / "indicators.yaml", ind)

    labels = _rename(_load(target / "labels.yaml"))
    labels["version"] = "2027.1-test"
    labels["gold"]["quality"] += NEW_QUALITY
    labels["silver"]["improvement_areas"] = SILVER_AREAS
    labels["silver"]["min_areas_improved"] = 1
    labels["silver"]["earlier_audit_gap_years"] = dict(GAP)
    _dump(target / "labels.yaml", labels)

    peers = _load(target / "peer_groups.yaml")
    peers["anonymity_floor"] = FLOOR
    _dump(target / "peer_groups.yaml", peers)

    rules = _rename(_load(target / "commentary_rules.yaml"))
    # switched off, and naming a dimension this catalogue does not have: not checked
    rules["rules"]["service_gap"] = {"enabled": False, "strong_dimension": "no_such_dimension"}
    _dump(target / "commentary_rules.yaml", rules)
    _dump(target / "actions.yaml", _rename(_load(target / "actions.yaml")))
    return target


def generator():
    """data/benchmark/generate.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("benchmark_generate", DATA / "benchmark" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_benchmark(catalogue_dir: Path, out: Path, n: int = 500) -> Path:
    """A small synthetic benchmark matching the catalogue (the shipped generator, parametrised)."""
    gen = generator()
    return gen.write(gen.generate(n, gen.DEFAULT_SEED, catalogue_dir), out, gen.DEFAULT_SEED, catalogue_dir)


def _answers(catalogue_dir: Path, old_ids: bool, scale: float) -> dict:
    ind = _load(catalogue_dir / "indicators.yaml")
    answers = {}
    for i in ind["indicators"]:
        if i["kind"] == "yes_no":
            v = 1
        elif i["kind"] == "ordinal":
            v = int(i["min"]) + (int(i["max"]) - int(i["min"])) // 2
        elif i["kind"] == "share":
            v = round(40 * scale)
        else:
            v = round(min(float(i["max"]), 12 * scale))
        key = i["old_ids"][0] if old_ids and i.get("old_ids") else i["id"]
        answers[key] = None if i.get("role") == "org_age" else v      # the age follows from the years
    return answers


def write_client(clients_dir: Path, client_id: str, catalogue_dir: Path, *, old_ids: bool = False,
                 earlier_year: int | None = None, notes: dict | None = None) -> Path:
    """A fictional client folder; `old_ids` writes every renamed indicator under its former id."""
    folder = clients_dir / client_id
    folder.mkdir(parents=True)
    profile = {"name": f"Test Cluster {client_id}", "country": "DE", "field": "ict", "founding_year": 2010,
               "benchmark_year": 2026, "region": "Testland", "contact": "manager@example.org"}
    _dump(folder / "questionnaire.yaml", {"profile": profile, "answers": _answers(catalogue_dir, old_ids, 1.5)})
    if earlier_year is not None:
        (folder / "earlier").mkdir()
        _dump(folder / "earlier" / f"{earlier_year}.yaml",
              {"profile": {**profile, "benchmark_year": earlier_year}, "answers": _answers(catalogue_dir, old_ids,
                                                                                           1.0)})
    if notes is not None:
        _dump(folder / "notes.yaml", notes)
    return folder
